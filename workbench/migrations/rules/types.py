"""Rules about column types and names (squawk's ``prefer-*``, ``ban-char-field``,
``identifier-too-long``), and which type changes need no rewrite (strong_migrations' safe list:
PostgreSQL only relabels a binary-coercible change whose new limit is no tighter).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pglast import ast

from workbench.migrations.rules.context import AT, OBJ, FileContext, type_name
from workbench.migrations.sqltext import Statement

INT4 = {"int4", "int", "integer", "serial", "serial4"}
INT2 = {"int2", "smallint", "smallserial", "serial2"}
SERIAL = {"serial", "serial2", "serial4", "serial8", "smallserial", "bigserial"}
_LIMITS = {"varchar", "numeric", "timestamp", "timestamptz", "time", "timetz", "varbit"}


def column_types(ctx: FileContext) -> Iterator[tuple[Statement, Any, str]]:
    """Every column type a statement declares: CREATE TABLE columns, ADD COLUMN, ALTER COLUMN
    TYPE (with the column's name)."""
    for stmt in ctx.statements:
        node = stmt.node
        if isinstance(node, ast.CreateStmt):
            for element in node.tableElts or ():
                if isinstance(element, ast.ColumnDef) and element.typeName is not None:
                    yield stmt, element.typeName, element.colname
    for stmt, cmd, _ in ctx.alter_table_cmds(OBJ.OBJECT_TABLE):
        if cmd.subtype in (AT.AT_AddColumn, AT.AT_AlterColumnType) and cmd.def_ is not None:
            yield stmt, cmd.def_.typeName, cmd.def_.colname or cmd.name


def _type_rule(ctx: FileContext, rule: str, names: set[str], message: str,
               needs_limit: bool = False) -> None:
    for stmt, type_node, column in column_types(ctx):
        if type_name(type_node) in names and (not needs_limit or type_node.typmods):
            ctx.report(rule, stmt, type_node, message.format(column=column))


def prefer_bigint_over_int(ctx: FileContext) -> None:
    """32-bit integer columns run out at 2^31."""
    _type_rule(ctx, "prefer-bigint-over-int", INT4,
               "{column} is a 32-bit integer: it runs out at 2^31, and widening it later "
               "rewrites the table")


def prefer_bigint_over_smallint(ctx: FileContext) -> None:
    """16-bit integer columns run out at 32767."""
    _type_rule(ctx, "prefer-bigint-over-smallint", INT2,
               "{column} is a 16-bit integer: it runs out at 32767")


def prefer_identity(ctx: FileContext) -> None:
    """serial types: identity columns manage their sequence for you."""
    _type_rule(ctx, "prefer-identity", SERIAL,
               "{column} is serial: its sequence's ownership and grants are managed by hand")


def prefer_text_field(ctx: FileContext) -> None:
    """varchar(n): changing n later takes an ACCESS EXCLUSIVE lock."""
    _type_rule(ctx, "prefer-text-field", {"varchar"},
               "{column} is varchar(n): changing the limit later locks the table",
               needs_limit=True)


def prefer_timestamp_tz(ctx: FileContext) -> None:
    """timestamp without time zone drops the offset."""
    _type_rule(ctx, "prefer-timestamp-tz", {"timestamp"},
               "{column} is timestamp without time zone: the offset is lost")


def ban_char_field(ctx: FileContext) -> None:
    """char(n) pads with spaces and is no faster than text."""
    _type_rule(ctx, "ban-char-field", {"bpchar", "char"},
               "{column} is char(n): values are padded with spaces")


def identifier_too_long(ctx: FileContext) -> None:
    """Identifiers longer than 63 bytes are silently truncated by PostgreSQL (found in the
    tokens: the parse tree already holds the truncated name)."""
    for stmt in ctx.statements:
        for start, end, name in ctx.sql.tokens(stmt):
            if name != "IDENT":
                continue
            text = ctx.sql.text[start:end + 1]
            if text.startswith('"'):
                text = text[1:-1].replace('""', '"')
            size = len(text.encode("utf-8"))
            if size > 63:
                ctx.report("identifier-too-long", stmt, start,
                           f"{text[:24]}... is {size} bytes: PostgreSQL truncates it to 63")


def ban_duplicate_column_assignments(ctx: FileContext) -> None:
    """The same column set twice in one UPDATE / INSERT is an error PostgreSQL raises late."""
    for stmt in ctx.statements:
        node = stmt.node
        targets: list[Any] = []
        if isinstance(node, ast.UpdateStmt):
            targets = list(node.targetList or ())
        elif isinstance(node, ast.InsertStmt):
            targets = list(node.cols or ())
            conflict = node.onConflictClause
            if conflict is not None and conflict.targetList:
                _report_duplicates(ctx, stmt, list(conflict.targetList))
        _report_duplicates(ctx, stmt, targets)


def _report_duplicates(ctx: FileContext, stmt: Statement, targets: list[Any]) -> None:
    counts: dict[str, int] = {}
    for target in targets:
        counts[target.name] = counts.get(target.name, 0) + 1
    for target in targets:
        if counts[target.name] > 1:
            ctx.report("ban-duplicate-column-assignments", stmt, target,
                       f"{target.name} is assigned more than once")


def _shape(type_node: Any) -> tuple[str, tuple[int, ...], bool]:
    mods = tuple(getattr(getattr(m, "val", None), "ival", -1) for m in type_node.typmods or ())
    return type_name(type_node), mods, bool(type_node.arrayBounds)


def binary_coercible(old: Any, new: Any) -> bool:
    """Whether ALTER COLUMN TYPE from ``old`` to ``new`` (TypeName nodes) only relabels.

    >>> import pglast
    >>> t = lambda s: pglast.parse_sql(f"SELECT NULL::{s}")[0].stmt.targetList[0].val.typeName
    >>> binary_coercible(t("varchar(10)"), t("text")), binary_coercible(t("varchar(10)"), t("varchar(5)"))
    (True, False)
    >>> binary_coercible(t("numeric(10,2)"), t("numeric(12,2)")), binary_coercible(t("int"), t("bigint"))
    (True, False)
    """
    (old_name, old_mods, old_array), (new_name, new_mods, new_array) = _shape(old), _shape(new)
    if old_array != new_array:
        return False
    if (old_name, old_mods) == (new_name, new_mods):
        return True
    if old_name in ("varchar", "text") and new_name == "text":
        return True
    if old_name == "text" and new_name == "varchar" and not new_mods:
        return True
    if (old_name, new_name) == ("cidr", "inet"):
        return True
    if old_name != new_name or old_name not in _LIMITS:
        return False
    if not new_mods:
        return True
    if not old_mods or len(old_mods) != len(new_mods) and old_name != "numeric":
        return False
    if old_name == "numeric":
        old_scale = old_mods[1] if len(old_mods) > 1 else 0
        new_scale = new_mods[1] if len(new_mods) > 1 else 0
        return new_mods[0] >= old_mods[0] and new_scale == old_scale
    return new_mods[0] >= old_mods[0]
