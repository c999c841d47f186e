"""A scratch copy of a workbench database: ``CREATE DATABASE ... TEMPLATE``, dropped afterwards.

The advisor builds indexes for real where HypoPG cannot represent them (GIN, GiST) or keeps no
statistics for them (expressions). Building them in the user's database would lock its tables for
the whole evaluation; a copy takes them as they are, statistics included, and is dropped at the
end. PostgreSQL copies a database only while nobody else is connected to it, so a copy fails while
a workload runs; the caller then reports those candidates as not evaluable instead.

>>> with ScratchCopy(dsn) as copy_dsn:                     # doctest: +SKIP
...     with connect(copy_dsn) as conn:
...         conn.execute("CREATE INDEX ON events.events USING gin (payload)")
"""

from __future__ import annotations

import os
import re
import secrets
from types import TracebackType

import psycopg
from psycopg import sql

from workbench.connect import connect, resolve_dsn
from workbench.databases import MAINTENANCE_DB, drop_database, read_marker, set_meta
from workbench.errors import UnsafeOperation, WorkbenchError

PREFIX = "wb_scratch_"


class ScratchCopy:
    """Context manager: a copy of the database ``dsn`` points at; yields the copy's DSN."""

    def __init__(self, dsn: str | None = None) -> None:
        self.source_dsn = resolve_dsn(dsn)
        self.name = ""
        self.dsn = ""

    def __enter__(self) -> str:
        with connect(self.source_dsn) as conn:
            source = str(conn.execute("SELECT current_database()").fetchone()[0])
            if read_marker(conn) is None:
                raise UnsafeOperation(
                    f"refusing to copy database {source}: it is not a database the workbench "
                    "created", "copies are made of workbench databases only")
        self._drop_stale(source)
        self.name = f"{PREFIX}{source[:30]}_{os.getpid()}_{secrets.token_hex(3)}"
        try:
            with connect(self.source_dsn, database=MAINTENANCE_DB) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(self.name), sql.Identifier(source)))
        except psycopg.Error as exc:
            raise WorkbenchError(
                f"cannot copy database {source}: {str(exc).splitlines()[0]}",
                "close other sessions on it (a running workload, a notebook) and try again",
            ) from None
        self.dsn = resolve_dsn(self.source_dsn, database=self.name)
        try:
            with connect(self.dsn) as conn:
                set_meta(conn, copy_of=source, scratch=True)
        except BaseException:
            self._drop()
            raise
        return self.dsn

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._drop()

    def _drop_stale(self, source: str) -> None:
        """Drop copies of ``source`` left by a process of this machine that no longer runs (killed
        before it could clean up); the servers are on loopback, so the pid in the name is ours."""
        pattern = re.compile(rf"^{re.escape(PREFIX + source[:30])}_(\d+)_[0-9a-f]{{6}}$")
        with connect(self.source_dsn, database=MAINTENANCE_DB) as conn:
            names = [r[0] for r in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s",
                [PREFIX.replace("_", r"\_") + "%"]).fetchall()]
        for name in names:
            match = pattern.match(name)
            if match and not _alive(int(match.group(1))):
                drop_database(name, self.source_dsn)

    def _drop(self) -> None:
        if self.name:
            drop_database(self.name, self.source_dsn)
            self.name = ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
