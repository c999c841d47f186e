"""Scratch copies of a workbench database: made from it, marked, dropped afterwards; stale ones
(their process gone) cleaned up; never of a database the workbench does not own."""

from __future__ import annotations

import subprocess

import pytest

from workbench.advisor.scratch import PREFIX, ScratchCopy
from workbench.connect import connect, resolve_dsn
from workbench.databases import read_marker
from workbench.errors import UnsafeOperation, WorkbenchError


def _copies(dsn: str) -> list[str]:
    with connect(dsn, database="postgres") as conn:
        return [r[0] for r in conn.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s) ORDER BY 1",
            [PREFIX]).fetchall()]


def test_a_copy_holds_the_data_and_goes_away(fresh_db: str) -> None:
    with connect(fresh_db) as conn:
        conn.execute("CREATE TABLE t AS SELECT g FROM generate_series(1, 100) g")
        source = conn.execute("SELECT current_database()").fetchone()[0]
    gone = subprocess.Popen(["true"])  # a process that has exited: its copy is stale
    gone.wait()
    stale = f"{PREFIX}{source}_{gone.pid}_abcdef"
    with connect(fresh_db, database="postgres") as conn:
        conn.execute(f'CREATE DATABASE "{stale}" TEMPLATE "{source}"')
    with ScratchCopy(fresh_db) as copy:
        with connect(copy) as conn:
            assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 100
            assert read_marker(conn)["copy_of"] == source
        assert stale not in _copies(fresh_db)
        assert len([c for c in _copies(fresh_db) if source in c]) == 1
    assert not [c for c in _copies(fresh_db) if source in c]


def test_no_copy_while_someone_is_connected(fresh_db: str) -> None:
    with connect(fresh_db), pytest.raises(WorkbenchError, match="cannot copy database"):
        ScratchCopy(fresh_db).__enter__()
    assert not [c for c in _copies(fresh_db) if "wbtest" in c]


def test_no_copy_of_a_database_the_workbench_does_not_own(server_dsn: str) -> None:
    with pytest.raises(UnsafeOperation):
        ScratchCopy(resolve_dsn(server_dsn, database="postgres")).__enter__()
