"""Reading a workload's SQL with sqlglot: which columns each statement uses, and how.

Statements come with ``:variables`` (pgbench scripts) or ``$n`` (pg_stat_statements; rewritten to
placeholders because sqlglot 30 cannot tokenize ``$1,$2``). Columns are resolved to
``schema.table.column`` through aliases, CTEs and subqueries with sqlglot's ``qualify`` and
``traverse_scope``, given the database's catalog. Each use is classified:

- ``equality``, ``range``, ``in``, ``is_null``, ``is_not_null``, ``like_prefix``: btree-able;
- ``join`` (a column compared with another table's), ``order_by`` (with direction), ``group_by``,
  ``projected`` (read by the select list: INCLUDE material), ``set`` (written by an UPDATE/INSERT);
- ``contains`` (jsonb/array ``@>``, ``?``, ``?|``, ``?&``, text search ``@@``), ``contained``
  (``<@``), ``overlaps`` (``&&``), ``pattern`` (``LIKE '%x%'``, ``ILIKE``, regular expressions),
  ``distance`` (``ORDER BY col <-> value``): GIN, GiST or trigram material;
- ``constant``, ``constant_neq``: a column compared with a literal (``status = 'paid'``): possible
  partial-index predicates, judged later with the column's statistics (see ``candidates``);
- ``expression_ref``: a column read inside an indexable expression.

A filter on an expression of one table's columns (``lower(email) = :e``,
``date_trunc('day', created_at) = ...``, ``payload ->> 'kind' = 'x'``) becomes a use whose
``column`` is the parenthesised expression (``(lower(email))``), with the columns it reads in
``refs``. Conditions no index can serve (``OR``, ``<>``, two columns of one table, a function of a
parameter only) are listed in ``unindexable`` with the reason, so a statement the advisor cannot
help is explained. A statement sqlglot cannot read is kept with its error and skipped.

>>> stmt = read_statement("recent", "SELECT id FROM orders.orders o WHERE o.customer_id = :cid "
...                       "ORDER BY o.created_at DESC LIMIT 10")
>>> [(u.column, u.use) for u in stmt.uses]
[('customer_id', 'equality'), ('created_at', 'order_by'), ('id', 'projected')]
>>> [(u.column, u.refs) for u in read_statement("s", "SELECT id FROM a.c WHERE lower(email) = :e"
...                                              ).on("a.c", "equality")]
[('(lower(email))', ('email',))]
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import traverse_scope

from workbench.errors import WorkbenchError

Catalog = dict[str, dict[str, str]]  # "schema.table" -> {column: type}

_CONTAINS = (exp.ArrayContainsAll, exp.JSONBContains, exp.JSONBContainsTopKey,
             exp.JSONBContainsAnyTopKeys, exp.JSONBContainsAllTopKeys)
_PATTERN = (exp.ILike, exp.RegexpLike, exp.RegexpILike)


@dataclass(frozen=True)
class ColumnUse:
    """One use of a column (or of an expression over one table's columns) by a statement."""

    table: str  # "schema.table"
    column: str  # a column name, or "(expression)"
    use: str
    value: str | None = None  # the literal of a constant predicate
    descending: bool = False
    refs: tuple[str, ...] = ()  # the columns an expression reads

    @property
    def is_expression(self) -> bool:
        """True for a use of an expression (``column`` is its parenthesised text)."""
        return self.column.startswith("(")

    def columns(self) -> tuple[str, ...]:
        """The table columns this use reads."""
        return self.refs if self.is_expression else (self.column,)


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
    unindexable: list[str] = field(default_factory=list)  # "condition: why no index serves it"

    def on(self, table: str, *uses: str) -> list[ColumnUse]:
        """The uses of one table, of the given kinds (all kinds when none given)."""
        return [u for u in self.uses if u.table == table and (not uses or u.use in uses)]

    def written_columns(self) -> frozenset[str]:
        """Columns an UPDATE sets (an INSERT's columns are not a HOT question)."""
        return frozenset(u.column for u in self.uses if u.use == "set") \
            if self.kind == "update" else frozenset()


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
    stmt.kind = tree.key
    if isinstance(tree, (exp.Insert, exp.Update, exp.Delete)):
        target = tree.this if not isinstance(tree.this, exp.Schema) else tree.this.this
        if isinstance(target, exp.Table):
            stmt.writes = _table_name(target)
            stmt.tables.add(stmt.writes)
    try:
        for scope in traverse_scope(tree):
            _read_scope(scope, stmt, text)
    except Exception as exc:  # noqa: BLE001
        stmt.error = f"cannot resolve columns: {type(exc).__name__}: {str(exc)[:160]}"
        return stmt
    if isinstance(tree, (exp.Update, exp.Delete)) and stmt.writes and tree.args.get("where"):
        _read_dml_where(tree, stmt, text)
    if isinstance(tree, exp.Update):
        for eq in tree.expressions:
            if isinstance(eq, exp.EQ) and isinstance(eq.this, exp.Column) and stmt.writes:
                stmt.uses.append(ColumnUse(stmt.writes, eq.this.name, "set"))
    if isinstance(tree, exp.Insert) and isinstance(tree.this, exp.Schema) and stmt.writes:
        for col in tree.this.expressions:
            stmt.uses.append(ColumnUse(stmt.writes, col.name, "set"))
    stmt.uses = list(dict.fromkeys(stmt.uses))
    stmt.unindexable = list(dict.fromkeys(stmt.unindexable))
    return stmt


def read_queries(text: str, stem: str = "queries") -> list[tuple[str, str, float]]:
    """(name, sql, weight) of every statement of a ``--queries`` file.

    A line ``-- weight: N`` (N > 0, e.g. calls per minute) weighs the statement that follows it;
    statements without one weigh 1. Names are ``<stem>.<n>`` in file order.

    >>> read_queries("-- weight: 40\\nSELECT 1;\\nSELECT 2;\\n-- weight: 0.5\\nSELECT 3;", "q")
    [('q.1', 'SELECT 1', 40.0), ('q.2', 'SELECT 2', 1.0), ('q.3', 'SELECT 3', 0.5)]
    """
    from workbench.loader import split_statements

    out: list[tuple[str, str, float]] = []
    parts = _WEIGHT_LINE.split(text)  # [head, weight, segment, weight, segment, ...]
    segments = [(None, parts[0])] + list(zip(parts[1::2], parts[2::2], strict=True))
    for raw, segment in segments:
        weight = _weight(raw) if raw is not None else None
        for index, statement in enumerate(split_statements(segment)):
            out.append((f"{stem}.{len(out) + 1}", statement,
                        weight if index == 0 and weight is not None else 1.0))
    return out


_WEIGHT_LINE = re.compile(r"^[ \t]*--[ \t]*weight[ \t]*:[ \t]*(\S*)[^\n]*$", re.I | re.M)


def _weight(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise WorkbenchError(f"bad weight comment '-- weight: {raw}'",
                             "write '-- weight: N' with a positive number N before a statement")
    return value


# -- classification ------------------------------------------------------------------------------

Add = Callable[..., None]


def _read_scope(scope: Any, stmt: WorkloadStatement, source: str) -> None:
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

    uses = _Uses(stmt, resolve, source)
    conditions = [node.args.get("where")] + [j.args.get("on") for j in node.args.get("joins") or []]
    for cond in filter(None, conditions):
        for pred in _conjuncts(cond.this if isinstance(cond, exp.Where) else cond):
            _classify(pred, uses)
    order = node.args.get("order")
    if order:
        for item in order.expressions:
            uses.order(item.this, bool(item.args.get("desc")))
    group = node.args.get("group")
    if group:
        for item in group.expressions:
            uses.add(item, "group_by")
    if node.args.get("limit"):
        stmt.limit = True
    if isinstance(node, exp.Select):
        for projection in node.expressions:
            for col in projection.find_all(exp.Column):
                uses.add(col, "projected")


def _read_dml_where(tree: exp.Expression, stmt: WorkloadStatement, source: str) -> None:
    """UPDATE/DELETE conditions on the written table (sqlglot's scopes do not visit them)."""
    target = stmt.writes or ""
    alias = tree.this.alias_or_name if isinstance(tree.this, exp.Table) else ""

    def resolve(col: exp.Column) -> str | None:
        return target if not col.table or col.table in (alias, target.split(".")[1]) else None

    uses = _Uses(stmt, resolve, source)
    for pred in _conjuncts(tree.args["where"].this):
        _classify(pred, uses)


class _Uses:
    """Records uses of columns and expressions of one scope."""

    def __init__(self, stmt: WorkloadStatement, resolve: Callable[[exp.Column], str | None],
                 source: str) -> None:
        self.stmt, self.resolve, self.source = stmt, resolve, source

    def add(self, col: exp.Expression, use: str, value: str | None = None,
            desc: bool = False) -> bool:
        if isinstance(col, exp.Column):
            table = self.resolve(col)
            if table:
                self.stmt.uses.append(ColumnUse(table, col.name, use, value, desc))
                return True
        return False

    def table_of(self, node: exp.Expression) -> str | None:
        """The one table whose columns an expression reads (None: none, several or unknown)."""
        tables = {self.resolve(c) for c in node.find_all(exp.Column)}
        return next(iter(tables)) if len(tables) == 1 and None not in tables else None

    def expression(self, node: exp.Expression, use: str, desc: bool = False) -> bool:
        """A use of an indexable expression over one table's columns."""
        if isinstance(node, exp.Paren):
            return self.expression(node.this, use, desc)
        table = self.table_of(node)
        if not table or list(node.find_all(exp.Placeholder, exp.Subquery, exp.Select, exp.AggFunc)):
            return False
        refs = tuple(dict.fromkeys(c.name for c in node.find_all(exp.Column)))
        text = f"({index_expression(node, self.source)})"
        self.stmt.uses.append(ColumnUse(table, text, use, None, desc, refs))
        for column in refs:
            self.stmt.uses.append(ColumnUse(table, column, "expression_ref"))
        return True

    def order(self, node: exp.Expression, desc: bool) -> None:
        if isinstance(node, exp.Distance) and isinstance(node.this, exp.Column) \
                and _is_value(node.expression):
            self.add(node.this, "distance")
        elif not self.add(node, "order_by", desc=desc):
            self.expression(node, "order_by", desc)

    def note(self, pred: exp.Expression, why: str) -> None:
        self.stmt.unindexable.append(f"{pred.sql(dialect='postgres')[:120]}: {why}")


def _is_value(e: exp.Expression) -> bool:
    return not list(e.find_all(exp.Column))


def _constant(e: exp.Expression) -> str | None:
    if isinstance(e, (exp.Literal, exp.Boolean, exp.Null)):
        return e.sql(dialect="postgres")
    if isinstance(e, exp.Cast) and isinstance(e.this, exp.Literal):
        return e.sql(dialect="postgres")
    return None


def _classify(pred: exp.Expression, uses: _Uses) -> None:  # noqa: C901 - one case per operator
    if isinstance(pred, exp.Paren):
        for inner in _conjuncts(pred.this):
            _classify(inner, uses)
    elif isinstance(pred, exp.EQ):
        _equality(pred, uses)
    elif isinstance(pred, exp.NEQ):
        col, other = _column_side(pred)
        value = _constant(other) if col is not None and other is not None else None
        if col is None or value is None or not uses.add(col, "constant_neq", value):
            uses.note(pred, "<> matches most rows: no index range serves it")
    elif isinstance(pred, (exp.GT, exp.GTE, exp.LT, exp.LTE)):
        _comparison(pred, uses)
    elif isinstance(pred, exp.Between):
        if not (uses.add(pred.this, "range") or uses.expression(pred.this, "range")):
            uses.note(pred, "BETWEEN on no column of one table")
    elif isinstance(pred, exp.In):
        if not (uses.add(pred.this, "in") or uses.expression(pred.this, "in")):
            uses.note(pred, "IN on no column of one table")
    elif isinstance(pred, exp.Is) and isinstance(pred.expression, exp.Null):
        use = "is_not_null" if pred.args.get("negate") else "is_null"
        if not uses.add(pred.this, use):
            uses.note(pred, "IS NULL on an expression")
    elif isinstance(pred, exp.Not) and isinstance(pred.this, (exp.Paren, exp.Is)):
        inner = pred.this.this if isinstance(pred.this, exp.Paren) else pred.this
        if isinstance(inner, exp.Is) and isinstance(inner.expression, exp.Null):
            uses.add(inner.this, "is_not_null")
        else:
            uses.note(pred, "a negated condition matches most rows")
    elif isinstance(pred, exp.Not) and isinstance(pred.this, exp.Column):
        uses.add(pred.this, "constant", "FALSE")
    elif isinstance(pred, exp.Column):
        uses.add(pred, "constant", "TRUE")
    elif isinstance(pred, exp.Like):
        _like(pred, uses)
    elif isinstance(pred, _PATTERN):
        if not uses.add(pred.this, "pattern"):
            uses.note(pred, "pattern match on an expression")
    elif isinstance(pred, _CONTAINS):
        if not uses.add(pred.this, "contains"):
            uses.note(pred, "containment on an expression")
    elif isinstance(pred, exp.MatchAgainst):
        for col in pred.expressions:
            uses.add(col, "contains")
    elif isinstance(pred, exp.ArrayContainedBy):
        if not uses.add(pred.this, "contained"):
            uses.note(pred, "<@ on an expression")
    elif isinstance(pred, exp.ArrayOverlaps):
        if not uses.add(pred.this, "overlaps"):
            uses.note(pred, "&& on an expression")
    elif isinstance(pred, exp.Or):
        uses.note(pred, "OR of conditions: one index cannot serve both branches")
    elif list(pred.find_all(exp.Column)):
        uses.note(pred, "no index operator applies")


def _column_side(pred: exp.Binary) -> tuple[exp.Column | None, exp.Expression | None]:
    for col, other in ((pred.this, pred.expression), (pred.expression, pred.this)):
        if isinstance(col, exp.Column) and _is_value(other):
            return col, other
    return None, None


def _equality(pred: exp.EQ, uses: _Uses) -> None:
    left, right = pred.this, pred.expression
    if isinstance(left, exp.Column) and isinstance(right, exp.Column):
        if uses.resolve(left) != uses.resolve(right):
            uses.add(left, "join")
            uses.add(right, "join")
        else:
            uses.note(pred, "compares two columns of the same table")
        return
    col, other = _column_side(pred)
    if col is not None and other is not None:
        value = _constant(other)
        if value is not None:
            uses.add(col, "constant", value)
        uses.add(col, "equality", value)
        return
    for side, other in ((left, right), (right, left)):
        if _is_value(other) and not _is_value(side) and uses.expression(side, "equality"):
            return
    if isinstance(left, exp.Column) and not isinstance(right, exp.Column) \
            and uses.table_of(right) and uses.table_of(right) != uses.resolve(left):
        uses.add(left, "join")  # a join on an expression of the other side
        return
    uses.note(pred, "compares expressions of several tables")


def _comparison(pred: exp.Binary, uses: _Uses) -> None:
    for col, other in ((pred.this, pred.expression), (pred.expression, pred.this)):
        if not _is_value(other):
            continue
        if isinstance(col, exp.Distance) and isinstance(col.this, exp.Column):
            uses.add(col.this, "distance")
            return
        if uses.add(col, "range") or uses.expression(col, "range"):
            return
    uses.note(pred, "a comparison between columns")


def _like(pred: exp.Like, uses: _Uses) -> None:
    pattern = pred.expression
    first = pattern
    while isinstance(first, exp.DPipe):
        first = first.this
    prefix = isinstance(first, exp.Literal) and first.is_string and first.this \
        and not first.this.startswith(("%", "_"))
    if isinstance(pred.this, exp.Column):
        uses.add(pred.this, "like_prefix" if prefix else "pattern")
    elif not (prefix and uses.expression(pred.this, "like_prefix")):
        uses.note(pred, "LIKE on an expression without a fixed prefix")


def _conjuncts(cond: exp.Expression) -> list[exp.Expression]:
    if isinstance(cond, exp.And):
        return _conjuncts(cond.this) + _conjuncts(cond.expression)
    return [cond]


# -- expressions as index keys -------------------------------------------------------------------

def index_expression(node: exp.Expression, source: str) -> str:
    """An expression's text for ``CREATE INDEX ... ((expr))``: its own text in the statement when
    that reads back to the same tree (PostgreSQL matches index expressions by parse tree, and
    sqlglot rewrites some, e.g. ``date_trunc('day', x)`` to ``DATE_TRUNC('DAY', x)``), else
    sqlglot's rendering; column qualifiers removed either way.

    >>> tree = sqlglot.parse_one("SELECT 1 FROM t c WHERE date_trunc('day', c.at) = '2024-01-01'",
    ...                          read="postgres")
    >>> index_expression(tree.find(exp.TimestampTrunc), "SELECT 1 FROM t c WHERE "
    ...                  "date_trunc('day', c.at) = '2024-01-01'")
    "date_trunc('day', at)"
    """
    bare = _unqualified(node)
    original = _original_text(node, source)
    if original is not None:
        try:
            if _unqualified(sqlglot.parse_one(original, read="postgres")) == bare:
                return original
        except Exception:  # noqa: BLE001, S110 - any parse failure: use the rendering
            pass
    return bare.sql(dialect="postgres")


def _unqualified(node: exp.Expression) -> exp.Expression:
    copy = node.copy()
    for col in copy.find_all(exp.Column):
        for part in ("table", "db", "catalog"):
            col.set(part, None)
    return copy


def _original_text(node: exp.Expression, source: str) -> str | None:
    spans: list[tuple[int, int]] = []
    cut: list[tuple[int, int]] = []
    for sub in node.walk():
        if isinstance(sub, exp.Column):
            ident = sub.this
            if isinstance(ident, exp.Identifier) and ident.meta.get("end") is not None:
                spans.append((ident.meta["start"], ident.meta["end"]))
                qual = sub.args.get("table")
                if isinstance(qual, exp.Identifier) and qual.meta.get("end") is not None \
                        and source[qual.meta["end"] + 1: ident.meta["start"]].strip() == ".":
                    cut.append((qual.meta["start"], ident.meta["start"]))
        elif not isinstance(sub, exp.Identifier) and sub.meta.get("end") is not None:
            spans.append((sub.meta["start"], sub.meta["end"]))
    if not spans:
        return None
    start, end = min(s for s, _ in spans), max(e for _, e in spans) + 1
    text = source[start:end]
    depth = _depth(text)
    while depth > 0:
        rest = source[end:]
        stripped = rest.lstrip()
        if not stripped.startswith(")"):
            return None
        end += len(rest) - len(stripped) + 1
        depth -= 1
    out, at = [], start
    for a, b in sorted(c for c in cut if start <= c[0] and c[1] <= end):
        out.append(source[at:a])
        at = b
    out.append(source[at:end])
    return "".join(out).strip() or None


def _depth(text: str) -> int:
    depth, quoted = 0, False
    for ch in text:
        if ch == "'":
            quoted = not quoted
        elif not quoted:
            depth += (ch == "(") - (ch == ")")
    return depth


# -- names and the catalog -----------------------------------------------------------------------

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
