"""The workbench's own rules, for blocking forms squawk does not check (named apart from squawk's
so the parity test can tell them apart)."""

from __future__ import annotations

from pglast import ast

from workbench.migrations.rules.context import AT, OBJ, FileContext, relname
from workbench.migrations.rules.locking import possibly_slow
from workbench.migrations.rules.types import SERIAL
from workbench.migrations.sqltext import has_option, runs_in_transaction

_BLOCKS_WRITES = 5  # ShareLock and stronger (LockStmt modes count 1..8)


def adding_serial_column(ctx: FileContext) -> None:
    """ADD COLUMN serial: its nextval() default is volatile, so every row is rewritten."""
    for stmt, cmd, _offset in ctx.alter_table_cmds():
        if cmd.subtype == AT.AT_AddColumn and cmd.def_.typeName is not None \
                and cmd.def_.typeName.names[-1].sval in SERIAL:
            ctx.report("adding-serial-column", stmt, cmd.def_.typeName,
                       f"{cmd.def_.colname} is serial: nextval() fills every existing row, a "
                       "table rewrite under an ACCESS EXCLUSIVE lock")


def ban_table_rewrites(ctx: FileContext) -> None:
    """SET TABLESPACE, SET LOGGED/UNLOGGED and SET ACCESS METHOD copy the whole table (or index)
    under an ACCESS EXCLUSIVE lock."""
    what = {AT.AT_SetTableSpace: ("ban-set-tablespace", "SET TABLESPACE"),
            AT.AT_SetLogged: ("ban-set-logged-unlogged", "SET LOGGED"),
            AT.AT_SetUnLogged: ("ban-set-logged-unlogged", "SET UNLOGGED"),
            AT.AT_SetAccessMethod: ("ban-set-tablespace", "SET ACCESS METHOD")}
    kinds = (OBJ.OBJECT_TABLE, OBJ.OBJECT_INDEX, OBJ.OBJECT_MATVIEW)
    for stmt, cmd, offset in ctx.alter_table_cmds(*kinds):
        if cmd.subtype in what:
            rule, form = what[cmd.subtype]
            ctx.report(rule, stmt, offset, f"{form} rewrites {relname(stmt.node)} under an "
                       "ACCESS EXCLUSIVE lock for as long as the copy takes")


def ban_lock_table(ctx: FileContext) -> None:
    """LOCK TABLE in SHARE mode or stronger blocks writes (ACCESS EXCLUSIVE, the default, blocks
    reads too) until the migration commits."""
    for stmt in ctx.statements:
        node = stmt.node
        if isinstance(node, ast.LockStmt) and node.mode >= _BLOCKS_WRITES:
            ctx.report("ban-lock-table", stmt, None,
                       "an explicit table lock blocks writes until the migration commits")


def ban_vacuum_full_and_cluster(ctx: FileContext) -> None:
    """VACUUM FULL and CLUSTER rewrite the table under ACCESS EXCLUSIVE."""
    for stmt in ctx.statements:
        node = stmt.node
        if isinstance(node, ast.VacuumStmt) and node.is_vacuumcmd and has_option(node.options,
                                                                                 "full"):
            ctx.report("ban-vacuum-full", stmt, None,
                       "VACUUM FULL holds an ACCESS EXCLUSIVE lock while it rewrites the table")
        elif isinstance(node, ast.ClusterStmt):
            ctx.report("ban-cluster", stmt, None,
                       "CLUSTER holds an ACCESS EXCLUSIVE lock while it rewrites the table")


def trigger_on_existing_table(ctx: FileContext) -> None:
    """A new trigger on an existing (busy) table adds its work to every write, and CREATE
    TRIGGER waits for a SHARE ROW EXCLUSIVE lock."""
    created = {stmt.node.relation.relname for stmt in ctx.statements
               if isinstance(stmt.node, ast.CreateStmt)}
    for stmt in ctx.statements:
        node = stmt.node
        if isinstance(node, ast.CreateTrigStmt) and node.relation.relname not in created:
            ctx.report("trigger-on-existing-table", stmt, None,
                       f"the trigger runs on every write to {node.relation.relname}; on a hot "
                       "table measure it under load first")


def ban_backfill_in_ddl_transaction(ctx: FileContext) -> None:
    """An UPDATE/DELETE/INSERT ... SELECT in a file that runs as one transaction with DDL keeps
    the DDL's lock for as long as the backfill runs."""
    if not all(runs_in_transaction(s.node, ctx.options.pg_version) for s in ctx.statements):
        return
    ddl = [s for s in ctx.statements if possibly_slow(s.node)]
    if not ddl:
        return
    for stmt in ctx.statements:
        node = stmt.node
        if isinstance(node, ast.UpdateStmt | ast.DeleteStmt) or (
                isinstance(node, ast.InsertStmt) and node.selectStmt is not None
                and getattr(node.selectStmt, "fromClause", None)):
            ctx.report("ban-backfill-in-ddl-transaction", stmt, None,
                       f"this runs in one transaction with the DDL at line {ddl[0].line}, whose "
                       "lock is held until the backfill commits; backfill in batches in a "
                       "separate step")


def mixed_transaction_statements(ctx: FileContext) -> None:
    """A file mixing statements that need a transaction-free run (CONCURRENTLY ...) with others
    is refused by ``migrate apply`` (as by Flyway with mixed=false) unless ``--mixed``."""
    outside = [s for s in ctx.statements if not runs_in_transaction(s.node,
                                                                    ctx.options.pg_version)]
    if outside and len(outside) < len(ctx.statements):
        ctx.report("mixed-transaction-statements", outside[0], None,
                   f"{outside[0].sql.split()[0].upper()} ... cannot run in a transaction but "
                   "other statements of this file can: `migrate apply` refuses the file unless "
                   "--mixed (then every statement runs on its own)")
