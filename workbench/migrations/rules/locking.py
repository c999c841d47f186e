"""Rules about locks and rewrites: what blocks reads or writes, and for how long (squawk's names).

Each check takes a :class:`FileContext` and reports through it; the set is the ``CHECKS`` tuple
of :mod:`workbench.migrations.rules`.
"""

from __future__ import annotations

from typing import Any

from pglast import ast

from workbench.migrations.rules.context import (
    AT,
    BEGINS,
    CON,
    ENDS,
    OBJ,
    FileContext,
    constraints_of,
    relname,
    transaction_kind,
)
from workbench.migrations.rules.types import binary_coercible
from workbench.migrations.sqltext import has_option


def require_concurrent_index_creation(ctx: FileContext) -> None:
    """CREATE INDEX without CONCURRENTLY blocks the table's writes while it builds."""
    created = ctx.tables_created_in_transaction()
    for stmt in ctx.statements:
        node = stmt.node
        if isinstance(node, ast.IndexStmt) and not node.concurrent and relname(node) not in created:
            ctx.report("require-concurrent-index-creation", stmt, None,
                       f"CREATE INDEX on {relname(node)} blocks its writes while the index builds")


def require_concurrent_index_deletion(ctx: FileContext) -> None:
    """DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table."""
    for stmt in ctx.statements:
        node = stmt.node
        if isinstance(node, ast.DropStmt) and node.removeType == OBJ.OBJECT_INDEX \
                and not node.concurrent:
            ctx.report("require-concurrent-index-deletion", stmt, None,
                       "DROP INDEX takes an ACCESS EXCLUSIVE lock on its table")


def ban_concurrent_index_creation_in_transaction(ctx: FileContext) -> None:
    """CREATE INDEX CONCURRENTLY inside a transaction fails (a file of one statement is fine:
    the runner executes it on its own)."""
    if len(ctx.statements) < 2:
        return
    for stmt, inside in zip(ctx.statements, ctx.in_transaction(), strict=True):
        if inside and isinstance(stmt.node, ast.IndexStmt) and stmt.node.concurrent:
            ctx.report("ban-concurrent-index-creation-in-transaction", stmt, None,
                       "CREATE INDEX CONCURRENTLY cannot run inside a transaction block")


def constraint_missing_not_valid(ctx: FileContext) -> None:
    """ADD CONSTRAINT without NOT VALID scans the table under its lock; VALIDATE in the same
    transaction as the NOT VALID add keeps that lock for the whole validation."""
    not_valid: set[str] = set()
    inside = ctx.options.assume_in_transaction
    for stmt in ctx.statements:
        kind = transaction_kind(stmt)
        if kind in BEGINS:
            if not inside:
                not_valid.clear()
            inside = True
        elif kind in ENDS:
            inside = False
        for cmd, offset in _table_cmds(ctx, stmt):
            if cmd.subtype == AT.AT_AddConstraint and cmd.def_.skip_validation \
                    and cmd.def_.conname:
                not_valid.add(cmd.def_.conname)
            if cmd.subtype == AT.AT_ValidateConstraint and inside and cmd.name in not_valid:
                ctx.report("constraint-missing-not-valid", stmt, offset,
                           f"VALIDATE CONSTRAINT {cmd.name} in the same transaction as its NOT "
                           "VALID add holds the lock for the whole validation")
    created = ctx.tables_created_in_transaction()
    for stmt, cmd, offset in ctx.alter_table_cmds():
        constraint = cmd.def_
        if cmd.subtype != AT.AT_AddConstraint or relname(stmt.node) in created \
                or constraint.skip_validation:
            continue
        if constraint.contype in (CON.CONSTR_UNIQUE, CON.CONSTR_PRIMARY) and constraint.indexname:
            continue
        ctx.report("constraint-missing-not-valid", stmt, offset,
                   "adding a constraint scans the table while a lock blocks its writes")


def _table_cmds(ctx: FileContext, stmt: Any) -> list[tuple[Any, int]]:
    node = stmt.node
    if not isinstance(node, ast.AlterTableStmt) or node.objtype != OBJ.OBJECT_TABLE:
        return []
    return list(zip(node.cmds, ctx.sql.action_offsets(stmt), strict=True))


def adding_field_with_default(ctx: FileContext) -> None:
    """ADD COLUMN with a volatile default, a stored generated expression or an identity
    rewrites the table (any default does before PostgreSQL 11)."""
    for stmt, cmd, offset in ctx.alter_table_cmds():
        if cmd.subtype != AT.AT_AddColumn:
            continue
        for constraint in constraints_of(cmd):
            where = getattr(constraint.raw_expr, "location", None) or constraint.location or offset
            if constraint.contype == CON.CONSTR_DEFAULT:
                if ctx.options.pg_version < 11:
                    why = "any default rewrites the table before PostgreSQL 11"
                elif _volatile_expression(constraint.raw_expr, ctx):
                    why = "a volatile default is computed for every existing row: a table rewrite"
                else:
                    continue
            elif constraint.contype == CON.CONSTR_IDENTITY:
                why = "an identity column numbers every existing row: a table rewrite"
            elif constraint.contype == CON.CONSTR_GENERATED and constraint.generated_kind != "v":
                why = "a stored generated column is computed for every existing row: a rewrite"
            else:
                continue
            ctx.report("adding-field-with-default", stmt, where,
                       f"adding {cmd.def_.colname}: {why} under an ACCESS EXCLUSIVE lock")


def _volatile_expression(expr: Any, ctx: FileContext) -> bool:
    """Whether an expression calls a volatile function (unknown functions count as volatile)."""
    found = False

    def visit(node: Any) -> None:
        nonlocal found
        if isinstance(node, ast.FuncCall):
            name = node.funcname[-1].sval
            found = found or ctx.volatile(name)
        if isinstance(node, ast.Node):
            for attr in node:
                visit(getattr(node, attr))
        elif isinstance(node, tuple):
            for item in node:
                visit(item)

    visit(expr)
    return found


def adding_foreign_key_constraint(ctx: FileContext) -> None:
    """A foreign key scans the table and takes SHARE ROW EXCLUSIVE on both tables."""
    created = ctx.tables_created_in_transaction()
    for stmt, cmd, offset in ctx.alter_table_cmds():
        constraint = cmd.def_
        if cmd.subtype == AT.AT_AddConstraint and constraint.contype == CON.CONSTR_FOREIGN \
                and not constraint.skip_validation and relname(stmt.node) not in created:
            ctx.report("adding-foreign-key-constraint", stmt, offset,
                       "a foreign key is checked row by row while writes to both tables wait")
        if cmd.subtype == AT.AT_AddColumn:
            for item in constraints_of(cmd):
                if item.contype == CON.CONSTR_FOREIGN:
                    ctx.report("adding-foreign-key-constraint", stmt, item.location or offset,
                               "an inline REFERENCES is checked while writes to both tables wait")


def changing_column_type(ctx: FileContext) -> None:
    """ALTER COLUMN TYPE rewrites the table under ACCESS EXCLUSIVE, unless the change is
    binary coercible (varchar(n) to text or to a longer varchar, numeric precision up, ...) from
    a type known from earlier statements, earlier files or the server."""
    seen: dict[tuple[str, str], Any] = {}
    kinds = (OBJ.OBJECT_TABLE, OBJ.OBJECT_FOREIGN_TABLE, OBJ.OBJECT_TYPE)
    for stmt in ctx.statements:
        node = stmt.node
        if isinstance(node, ast.CreateStmt):
            seen.update({(node.relation.relname, e.colname): e.typeName
                         for e in node.tableElts or () if isinstance(e, ast.ColumnDef)})
        if not isinstance(node, ast.AlterTableStmt) or node.objtype not in kinds:
            continue
        for cmd, offset in zip(node.cmds, ctx.sql.action_offsets(stmt), strict=True):
            key = (relname(node), cmd.name or getattr(cmd.def_, "colname", None))
            if cmd.subtype == AT.AT_AddColumn:
                seen[key] = cmd.def_.typeName
            if cmd.subtype != AT.AT_AlterColumnType:
                continue
            old = seen[key] if key in seen else ctx.column_type(*key)
            seen[key] = cmd.def_.typeName
            if node.objtype != OBJ.OBJECT_TYPE and cmd.def_.raw_default is None \
                    and old is not None and binary_coercible(old, cmd.def_.typeName):
                continue
            known = "" if old is not None or node.objtype == OBJ.OBJECT_TYPE else \
                " (its current type is unknown here; lint with a server to check for a " \
                "binary-coercible change)"
            ctx.report("changing-column-type", stmt, offset,
                       f"changing the type of {cmd.name} rewrites the table (and its indexes) "
                       f"under an ACCESS EXCLUSIVE lock, and may break readers{known}")


def adding_not_nullable_field(ctx: FileContext) -> None:
    """SET NOT NULL scans the table under ACCESS EXCLUSIVE, unless (PostgreSQL 12+) a validated
    ``CHECK (col IS NOT NULL)`` proves it first."""
    pg12 = ctx.options.pg_version >= 12
    checks: dict[str, tuple[str, str]] = {}
    validated: set[tuple[str, str]] = set()
    external: set[tuple[str, str]] = set()
    dropped: set[tuple[str, str]] = set()
    deferred: list[tuple[Any, tuple[str, str], int]] = []
    for stmt, cmd, offset in ctx.alter_table_cmds():
        table = relname(stmt.node)
        if pg12 and cmd.subtype == AT.AT_AddConstraint and cmd.def_.skip_validation \
                and cmd.def_.contype == CON.CONSTR_CHECK and cmd.def_.conname:
            column = _is_not_null_check(cmd.def_.raw_expr)
            if column:
                checks[cmd.def_.conname] = (table, column)
        elif pg12 and cmd.subtype == AT.AT_ValidateConstraint:
            if checks.get(cmd.name, ("",))[0] == table:
                validated.add(checks[cmd.name])
            else:
                external.add((table, cmd.name))
        elif pg12 and cmd.subtype == AT.AT_DropConstraint:
            dropped.add((table, cmd.name))
        elif cmd.subtype == AT.AT_SetNotNull:
            key = (table, cmd.name)
            if pg12 and key in validated:
                continue
            if pg12 and any(t == table for t, _ in external):
                deferred.append((stmt, key, offset))
                continue
            _not_null_hit(ctx, stmt, offset, cmd.name)
    precise, generic = set(), set()
    for table, name in external & dropped:
        column = _column_from_name(table, name)
        if column:
            precise.add((table, column))
        else:
            generic.add(table)
    for stmt, key, offset in deferred:
        if key not in precise and key[0] not in generic:
            _not_null_hit(ctx, stmt, offset, key[1])


def _not_null_hit(ctx: FileContext, stmt: Any, offset: int, column: str) -> None:
    ctx.report("adding-not-nullable-field", stmt, offset,
               f"SET NOT NULL on {column} scans the table under an ACCESS EXCLUSIVE lock")


def _is_not_null_check(expr: Any) -> str | None:
    if isinstance(expr, ast.NullTest) and expr.nulltesttype.name == "IS_NOT_NULL" \
            and isinstance(expr.arg, ast.ColumnRef) and len(expr.arg.fields) == 1:
        return expr.arg.fields[0].sval
    return None


def _column_from_name(table: str, constraint: str) -> str | None:
    if not constraint.endswith("_not_null") or constraint == "_not_null":
        return None
    stem = constraint[: -len("_not_null")]
    if stem.startswith(f"{table}_"):
        return stem[len(table) + 1:] or None
    return None if stem == table else stem


def adding_serial_primary_key_field(ctx: FileContext) -> None:
    """ADD PRIMARY KEY builds its index under ACCESS EXCLUSIVE (use USING INDEX)."""
    created = ctx.tables_created_in_transaction()
    for stmt, cmd, offset in ctx.alter_table_cmds():
        if cmd.subtype == AT.AT_AddConstraint and cmd.def_.contype == CON.CONSTR_PRIMARY \
                and not cmd.def_.indexname and relname(stmt.node) not in created:
            ctx.report("adding-serial-primary-key-field", stmt, offset,
                       "a primary key builds its index under an ACCESS EXCLUSIVE lock")
        if cmd.subtype == AT.AT_AddColumn:
            for item in constraints_of(cmd):
                if item.contype == CON.CONSTR_PRIMARY:
                    ctx.report("adding-serial-primary-key-field", stmt, item.location or offset,
                               "an inline PRIMARY KEY builds its index under ACCESS EXCLUSIVE")


def disallowed_unique_constraint(ctx: FileContext) -> None:
    """ADD UNIQUE builds its index under ACCESS EXCLUSIVE (build it CONCURRENTLY first)."""
    created = ctx.tables_created_in_transaction()
    for stmt, cmd, offset in ctx.alter_table_cmds():
        if cmd.subtype == AT.AT_AddConstraint and cmd.def_.contype == CON.CONSTR_UNIQUE \
                and not cmd.def_.indexname and relname(stmt.node) not in created:
            ctx.report("disallowed-unique-constraint", stmt, offset,
                       "a UNIQUE constraint builds its index under an ACCESS EXCLUSIVE lock")
        if cmd.subtype == AT.AT_AddColumn:
            for item in constraints_of(cmd):
                if item.contype == CON.CONSTR_UNIQUE:
                    ctx.report("disallowed-unique-constraint", stmt, item.location or offset,
                               "an inline UNIQUE builds its index under an ACCESS EXCLUSIVE lock")


def adding_required_field(ctx: FileContext) -> None:
    """ADD COLUMN NOT NULL without a default fails on a table that has rows."""
    for stmt, cmd, offset in ctx.alter_table_cmds():
        if cmd.subtype != AT.AT_AddColumn:
            continue
        kinds = {c.contype for c in constraints_of(cmd)}
        if CON.CONSTR_NOTNULL in kinds and not kinds & {CON.CONSTR_DEFAULT, CON.CONSTR_IDENTITY,
                                                        CON.CONSTR_GENERATED}:
            ctx.report("adding-required-field", stmt, offset,
                       f"NOT NULL column {cmd.def_.colname} without a default fails on a table "
                       "with rows")


def require_concurrent_partition_detach(ctx: FileContext) -> None:
    """DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the parent."""
    for stmt, cmd, offset in ctx.alter_table_cmds():
        if cmd.subtype == AT.AT_DetachPartition and not cmd.def_.concurrent:
            ctx.report("require-concurrent-partition-detach", stmt, offset,
                       "DETACH PARTITION takes an ACCESS EXCLUSIVE lock on the parent table")


def require_concurrent_reindex(ctx: FileContext) -> None:
    """REINDEX without CONCURRENTLY blocks reads and writes of the table."""
    for stmt in ctx.statements:
        node = stmt.node
        if isinstance(node, ast.ReindexStmt) and not has_option(node.params, "concurrently") \
                and node.kind.name != "REINDEX_OBJECT_SYSTEM":  # SYSTEM cannot be concurrent
            ctx.report("require-concurrent-reindex", stmt, None,
                       "REINDEX without CONCURRENTLY locks out reads and writes while it runs")


def prefer_repack(ctx: FileContext) -> None:
    """PostgreSQL 19+: REPACK (CONCURRENTLY) instead of CLUSTER or VACUUM FULL."""
    if ctx.options.pg_version < 19:
        return
    for stmt in ctx.statements:
        node = stmt.node
        if isinstance(node, ast.ClusterStmt) or (isinstance(node, ast.VacuumStmt)
                                                 and has_option(node.options, "full")):
            ctx.report("prefer-repack", stmt, None,
                       "this rewrites the table under an ACCESS EXCLUSIVE lock")


_SLOW_EXTRA = (ast.IndexStmt, ast.ViewStmt, ast.RuleStmt, ast.DefineStmt, ast.CompositeTypeStmt,
               ast.RenameStmt, ast.CommentStmt, ast.LockStmt, ast.TruncateStmt, ast.ReindexStmt,
               ast.ClusterStmt, ast.RefreshMatViewStmt, ast.LoadStmt, ast.ImportForeignSchemaStmt)


def possibly_slow(node: Any) -> bool:
    """DDL and the maintenance statements that take locks (squawk's ``possibly_slow_stmt``;
    a plain CREATE TABLE locks nothing that exists)."""
    name = type(node).__name__
    if isinstance(node, ast.CreateStmt):
        return _has_foreign_key(node)
    if isinstance(node, ast.VacuumStmt):
        return bool(node.is_vacuumcmd)
    return name.startswith(("Alter", "Create", "Drop")) or isinstance(node, _SLOW_EXTRA)


def _has_foreign_key(node: Any) -> bool:
    """A new table with a foreign key locks the table it references."""
    for element in node.tableElts or ():
        items = element.constraints or () if isinstance(element, ast.ColumnDef) else (element,)
        if any(isinstance(c, ast.Constraint) and c.contype == CON.CONSTR_FOREIGN for c in items):
            return True
    return False


def require_timeout_settings(ctx: FileContext) -> None:
    """A lock-taking statement with no ``SET lock_timeout`` / ``statement_timeout`` before it."""
    wanted = {"lock_timeout": "require-lock-timeout",
              "statement_timeout": "require-statement-timeout"}
    state = {name: "missing" for name in wanted}
    for stmt in ctx.statements:
        node = stmt.node
        if isinstance(node, ast.VariableSetStmt) and node.kind.name != "VAR_RESET" \
                and node.name in wanted:
            state[node.name] = "present" if state[node.name] == "missing" else state[node.name]
        elif possibly_slow(node):
            for name, rule in wanted.items():
                if state[name] == "missing":
                    why = "a blocked lock queues every query behind it" \
                        if name == "lock_timeout" else "nothing stops it if it runs long"
                    ctx.report(rule, stmt, None, f"no SET {name} before this statement: {why}")
                    state[name] = "reported"
