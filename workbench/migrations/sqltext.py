"""Migration SQL read by PostgreSQL's own parser (pglast wraps libpg_query, the server's grammar).

One parse gives the exact AST of every statement, where each starts and ends (character offsets,
so line numbers are exact), the comments (for ``-- squawk-ignore``) and the tokens. Nothing falls
back to text rules: a file PostgreSQL cannot parse is refused with one line naming the file, the
line, the column and PostgreSQL's own message.

>>> text = parse_sql_text("SET lock_timeout = '2s';\\nCREATE INDEX CONCURRENTLY i ON t (a);\\n")
>>> [(s.line, s.kind, s.transactional) for s in text.statements]
[(1, 'VariableSetStmt', True), (2, 'IndexStmt', False)]
>>> parse_sql_text("ALTER TABLE t ADD COLUMN ;", "V2__x.sql")
Traceback (most recent call last):
...
workbench.errors.WorkbenchError: V2__x.sql: line 1, column 26: syntax error at or near ";" (PostgreSQL cannot parse this file; fix the statement there)
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

import pglast
from pglast import ast, enums
from pglast.parser import ParseError, scan

from workbench.errors import WorkbenchError


@dataclass(frozen=True)
class Comment:
    """A comment: where it is and its body without ``--`` or ``/* */``."""

    start: int
    line: int
    body: str


@dataclass(frozen=True, eq=False)
class Statement:
    """One statement of a file: the line it starts on, its text and PostgreSQL's parse tree."""

    line: int
    sql: str
    node: Any = field(default=None, repr=False)
    start: int = 0
    end: int = 0

    @property
    def kind(self) -> str:
        """The parse node's name (``AlterTableStmt``, ``IndexStmt`` ...)."""
        return type(self.node).__name__

    @property
    def transactional(self) -> bool:
        """False for statements PostgreSQL refuses inside a transaction block."""
        return runs_in_transaction(self.node)


@dataclass
class SqlText:
    """A parsed file: its text, statements, comments, and offset → line arithmetic."""

    name: str
    text: str
    statements: list[Statement]
    comments: list[Comment]
    line_starts: list[int]

    def line(self, offset: int) -> int:
        """1-based line of a character offset."""
        return bisect.bisect_right(self.line_starts, offset)

    def tokens(self, stmt: Statement) -> list[tuple[int, int, str]]:
        """The statement's tokens as ``(start, end_inclusive, name)``, offsets in the file."""
        return [(t.start + stmt.start, t.end + stmt.start, t.name) for t in scan(stmt.sql)
                if t.name not in ("SQL_COMMENT", "C_COMMENT")]

    def action_offsets(self, stmt: Statement) -> list[int]:
        """Where each comma-separated action of an ALTER TABLE-like statement starts (one offset
        per command of the parse tree), else the statement start for each."""
        cmds = list(getattr(stmt.node, "cmds", None) or ())
        relation = getattr(stmt.node, "relation", None)
        location = getattr(relation, "location", None)
        fallback = [stmt.start] * len(cmds)
        if not cmds or location is None or location < 0:
            return fallback
        tokens = [t for t in self.tokens(stmt) if t[0] >= location]
        i = 1
        while i + 1 < len(tokens) and tokens[i][2] == "ASCII_46":  # schema.name
            i += 2
        if i < len(tokens) and tokens[i][2] == "ASCII_42":  # ONLY t *
            i += 1
        if i >= len(tokens):
            return fallback
        offsets, depth = [tokens[i][0]], 0
        for j in range(i, len(tokens)):
            name = tokens[j][2]
            depth += name == "ASCII_40"
            depth -= name == "ASCII_41"
            if name == "ASCII_44" and depth == 0 and j + 1 < len(tokens):
                offsets.append(tokens[j + 1][0])
        return offsets if len(offsets) == len(cmds) else fallback


def parse_sql_text(text: str, name: str = "<sql>") -> SqlText:
    """Parse a migration's text; a syntax error becomes a one-line :class:`WorkbenchError`."""
    line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    try:
        raw = pglast.parse_sql(text)
    except ParseError as exc:
        message, offset = (exc.args + (0,))[:2]
        line = bisect.bisect_right(line_starts, offset)
        column = offset - line_starts[line - 1] + 1
        raise WorkbenchError(f"{name}: line {line}, column {column}: {message}",
                             "PostgreSQL cannot parse this file; fix the statement there") from None
    statements = []
    for item in raw:
        start = item.stmt_location or 0
        end = start + item.stmt_len if item.stmt_len else len(text.rstrip().rstrip(";"))
        sql = text[start:end].strip()
        statements.append(Statement(bisect.bisect_right(line_starts, start), sql, item.stmt,
                                    start, start + len(sql)))
    comments = []
    for token in scan(text):
        if token.name in ("SQL_COMMENT", "C_COMMENT"):
            body = text[token.start:token.end + 1]
            body = body[2:] if token.name == "SQL_COMMENT" else body[2:-2]
            comments.append(Comment(token.start, bisect.bisect_right(line_starts, token.start),
                                    body))
    return SqlText(name, text, statements, comments, line_starts)


def runs_in_transaction(node: Any, pg_version: int = 18) -> bool:
    """Whether PostgreSQL runs this statement inside a transaction block (it refuses
    ``CREATE INDEX CONCURRENTLY``, ``VACUUM``, ``CREATE DATABASE`` ... there).

    >>> runs_in_transaction(pglast.parse_sql("VACUUM t")[0].stmt)
    False
    """
    if isinstance(node, ast.IndexStmt):
        return not node.concurrent
    if isinstance(node, ast.DropStmt):
        return not node.concurrent
    if isinstance(node, ast.ReindexStmt):
        kinds = (enums.ReindexObjectType.REINDEX_OBJECT_SCHEMA,
                 enums.ReindexObjectType.REINDEX_OBJECT_DATABASE,
                 enums.ReindexObjectType.REINDEX_OBJECT_SYSTEM)
        return not (has_option(node.params, "concurrently") or node.kind in kinds)
    if isinstance(node, ast.VacuumStmt):
        return not node.is_vacuumcmd
    if isinstance(node, ast.AlterTableStmt):
        return not any(cmd.subtype == enums.AlterTableType.AT_DetachPartition
                       and getattr(cmd.def_, "concurrent", False) for cmd in node.cmds or ())
    if isinstance(node, ast.ClusterStmt):
        return node.relation is not None
    if isinstance(node, ast.DiscardStmt):
        return node.target != enums.DiscardMode.DISCARD_ALL
    if isinstance(node, ast.AlterEnumStmt):
        return node.oldVal is not None or pg_version >= 12
    if isinstance(node, ast.AlterDatabaseStmt):
        return not any(o.defname == "tablespace" for o in node.options or ())
    return not isinstance(node, ast.CreatedbStmt | ast.DropdbStmt | ast.CreateTableSpaceStmt
                          | ast.DropTableSpaceStmt | ast.AlterSystemStmt
                          | ast.CreateSubscriptionStmt | ast.DropSubscriptionStmt)


def has_option(options: Any, name: str) -> bool:
    """Whether a DefElem list switches ``name`` on (``(FULL)``, ``CONCURRENTLY``, not ``FULL false``)."""
    for option in options or ():
        if option.defname != name:
            continue
        arg = option.arg
        if arg is None:
            return True
        if getattr(arg, "sval", None) is not None:
            return arg.sval.lower() not in ("false", "off", "0", "no")
        if hasattr(arg, "boolval"):
            return bool(arg.boolval)
        return getattr(arg, "ival", 1) != 0
    return False
