"""What the linter knows of the database beyond the file: function volatility and column types.

Volatility comes from the server's ``pg_proc.provolatile`` when a server is at hand, else from a
built-in list of PostgreSQL 18's functions whose every overload is IMMUTABLE or STABLE (so
``now()`` and ``CURRENT_TIMESTAMP`` are not volatile, ``clock_timestamp()`` and
``gen_random_uuid()`` are; a function nobody knows counts as volatile). Column types come from
the statements seen so far (earlier files of the folder, earlier statements of the file) and, with
a server, from ``pg_attribute``: a type change can only be called binary coercible when the old
type is known.

>>> Catalog().volatile("now"), Catalog().volatile("clock_timestamp"), Catalog().volatile("my_fn")
(False, True, True)
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import pglast
from pglast import ast

from workbench.migrations.rules.context import AT, OBJ
from workbench.migrations.sqltext import SqlText


@cache
def builtin_nonvolatile() -> frozenset[str]:
    """Names of built-in functions whose every overload is IMMUTABLE or STABLE."""
    text = resources.files("workbench.migrations").joinpath(
        "data/nonvolatile_functions.txt").read_text()
    return frozenset(ln for ln in text.splitlines() if ln and not ln.startswith("#"))


def parse_type(text: str) -> Any:
    """A type written as SQL (``character varying(10)``) as pglast's TypeName."""
    return pglast.parse_sql(f"SELECT NULL::{text}")[0].stmt.targetList[0].val.typeName


class Catalog:
    """Volatility and column types, from files seen so far and optionally a live server."""

    def __init__(self, conn: Any = None) -> None:
        self.conn = conn
        self.columns: dict[tuple[str, str], Any] = {}
        self._volatility: dict[str, bool] = {}

    def volatile(self, function: str) -> bool:
        """Whether calling ``function`` is VOLATILE (any overload), per the server or the list."""
        if self.conn is None:
            return function not in builtin_nonvolatile()
        if function not in self._volatility:
            row = self.conn.execute("SELECT bool_or(provolatile = 'v') FROM pg_proc "
                                    "WHERE proname = %s", [function]).fetchone()
            self._volatility[function] = True if row[0] is None else bool(row[0])
        return self._volatility[function]

    def column_type(self, table: str, column: str) -> Any:
        """The column's current type (TypeName) if known."""
        key = (table, column)
        if key not in self.columns and self.conn is not None:
            row = self.conn.execute(
                "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a JOIN pg_class c "
                "ON c.oid = a.attrelid WHERE c.relname = %s AND a.attname = %s AND a.attnum > 0 "
                "AND NOT a.attisdropped AND pg_table_is_visible(c.oid)", [table, column]).fetchone()
            self.columns[key] = parse_type(row[0]) if row else None
        return self.columns.get(key)

    def learn(self, sql: SqlText) -> None:
        """Record the column types a file declares (CREATE TABLE, ADD COLUMN, ALTER TYPE)."""
        for stmt in sql.statements:
            node = stmt.node
            if isinstance(node, ast.CreateStmt):
                for element in node.tableElts or ():
                    if isinstance(element, ast.ColumnDef) and element.typeName is not None:
                        self.columns[(node.relation.relname, element.colname)] = element.typeName
            elif isinstance(node, ast.AlterTableStmt) and node.objtype == OBJ.OBJECT_TABLE:
                for cmd in node.cmds:
                    if cmd.subtype == AT.AT_AddColumn and cmd.def_.typeName is not None:
                        self.columns[(node.relation.relname, cmd.def_.colname)] = cmd.def_.typeName
                    elif cmd.subtype == AT.AT_AlterColumnType:
                        self.columns[(node.relation.relname, cmd.name)] = cmd.def_.typeName
