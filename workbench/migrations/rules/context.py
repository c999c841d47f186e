"""What every lint check sees: one parsed file, the options, what is known of the schema, and a
``report`` that turns a node into a finding at the right line.

Transactions are tracked the way squawk tracks them: a file is inside a transaction after
``BEGIN`` (or from the start with ``assume_in_transaction``) until ``COMMIT``/``ROLLBACK``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pglast import ast, enums

from workbench.migrations.sqltext import SqlText, Statement

AT = enums.AlterTableType
OBJ = enums.ObjectType
CON = enums.ConstrType
TX = enums.TransactionStmtKind

BEGINS = (TX.TRANS_STMT_BEGIN, TX.TRANS_STMT_START)
ENDS = (TX.TRANS_STMT_COMMIT, TX.TRANS_STMT_ROLLBACK)


@dataclass(frozen=True)
class LintOptions:
    """squawk's options (``--pg-version``, ``--assume-in-transaction``, ``--include``,
    ``--exclude``) plus what the workbench can use when a server is at hand."""

    pg_version: int = 18
    assume_in_transaction: bool = False
    include: frozenset[str] = frozenset()
    exclude: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Hit:
    """A raw finding before suppression: rule, statement, character offset, message."""

    rule: str
    stmt: Statement
    offset: int
    message: str


@dataclass
class FileContext:
    """One file under lint."""

    sql: SqlText
    options: LintOptions
    enabled: Callable[[str], bool]
    volatile: Callable[[str], bool]
    column_type: Callable[[str, str], Any]
    hits: list[Hit] = field(default_factory=list)
    _in_txn: list[bool] | None = None

    @property
    def statements(self) -> list[Statement]:
        """The file's statements in order."""
        return self.sql.statements

    def report(self, rule: str, stmt: Statement, at: Any, message: str) -> None:
        """Record a finding at ``at``: a character offset, a node with a ``location``, or None
        for the statement's start."""
        if not self.enabled(rule):
            return
        offset = at if isinstance(at, int) else getattr(at, "location", None)
        if offset is None or offset < 0:
            offset = stmt.start
        self.hits.append(Hit(rule, stmt, offset, message))

    def in_transaction(self) -> list[bool]:
        """Per statement: inside a transaction (squawk's view: BEGIN ... COMMIT, or assumed)."""
        if self._in_txn is None:
            state, flags = self.options.assume_in_transaction, []
            for stmt in self.statements:
                if transaction_kind(stmt) in BEGINS:
                    state = True
                elif transaction_kind(stmt) in ENDS:
                    state = False
                flags.append(state)
            self._in_txn = flags
        return self._in_txn

    def tables_created_in_transaction(self) -> set[str]:
        """Names (last part) of tables a ``CREATE TABLE`` inside a transaction creates."""
        return {stmt.node.relation.relname for stmt, inside in zip(
            self.statements, self.in_transaction(), strict=True)
                if inside and isinstance(stmt.node, ast.CreateStmt)}

    def alter_table_cmds(self, *objtypes: Any) -> Iterator[tuple[Statement, Any, int]]:
        """Every ALTER TABLE (or given object kind) action with where it starts."""
        kinds = objtypes or (OBJ.OBJECT_TABLE,)
        for stmt in self.statements:
            node = stmt.node
            if isinstance(node, ast.AlterTableStmt) and node.objtype in kinds:
                yield from ((stmt, cmd, offset) for cmd, offset
                            in zip(node.cmds, self.sql.action_offsets(stmt), strict=True))


def transaction_kind(stmt: Statement) -> Any:
    """The TransactionStmt kind (BEGIN, COMMIT ...) or None."""
    node = stmt.node
    return node.kind if isinstance(node, ast.TransactionStmt) else None


def constraints_of(cmd: Any) -> list[Any]:
    """The inline constraints of an ADD COLUMN action."""
    return list(getattr(cmd.def_, "constraints", None) or ()) if cmd.def_ is not None else []


def type_name(type_node: Any) -> str:
    """Last part of a TypeName (``pg_catalog.int4`` → ``int4``)."""
    return type_node.names[-1].sval if type_node is not None and type_node.names else ""


def relname(node: Any) -> str:
    """Last part of a statement's relation (RangeVar) name."""
    relation = getattr(node, "relation", None)
    return relation.relname if relation is not None else ""
