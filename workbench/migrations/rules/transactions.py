"""Rules about transactions and re-running (squawk's ``transaction-nesting``,
``ban-uncommitted-transaction``, ``prefer-robust-stmts``)."""

from __future__ import annotations

import re

from pglast import ast

from workbench.migrations.rules.context import (
    AT,
    BEGINS,
    ENDS,
    OBJ,
    FileContext,
    transaction_kind,
)


def transaction_nesting(ctx: FileContext) -> None:
    """BEGIN inside a transaction, or COMMIT/ROLLBACK outside one (every one of them when the
    runner wraps the file in a transaction)."""
    assumed = ctx.options.assume_in_transaction
    inside = False
    for stmt in ctx.statements:
        kind = transaction_kind(stmt)
        if kind in BEGINS:
            if assumed or inside:
                ctx.report("transaction-nesting", stmt, None,
                           "BEGIN inside a transaction: the migration already runs in one")
            inside = True
        elif kind in ENDS:
            if assumed or not inside:
                ctx.report("transaction-nesting", stmt, None,
                           f"{stmt.sql.split()[0].upper()} ends the runner's transaction early")
            inside = False


def ban_uncommitted_transaction(ctx: FileContext) -> None:
    """A BEGIN with no COMMIT after it leaves the transaction open."""
    opened = None
    for stmt in ctx.statements:
        kind = transaction_kind(stmt)
        if kind in BEGINS:
            opened = stmt
        elif kind in ENDS:
            opened = None
    if opened is not None:
        ctx.report("ban-uncommitted-transaction", opened, None,
                   "this transaction is never committed")


_IF_EXISTS = "without IF EXISTS the migration cannot simply run again after a partial failure"
_IF_NOT_EXISTS = "without IF NOT EXISTS the migration cannot simply run again after a partial " \
                 "failure"
_NO_TRANSACTION = "outside a transaction a partial failure leaves this applied: the migration " \
                  "cannot simply run again"


def prefer_robust_stmts(ctx: FileContext) -> None:
    """Statements that fail when run a second time after a partial failure outside a
    transaction (IF [NOT] EXISTS, or a transaction, makes them safe to re-run)."""
    inside = ctx.options.assume_in_transaction
    constraints: dict[str, str] = {}
    for stmt in ctx.statements:
        node, kind = stmt.node, transaction_kind(stmt)
        if kind in BEGINS:
            inside = True
        elif kind == ENDS[0]:
            inside = False
        elif isinstance(node, ast.RenameStmt | ast.AlterObjectSchemaStmt) and not inside \
                and re.match(r"(?i)ALTER\s+TABLE\b", stmt.sql):
            ctx.report("prefer-robust-stmts", stmt, None, _NO_TRANSACTION)
        elif isinstance(node, ast.AlterTableStmt) and node.objtype == OBJ.OBJECT_TABLE:
            for cmd, offset in zip(node.cmds, ctx.sql.action_offsets(stmt), strict=True):
                message = _robust_action(cmd, constraints)
                if message and not inside:
                    ctx.report("prefer-robust-stmts", stmt, offset, message)
        elif isinstance(node, ast.IndexStmt):
            if not node.if_not_exists and node.idxname and (node.concurrent or not inside):
                ctx.report("prefer-robust-stmts", stmt, None, _IF_NOT_EXISTS)
        elif isinstance(node, ast.CreateStmt):
            if not node.if_not_exists and not inside:
                ctx.report("prefer-robust-stmts", stmt, None, _IF_NOT_EXISTS)
        elif isinstance(node, ast.DropStmt) and node.removeType in (
                OBJ.OBJECT_INDEX, OBJ.OBJECT_TABLE, OBJ.OBJECT_TYPE) \
                and not node.missing_ok and not inside:
            ctx.report("prefer-robust-stmts", stmt, None, _IF_EXISTS)


def _robust_action(cmd: object, constraints: dict[str, str]) -> str | None:
    subtype = getattr(cmd, "subtype", None)
    name = getattr(cmd, "name", None)
    if subtype == AT.AT_DropConstraint:
        constraints[name] = "dropped"
        return None if cmd.missing_ok else _IF_EXISTS
    if subtype == AT.AT_AddColumn:
        return None if cmd.missing_ok else _IF_NOT_EXISTS
    if subtype == AT.AT_DropColumn:
        return None if cmd.missing_ok else _IF_EXISTS
    if subtype == AT.AT_ValidateConstraint:
        return None if name in constraints else _NO_TRANSACTION
    if subtype == AT.AT_AddConstraint:
        conname = cmd.def_.conname
        if conname and constraints.get(conname) == "dropped":
            constraints[conname] = "added"
            return None
    return _NO_TRANSACTION
