"""Reading a workload's SQL with sqlglot: which columns each statement uses, and how.

Statements come with ``:variables`` (pgbench scripts) or ``$n`` (pg_stat_statements; rewritten to
placeholders because sqlglot 30 cannot tokenize ``$1,$2``). Columns are resolved to
``schema.table.column`` through aliases, CTEs and subqueries with sqlglot's ``qualify`` and
``traverse_scope``, given the database's catalog. Each use is classified: equality, range, in,
is_null, like_prefix, join, order_by (with direction), group_by, projected, contains (jsonb ``@>``
/ ``?``), constant (a literal compared by equality: a partial-index predicate), set (written).
A statement sqlglot cannot read is kept with its error and skipped by the advisor.

>>> stmt = read_statement("recent", "SELECT id FROM orders.orders o WHERE o.customer_id = :cid "
...                       "ORDER BY o.created_at DESC LIMIT 10", catalog=CATALOG)   # doctest: +SKIP
>>> [(u.column, u.use) for u in stmt.uses]                                          # doctest: +SKIP
[('customer_id', 'equality'), ('created_at', 'order_by'), ('id', 'projected')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import traverse_scope

Catalog = dict[str, dict[str, str]]  # "schema.table" -> {column: type}


@dataclass(frozen=True)
class ColumnUse:
    """One use of a column by a statement."""

    table: str  # "schema.table"
    column: str
    use: str
    value: str | None = None  # the literal of a constant predicate
    descending: bool = False


@dataclass
class WorkloadStatement:
    """A statement as the advisor reads it."""

    name: str
    sql: str
    weight: float = 1.0
    kind: str = "select"
    tables: set[str] = field(default_factory=set)
    uses: list[ColumnUse] = field(default_factory=list)
    limit: bool = False
    writes: str | None = None
    error: str | None = None

    def on(self, table: str, *uses: str) -> list[ColumnUse]:
        """The uses of one table, of the given kinds (all kinds when none given)."""
        return [u for u in self.uses if u.table == table and (not uses or u.use in uses)]


def read_statement(name: str, sql: str, *, weight: float = 1.0, catalog: Catalog | None = None
                   ) -> WorkloadStatement:
    """Parse one statement and classify its column uses; errors are kept, never raised."""
    stmt = WorkloadStatement(name, sql, weight)
    text = _placeholders(sql)
    try:
        tree = sqlglot.parse_one(text, read="postgres")
        schema = _schema_arg(catalog or {})
        tree = qualify(tree, schema=schema, dialect="postgres", validate_qualify_columns=False,
                       quote_identifiers=False, expand_stars=False)
    except SqlglotError as exc:
        stmt.error = f"sqlglot cannot read it: {str(exc).splitlines()[0][:160]}"
        return stmt
    except Exception as exc:  # noqa: BLE001 - sqlglot raises assorted errors on odd input
        stmt.error = f"sqlglot cannot read it: {type(exc).__name__}: {str(exc)[:160]}"
        return stmt
    stmt.kind = tree.key if tree.key in ("select", "insert", "update", "delete") else tree.key
    if isinstance(tree, (exp.Insert, exp.Update, exp.Delete)):
        target = tree.this if not isinstance(tree.this, exp.Schema) else tree.this.this
        if isinstance(target, exp.Table):
            stmt.writes = _table_name(target)
            stmt.tables.add(stmt.writes)
    try:
        for scope in traverse_scope(tree):
            _read_scope(scope, stmt)
    except Exception as exc:  # noqa: BLE001
        stmt.error = f"cannot resolve columns: {type(exc).__name__}: {str(exc)[:160]}"
        return stmt
    if isinstance(tree, (exp.Update, exp.Delete)) and stmt.writes and tree.args.get("where"):
        _read_dml_where(tree, stmt)
    if isinstance(tree, exp.Update):
        for eq in tree.expressions:
            if isinstance(eq, exp.EQ) and isinstance(eq.this, exp.Column) and stmt.writes:
                stmt.uses.append(ColumnUse(stmt.writes, eq.this.name, "set"))
    if isinstance(tree, exp.Insert) and isinstance(tree.this, exp.Schema) and stmt.writes:
        for col in tree.this.expressions:
            stmt.uses.append(ColumnUse(stmt.writes, col.name, "set"))
    stmt.uses = list(dict.fromkeys(stmt.uses))
    return stmt


def _read_scope(scope: Any, stmt: WorkloadStatement) -> None:
    tables = {alias: _table_name(src) for alias, src in scope.sources.items()
              if isinstance(src, exp.Table)}
    stmt.tables.update(tables.values())
    node = scope.expression

    def resolve(col: exp.Column) -> str | None:
        if col.table in tables:
            return tables[col.table]
        if not col.table and len(tables) == 1:
            return next(iter(tables.values()))
        return None

    def add(col: exp.Expression, use: str, value: str | None = None, desc: bool = False) -> None:
        if isinstance(col, exp.Column):
            table = resolve(col)
            if table:
                stmt.uses.append(ColumnUse(table, col.name, use, value, desc))

    conditions = [node.args.get("where")] + [j.args.get("on") for j in node.args.get("joins") or []]
    for cond in filter(None, conditions):
        for pred in _conjuncts(cond.this if isinstance(cond, exp.Where) else cond):
            _classify(pred, add, resolve)
    order = node.args.get("order")
    if order:
        for item in order.expressions:
            add(item.this, "order_by", desc=bool(item.args.get("desc")))
    group = node.args.get("group")
    if group:
        for item in group.expressions:
            add(item, "group_by")
    if node.args.get("limit"):
        stmt.limit = True
    if isinstance(node, exp.Select):
        for projection in node.expressions:
            for col in projection.find_all(exp.Column):
                add(col, "projected")


def _read_dml_where(tree: exp.Expression, stmt: WorkloadStatement) -> None:
    """UPDATE/DELETE conditions on the written table (sqlglot's scopes do not visit them)."""
    target = stmt.writes
    alias = tree.this.alias_or_name if isinstance(tree.this, exp.Table) else ""

    def resolve(col: exp.Column) -> str | None:
        return target if not col.table or col.table in (alias, target.split(".")[1]) else None

    def add(col: exp.Expression, use: str, value: str | None = None, desc: bool = False) -> None:
        if isinstance(col, exp.Column) and resolve(col) and target:
            stmt.uses.append(ColumnUse(target, col.name, use, value, desc))

    for pred in _conjuncts(tree.args["where"].this):
        _classify(pred, add, resolve)


def _classify(pred: exp.Expression, add: Any, resolve: Any) -> None:
    def is_value(e: exp.Expression) -> bool:
        return not list(e.find_all(exp.Column))

    def constant(e: exp.Expression) -> str | None:
        if isinstance(e, exp.Literal) or (isinstance(e, exp.Cast) and isinstance(e.this, exp.Literal)):
            return e.sql(dialect="postgres")
        if isinstance(e, (exp.Boolean, exp.Null)):
            return e.sql(dialect="postgres")
        return None

    if isinstance(pred, exp.EQ):
        left, right = pred.this, pred.expression
        if isinstance(left, exp.Column) and isinstance(right, exp.Column) and \
                resolve(left) != resolve(right):
            add(left, "join")
            add(right, "join")
            return
        for col, other in ((left, right), (right, left)):
            if isinstance(col, exp.Column) and is_value(other):
                value = constant(other)
                add(col, "constant" if value is not None else "equality", value)
                if value is not None:
                    add(col, "equality")
        return
    if isinstance(pred, (exp.GT, exp.GTE, exp.LT, exp.LTE)):
        for col, other in ((pred.this, pred.expression), (pred.expression, pred.this)):
            if isinstance(col, exp.Column) and is_value(other):
                add(col, "range")
        return
    if isinstance(pred, exp.Between):
        add(pred.this, "range")
        return
    if isinstance(pred, exp.In):
        add(pred.this, "in")
        return
    if isinstance(pred, exp.Is) and isinstance(pred.expression, exp.Null):
        add(pred.this, "is_null")
        return
    if isinstance(pred, exp.Like) and isinstance(pred.expression, exp.Literal):
        pattern = pred.expression.this
        if pattern and not pattern.startswith(("%", "_")):
            add(pred.this, "like_prefix")
        return
    if isinstance(pred, (exp.ArrayContainsAll, exp.JSONBContainsTopKey, exp.JSONBContains)):
        add(pred.this, "contains")
        return
    if isinstance(pred, exp.Paren):
        for inner in _conjuncts(pred.this):
            _classify(inner, add, resolve)


def _conjuncts(cond: exp.Expression) -> list[exp.Expression]:
    if isinstance(cond, exp.And):
        return _conjuncts(cond.this) + _conjuncts(cond.expression)
    return [cond]


def _table_name(table: exp.Table) -> str:
    schema = table.args.get("db")
    name = table.name
    return f"{schema.name}.{name}" if schema is not None else f"public.{name}"


def _placeholders(sql: str) -> str:
    """``$1`` → ``:p1`` (sqlglot 30 cannot tokenize ``$1,$2``); ``:var`` stays a placeholder."""
    return re.sub(r"\$(\d+)", r":p\1", sql)


def _schema_arg(catalog: Catalog) -> dict[str, dict[str, dict[str, str]]]:
    nested: dict[str, dict[str, dict[str, str]]] = {}
    for name, columns in catalog.items():
        schema, table = name.split(".", 1)
        nested.setdefault(schema, {})[table] = dict(columns)
    return nested


def read_catalog(conn: Any) -> Catalog:
    """Columns and types of every user table, for qualifying column references."""
    rows = conn.execute(
        "SELECT table_schema || '.' || table_name, column_name, data_type "
        "FROM information_schema.columns "
        "WHERE table_schema NOT IN ('pg_catalog', 'information_schema', 'workbench') "
        "ORDER BY table_schema, table_name, ordinal_position"
    ).fetchall()
    catalog: Catalog = {}
    for table, column, kind in rows:
        catalog.setdefault(table, {})[column] = kind
    return catalog
