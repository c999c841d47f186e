"""pg_stat_statements' normalized statements as pgbench scripts: every ``$n`` gets a value drawn
from the distribution of the column it is compared with.

Statements are parsed by PostgreSQL's own parser (pglast). A parameter compared with a column
(``=``, ``<``, ``IN``, ``LIKE``, ``= ANY``, the two ends of a range) is drawn from that column's
model: hot values as often as pg_stats says they occur. An expression of parameters only (``$1 ||
$2``, ``$1::timestamptz + $2 * $3::interval``) counts as one value. A value written into a column
(``INSERT``, ``UPDATE ... SET``) is drawn from that column (a unique column gets a new value).
``LIMIT``/``OFFSET`` are fixed (pg_stat_statements keeps no constants), and a parameter that only
computes an output (``price * $2`` in a select list) gets a neutral value of its type (PREPARE on
the source says which). Anything else is listed with the reason it was left out.

>>> plan = parameterize(statement, catalog, types)     # doctest: +SKIP
>>> print(plan.script())                               # doctest: +SKIP
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pglast import ast, parse_sql
from pglast.enums import A_Expr_Kind, BoolExprType
from pglast.stream import RawStream

from workbench.errors import WorkbenchError
from workbench.importer.models import UNIT, ColumnModel
from workbench.importer.source import SourceStatement, SourceTable

FIRST_PLACEHOLDER = 10001
LIMIT_VALUE = 10
FRESH_RANGE = 999_999_999
_TYPED_PARAM = re.compile(
    r"\b(timestamp\s+with\s+time\s+zone|timestamp\s+without\s+time\s+zone|time\s+with\s+time\s+zone"
    r"|double\s+precision|character\s+varying|timestamptz|timestamp|timetz|time|date|interval"
    r"|numeric|decimal|bigint|smallint|integer|int[248]?|float[48]|real|boolean|bool|text|uuid"
    r"|jsonb|json|inet|cidr|bytea|varchar|char)\s+\$(\d+)\b", re.IGNORECASE)
_COMPARISONS = {"=", "<>", "!=", "<", "<=", ">", ">=", "~~", "~~*", "!~~", "!~~*"}
_RETURNING = ("returningList", "returningClause")  # pglast 7 / pglast 8 (PostgreSQL 18)
_LOWER = {">", ">="}
_UPPER = {"<", "<="}
_NEUTRAL = {
    "smallint": "1", "integer": "1", "bigint": "1", "numeric": "1", "real": "1",
    "double precision": "1", "text": "''", "character varying": "''", "boolean": "true",
    "date": "current_date", "timestamp with time zone": "now()",
    "timestamp without time zone": "localtimestamp", "interval": "interval '1 day'",
}


class NotParameterizable(Exception):
    """A statement the importer leaves out, with the reason."""


@dataclass
class Placeholder:
    """One value of a script's statement: the SQL that computes it, and where it comes from."""

    number: int
    sql: str                 # with pgbench :variables
    role: str                # draw, fresh, range-low, range-high, neutral, fixed
    column: str | None = None
    source: list[int] = field(default_factory=list)   # the $n it replaces

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form."""
        return {"sql": self.sql, "role": self.role, "column": self.column,
                "replaces": [f"${n}" for n in self.source]}


@dataclass
class ScriptPlan:
    """A statement turned into a pgbench script."""

    name: str
    statement: SourceStatement
    service: str
    tables: list[str]
    template: str                       # the statement with $10001... for the placeholders
    placeholders: list[Placeholder]
    sets: list[str]                     # \\set lines

    @property
    def sql(self) -> str:
        """The statement with its values (pgbench :variables inside)."""
        text = self.template
        for ph in sorted(self.placeholders, key=lambda p: -p.number):
            text = text.replace(f"${ph.number}", ph.sql)
        return text

    def script(self) -> str:
        """The pgbench script file."""
        st = self.statement
        lines = [f"-- {self.name}: imported from pg_stat_statements (queryid {st.queryid}, "
                 f"{st.calls:,} calls, mean {st.mean_ms:.3f} ms)"]
        lines += ["-- source: " + line for line in st.query.strip().splitlines()]
        for ph in sorted(self.placeholders, key=lambda p: (min(p.source, default=0), p.number)):
            source = ", ".join(f"${n}" for n in ph.source) or "-"
            lines.append(f"-- {source}: {_describe(ph)}")
        lines += self.sets
        lines.append(self.sql + ";")
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        """What import.json records."""
        st = self.statement
        return {"script": self.name, "queryid": st.queryid, "calls": st.calls,
                "mean_ms": round(st.mean_ms, 4), "service": self.service, "tables": self.tables,
                "source": st.query, "template": self.template,
                "placeholders": {str(p.number): p.to_json() for p in self.placeholders}}


def _describe(ph: Placeholder) -> str:
    return {
        "draw": f"drawn from {ph.column}",
        "fresh": f"a new value of {ph.column} (unique)",
        "range-low": f"start of a range over {ph.column} (one histogram bucket wide)",
        "range-high": f"end of a range over {ph.column}",
        "neutral": f"{ph.sql}: only computes an output, plans do not depend on it",
        "fixed": f"{ph.sql}: pg_stat_statements keeps no constants",
    }[ph.role]


@dataclass
class Catalog:
    """What parameterization needs to know: tables, their column models, their row variables."""

    tables: dict[str, SourceTable]
    models: dict[str, dict[str, ColumnModel]]     # table -> column -> model
    variables: dict[str, str]                     # table -> pgbench variable (n_<table>)

    def find(self, schema: str | None, name: str) -> str | None:
        """The imported table a (possibly unqualified) name refers to."""
        if schema:
            key = f"{schema}.{name}"
            return key if key in self.tables else None
        found = [k for k, t in self.tables.items() if t.name == name]
        return found[0] if len(found) == 1 else None


def repair(text: str) -> str:
    """pg_stat_statements replaces the string of a typed literal (``interval '1 day'``) by a
    parameter, which no longer parses (``interval $3``): write it as a cast (``$3::interval``).

    >>> repair("WHERE t >= timestamptz $1 + $2 * interval $3")
    'WHERE t >= $1::timestamptz + $2 * $3::interval'
    """
    return _TYPED_PARAM.sub(lambda m: f"${m.group(2)}::{' '.join(m.group(1).split())}", text)


_QUERIES = (ast.SelectStmt, ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt)


def referenced_tables(text: str, catalog: Catalog) -> list[str] | None:
    """Imported tables a query (SELECT, INSERT, UPDATE, DELETE) names; [] for utility statements
    and transaction control; None when the text does not parse."""
    try:
        tree = parse_sql(repair(text))
    except Exception:  # noqa: BLE001 - pglast raises its own ParseError and others
        return None
    if not tree or not isinstance(tree[0].stmt, _QUERIES):
        return []
    found = []
    for node in _walk(tree):
        if isinstance(node, ast.RangeVar):
            key = catalog.find(node.schemaname, node.relname)
            if key and key not in found:
                found.append(key)
    return found


def parameterize(statement: SourceStatement, catalog: Catalog, name: str,
                 types: Callable[[str], list[str]]) -> ScriptPlan:
    """A pgbench script for one statement, or NotParameterizable with the reason."""
    text = repair(statement.query)
    try:
        tree = parse_sql(text)
    except Exception as exc:  # noqa: BLE001
        raise NotParameterizable(f"does not parse: {str(exc).splitlines()[0]}") from None
    if len(tree) != 1:
        raise NotParameterizable("several statements in one entry")
    root = tree[0].stmt
    if not isinstance(root, _QUERIES):
        raise NotParameterizable(f"{type(root).__name__.removesuffix('Stmt')} is not a query "
                                 "of the workload (utility or transaction control)")
    try:
        param_types = types(text) if "$" in text else []
    except WorkbenchError:  # e.g. "$5 + $6": unknown types; only neutral values need them
        param_types = []
    builder = _Builder(catalog, param_types)
    builder.scan(root)
    root = builder.visit(root, "qual")
    left = [n.number for n in _walk(root) if isinstance(n, ast.ParamRef)
            and n.number < FIRST_PLACEHOLDER]
    if left:
        raise NotParameterizable(f"${left[0]} could not be given a value")
    template = RawStream()(root)
    service = builder.tables[0].split(".", 1)[0] if builder.tables else ""
    return ScriptPlan(name, statement, service, builder.tables, template, builder.placeholders,
                      builder.sets)


# -- the tree walk ---------------------------------------------------------------------------------


def _walk(node: Any) -> Any:
    """Every node under ``node`` (depth first)."""
    if isinstance(node, list | tuple):
        for item in node:
            yield from _walk(item)
        return
    if not isinstance(node, ast.Node):
        return
    yield node
    for attr in node.__slots__:
        value = getattr(node, attr, None)
        if isinstance(value, ast.Node | list | tuple):
            yield from _walk(value)


def _params(node: Any) -> list[int]:
    return [n.number for n in _walk(node) if isinstance(n, ast.ParamRef)]


def _param_only(node: Any) -> bool:
    """An expression of parameters and constants only, with at least one parameter."""
    allowed = (ast.ParamRef, ast.A_Const, ast.TypeCast, ast.A_Expr, ast.TypeName, ast.String,
               ast.Integer, ast.Float, ast.FuncCall, ast.A_ArrayExpr, ast.Boolean)
    nodes = list(_walk(node))
    return bool(nodes) and all(isinstance(n, allowed) for n in nodes) \
        and any(isinstance(n, ast.ParamRef) for n in nodes)


class _Builder:
    """Resolves columns, then replaces each parameter (or parameter-only expression) by a
    placeholder whose SQL draws its value."""

    def __init__(self, catalog: Catalog, types: list[str]) -> None:
        self.catalog = catalog
        self.types = types
        self.aliases: dict[str, str] = {}
        self.scopes: list[dict[str, str]] = []
        self.tables: list[str] = []
        self.ctes: set[str] = set()
        self.placeholders: list[Placeholder] = []
        self.sets: list[str] = []
        self.groups = 0

    # resolution ------------------------------------------------------------------------------

    def scan(self, root: Any) -> None:
        """Tables and aliases of the statement (imported tables get their schema written)."""
        for node in _walk(root):
            if isinstance(node, ast.CommonTableExpr):
                self.ctes.add(node.ctename)
        schemas = {"pg_catalog", *(t.split(".", 1)[0] for t in self.catalog.tables)}
        for node in _walk(root):
            if isinstance(node, ast.FuncCall) and len(node.funcname) > 1:
                schema = node.funcname[0].sval
                if schema not in schemas:
                    raise NotParameterizable(f"calls {schema}.{node.funcname[-1].sval}, which "
                                             "is not in the imported schemas")
            if not isinstance(node, ast.RangeVar):
                continue
            if not node.schemaname and node.relname in self.ctes:
                continue
            key = self.catalog.find(node.schemaname, node.relname)
            if key is None:
                shown = f"{node.schemaname}.{node.relname}" if node.schemaname else node.relname
                raise NotParameterizable(f"reads {shown}, which is not imported")
            node.schemaname = key.split(".", 1)[0]
            if key not in self.tables:
                self.tables.append(key)
            self.aliases[node.alias.aliasname if node.alias else node.relname] = key
            self.aliases.setdefault(key, key)

    def resolve(self, ref: ast.ColumnRef) -> tuple[str, str] | None:
        """(table, column) of a column reference, looked up from the innermost query level out,
        when it is an imported table's."""
        fields = [f.sval for f in ref.fields if isinstance(f, ast.String)]
        if len(fields) != len(ref.fields) or not fields:
            return None
        column = fields[-1]
        scopes = [*reversed(self.scopes), self.aliases]
        if len(fields) >= 2:
            names = (".".join(fields[:-1]), fields[-2])
            key = next((scope[n] for scope in scopes for n in names if n in scope), None)
            if key is None or not self.catalog.tables[key].column(column):
                return None
            return key, column
        for scope in scopes[:-1] or scopes:
            having = {t for t in scope.values() if self.catalog.tables[t].column(column)}
            if len(having) == 1:
                return having.pop(), column
            if having:
                return None  # ambiguous at this level
        return None

    def scope(self, *items: Any) -> dict[str, str]:
        """alias -> table of the FROM items of one query level (not of its subqueries)."""
        out: dict[str, str] = {}
        stack = [i for i in items if i is not None]
        while stack:
            node = stack.pop()
            if isinstance(node, list | tuple):
                stack.extend(node)
            elif isinstance(node, ast.RangeVar):
                key = self.catalog.find(node.schemaname, node.relname)
                if key:
                    out[node.alias.aliasname if node.alias else node.relname] = key
                    out.setdefault(key, key)
            elif isinstance(node, ast.JoinExpr):
                stack += [node.larg, node.rarg]
        return out

    def column_side(self, node: Any) -> tuple[tuple[str, str], Any] | None:
        """(table, column) and the expression around it, when ``node`` holds exactly one column
        reference and no parameter (``email``, ``lower(email)``, ``created_at::date``)."""
        if isinstance(node, list | tuple) or _params(node):
            return None
        refs = [n for n in _walk(node) if isinstance(n, ast.ColumnRef)]
        if len(refs) != 1 or any(isinstance(n, ast.SubLink | ast.A_Star) for n in _walk(node)):
            return None
        found = self.resolve(refs[0])
        return (found, node) if found else None

    # placeholders ----------------------------------------------------------------------------

    def _new(self, sql_text: str, role: str, column: str | None, source: list[int]) -> ast.ParamRef:
        number = FIRST_PLACEHOLDER + len(self.placeholders)
        self.placeholders.append(Placeholder(number, sql_text, role, column, source))
        return ast.ParamRef(number=number)

    def _model(self, table: str, column: str) -> ColumnModel:
        model = self.catalog.models.get(table, {}).get(column)
        if model is None or model.skipped:
            why = model.reason if model else "not generated"
            raise NotParameterizable(f"{table}.{column} has no generator ({why})")
        return model

    def _call(self, model: ColumnModel, table: str, u: str, p: str) -> str:
        n = f":{self.catalog.variables[table]}"
        m = f":{self.catalog.variables[model.parent_table]}" if model.parent_table else None
        return model.call(u, p, n, m)

    def _wrap(self, expression: Any, value_sql: str) -> str:
        """The column-side expression with its column replaced by the drawn value."""
        if isinstance(expression, ast.ColumnRef):
            return value_sql
        copied = copy.deepcopy(expression)
        marker = ast.ParamRef(number=99999)
        self._replace_columns(copied, marker)
        return RawStream()(copied).replace("$99999", value_sql)

    def _replace_columns(self, node: Any, marker: ast.ParamRef) -> None:
        for attr in node.__slots__:
            value = getattr(node, attr, None)
            if isinstance(value, ast.ColumnRef):
                setattr(node, attr, marker)
            elif isinstance(value, ast.Node):
                self._replace_columns(value, marker)
            elif isinstance(value, list | tuple):
                setattr(node, attr, tuple(marker if isinstance(v, ast.ColumnRef) else
                                          (self._replace_columns(v, marker) or v)
                                          if isinstance(v, ast.Node) else v for v in value))

    def draw(self, found: tuple[str, str], around: Any, params: Any, *, fresh: bool = False
             ) -> ast.ParamRef:
        """A value drawn from the column's distribution (or a new one for a unique column)."""
        table, column = found
        model = self._model(table, column)
        self.groups += 1
        k = self.groups
        n = self.catalog.variables[table]
        if fresh and model.unique:
            self.sets.append(f"\\set p{k} :{n} + random(0, {FRESH_RANGE})")
            call = self._call(model, table, "0", f":p{k}")
            role = "fresh"
        else:
            u = "0"
            if model.mcv_count:
                self.sets.append(f"\\set u{k} random(0, {UNIT - 1})")
                u = f":u{k}"
            self.sets.append(f"\\set p{k} random(0, :{n} - 1)")
            call = self._call(model, table, u, f":p{k}")
            role = "draw"
        return self._new(self._wrap(around, call), role, f"{table}.{column}", _params(params))

    def draw_range(self, found: tuple[str, str], around: Any, low: Any, high: Any
                   ) -> tuple[ast.ParamRef, ast.ParamRef]:
        """Both ends of a range one histogram bucket wide, at a random bucket."""
        table, column = found
        model = self._model(table, column)
        self.groups += 1
        k = self.groups
        n = self.catalog.variables[table]
        buckets = max(1, model.bounds_count - 1) if model.bounds_count > 1 else 100
        self.sets += [f"\\set b{k} random(0, {buckets - 1})",
                      f"\\set lo{k} :b{k} * :{n} / {buckets}",
                      f"\\set hi{k} (:b{k} + 1) * :{n} / {buckets}"]
        name = f"{table}.{column}"
        lo = self._new(self._wrap(around, self._call(model, table, str(UNIT), f":lo{k}")),
                       "range-low", name, _params(low))
        hi = self._new(self._wrap(around, self._call(model, table, str(UNIT), f":hi{k}")),
                       "range-high", name, _params(high))
        return lo, hi

    def neutral(self, params: Any, why: str) -> ast.ParamRef:
        """A neutral value for a parameter whose value plans do not depend on."""
        numbers = _params(params)
        kind = self.types[numbers[0] - 1] if numbers and numbers[0] <= len(self.types) else ""
        value = _NEUTRAL.get(re.sub(r"\(.*\)", "", kind).strip())
        if value is None:
            raise NotParameterizable(f"${numbers[0]} ({kind or 'unknown type'}) {why}")
        return self._new(value, "neutral", None, numbers)

    def fixed(self, params: Any, value: int) -> ast.ParamRef:
        """LIMIT / OFFSET: a fixed value."""
        return self._new(str(value), "fixed", None, _params(params))

    # the walk ----------------------------------------------------------------------------------

    def visit(self, node: Any, context: str) -> Any:
        """Return ``node`` with its parameters replaced (``context``: qual or value)."""
        if isinstance(node, list | tuple):
            return tuple(self.visit(item, context) for item in node)
        if not isinstance(node, ast.Node):
            return node
        if isinstance(node, ast.ParamRef):
            if node.number >= FIRST_PLACEHOLDER:
                return node
            if context == "value":
                return self.neutral(node, "only computes an output")
            raise NotParameterizable(f"${node.number} is not compared with a column")
        handler = getattr(self, f"_visit_{type(node).__name__}", None)
        if handler is not None:
            return handler(node, context)
        self._children(node, context)
        return node

    def _children(self, node: Any, context: str, skip: tuple[str, ...] = ()) -> None:
        for attr in node.__slots__:
            if attr in skip:
                continue
            value = getattr(node, attr, None)
            if isinstance(value, ast.Node | list | tuple):
                setattr(node, attr, self.visit(value, context))

    def _visit_FuncCall(self, node: ast.FuncCall, context: str) -> Any:
        """A parameter passed to a function outside a comparison: its value is unknown and a
        neutral one could make the call fail (``pg_get_serial_sequence('', '')``)."""
        for arg in node.args or ():
            if _param_only(arg) and not all(n >= FIRST_PLACEHOLDER for n in _params(arg)):
                name = ".".join(f.sval for f in node.funcname if isinstance(f, ast.String))
                raise NotParameterizable(f"${_params(arg)[0]} is an argument of {name}(), "
                                         "not compared with a column")
        self._children(node, context)
        return node

    def _visit_SelectStmt(self, node: ast.SelectStmt, context: str) -> Any:
        self.scopes.append(self.scope(node.fromClause))
        try:
            return self._select(node)
        finally:
            self.scopes.pop()

    def _select(self, node: ast.SelectStmt) -> Any:
        for attr in ("limitCount", "limitOffset"):
            value = getattr(node, attr, None)
            if value is not None and _param_only(value):
                setattr(node, attr, self.fixed(value, LIMIT_VALUE if attr == "limitCount" else 0))
        node.targetList = self.visit(node.targetList, "value") if node.targetList else None
        node.valuesLists = self.visit(node.valuesLists, "value") if node.valuesLists else None
        self._children(node, "qual", skip=("targetList", "valuesLists"))
        return node

    def _visit_InsertStmt(self, node: ast.InsertStmt, context: str) -> Any:
        table = self.aliases.get(f"{node.relation.schemaname}.{node.relation.relname}")
        columns = [c.name for c in node.cols or ()]
        select = node.selectStmt
        if table and columns and isinstance(select, ast.SelectStmt):
            if select.valuesLists:
                select.valuesLists = tuple(
                    tuple(self._insert_value(table, columns, i, v) for i, v in enumerate(row))
                    for row in select.valuesLists)
            elif select.targetList:
                for i, target in enumerate(select.targetList):
                    target.val = self._insert_value(table, columns, i, target.val)
        self.scopes.append(self.scope(node.relation))
        try:
            self._returning(node)
            if node.onConflictClause is not None:
                node.onConflictClause = self.visit(node.onConflictClause, "qual")
        finally:
            self.scopes.pop()
        node.selectStmt = self.visit(node.selectStmt, "qual")
        if node.withClause is not None:
            node.withClause = self.visit(node.withClause, "qual")
        return node

    def _insert_value(self, table: str, columns: list[str], i: int, value: Any) -> Any:
        if i < len(columns) and _param_only(value):
            return self.draw((table, columns[i]), ast.ColumnRef(fields=(ast.String(sval="x"),)),
                             value, fresh=True)
        return value

    def _visit_DeleteStmt(self, node: ast.DeleteStmt, context: str) -> Any:
        self.scopes.append(self.scope(node.relation, node.usingClause))
        try:
            self._returning(node)
            self._children(node, "qual", skip=(*_RETURNING, "relation"))
        finally:
            self.scopes.pop()
        return node

    def _visit_UpdateStmt(self, node: ast.UpdateStmt, context: str) -> Any:
        self.scopes.append(self.scope(node.relation, node.fromClause))
        try:
            return self._update(node)
        finally:
            self.scopes.pop()

    def _update(self, node: ast.UpdateStmt) -> Any:
        table = self.aliases.get(f"{node.relation.schemaname}.{node.relation.relname}")
        for target in node.targetList or ():
            if table and target.name and _param_only(target.val):
                target.val = self.draw((table, target.name),
                                       ast.ColumnRef(fields=(ast.String(sval="x"),)),
                                       target.val, fresh=True)
            else:
                target.val = self.visit(target.val, "value")
        self._returning(node)
        self._children(node, "qual", skip=("targetList", *_RETURNING, "relation"))
        return node

    def _returning(self, node: Any) -> None:
        """RETURNING computes outputs only."""
        for attr in _RETURNING:
            value = getattr(node, attr, None)
            if value is not None:
                setattr(node, attr, self.visit(value, "value"))

    def _visit_BoolExpr(self, node: ast.BoolExpr, context: str) -> Any:
        if node.boolop == BoolExprType.AND_EXPR:
            self._pair_ranges(node.args)
        node.args = self.visit(node.args, context)
        return node

    def _pair_ranges(self, args: tuple[Any, ...]) -> None:
        """``col >= $1 AND col < $2``: both ends from one draw (a range of one bucket)."""
        lows: dict[str, tuple[Any, Any, tuple[str, str], Any, str]] = {}
        for expr in args:
            side = self._comparison(expr)
            if side is None:
                continue
            found, around, param, op, param_attr = side
            key = f"{found}{RawStream()(around)}"
            if op in _LOWER:
                lows.setdefault(key, (expr, param, found, around, param_attr))
            elif op in _UPPER and key in lows:
                low_expr, low_param, _, _, low_attr = lows.pop(key)
                lo, hi = self.draw_range(found, around, low_param, param)
                setattr(low_expr, low_attr, lo)
                setattr(expr, param_attr, hi)

    def _comparison(self, expr: Any) -> tuple[tuple[str, str], Any, Any, str, str] | None:
        """(column, expression around it, parameter side, operator as column-op-value, attr)."""
        if not isinstance(expr, ast.A_Expr) or expr.kind != A_Expr_Kind.AEXPR_OP:
            return None
        op = expr.name[-1].sval
        if op not in _COMPARISONS:
            return None
        left = self.column_side(expr.lexpr)
        if left and _param_only(expr.rexpr):
            return left[0], left[1], expr.rexpr, op, "rexpr"
        right = self.column_side(expr.rexpr)
        if right and _param_only(expr.lexpr):
            flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
            return right[0], right[1], expr.lexpr, flipped, "lexpr"
        return None

    def _visit_A_Expr(self, node: ast.A_Expr, context: str) -> Any:
        kind = node.kind
        if isinstance(node.lexpr, ast.ParamRef) and node.lexpr.number >= FIRST_PLACEHOLDER or \
                isinstance(node.rexpr, ast.ParamRef) and node.rexpr.number >= FIRST_PLACEHOLDER:
            return node  # a range end already placed
        side = self._comparison(node)
        if side is not None:
            found, around, param, _op, attr = side
            setattr(node, attr, self.draw(found, around, param))
            return node
        left = self.column_side(node.lexpr)
        if left and kind in (A_Expr_Kind.AEXPR_LIKE, A_Expr_Kind.AEXPR_ILIKE) \
                and _param_only(node.rexpr):
            node.rexpr = self.draw(left[0], left[1], node.rexpr)
            return node
        if left and kind == A_Expr_Kind.AEXPR_IN and isinstance(node.rexpr, list | tuple):
            node.rexpr = tuple(self.draw(left[0], left[1], v) if _param_only(v)
                               else self.visit(v, context) for v in node.rexpr)
            return node
        if left and kind in (A_Expr_Kind.AEXPR_BETWEEN, A_Expr_Kind.AEXPR_NOT_BETWEEN) \
                and isinstance(node.rexpr, list | tuple) and len(node.rexpr) == 2 \
                and all(_param_only(v) for v in node.rexpr):
            node.rexpr = self.draw_range(left[0], left[1], node.rexpr[0], node.rexpr[1])
            return node
        if left and kind in (A_Expr_Kind.AEXPR_OP_ANY, A_Expr_Kind.AEXPR_OP_ALL) \
                and _param_only(node.rexpr):
            value = self.draw(left[0], left[1], node.rexpr)
            self.placeholders[-1].sql = f"ARRAY[{self.placeholders[-1].sql}]"
            node.rexpr = value
            return node
        if _param_only(node):
            if context == "value":
                return self.neutral(node, "only computes an output")
            raise NotParameterizable(f"${_params(node)[0]} is not compared with a column")
        self._children(node, context)
        return node
