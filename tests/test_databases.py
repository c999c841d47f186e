"""Databases the workbench owns, and the refusal to harm others."""

from __future__ import annotations

import uuid

import pytest
from psycopg import sql

from workbench.connect import connect
from workbench.databases import (
    create_database,
    drop_database,
    exists,
    read_marker,
    require_owned,
    set_meta,
)
from workbench.errors import UnsafeOperation, WorkbenchError


@pytest.fixture
def foreign_db(server_dsn: str):
    """A database someone else made: no workbench marker."""
    name = f"foreign_{uuid.uuid4().hex[:8]}"
    with connect(server_dsn) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield name
    with connect(server_dsn) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_created_database_is_marked_with_metadata(fresh_db: str) -> None:
    with connect(fresh_db) as conn:
        set_meta(conn, dataset="shop", seed=7)
        marker = read_marker(conn)
        schemas = {s for (s,) in conn.execute("select nspname from pg_namespace")}
    assert marker is not None
    assert marker["dataset"] == "shop" and marker["seed"] == 7
    assert marker["workbench_version"]
    assert "workbench" in schemas


def test_unmarked_database_refuses_destructive_steps(server_dsn: str, foreign_db: str) -> None:
    with connect(server_dsn, database=foreign_db) as conn:
        assert read_marker(conn) is None
        with pytest.raises(UnsafeOperation, match=r"refusing to build indexes on .*--allow-destructive"):
            require_owned(conn, False, "build indexes")
        require_owned(conn, True, "build indexes")  # the explicit permission
    with pytest.raises(UnsafeOperation):
        drop_database(foreign_db, server_dsn)
    assert exists(foreign_db, server_dsn)
    with pytest.raises(UnsafeOperation):
        create_database(foreign_db, server_dsn, replace=True)
    assert exists(foreign_db, server_dsn)


def test_existing_database_needs_replace(server_dsn: str) -> None:
    name = f"wbtest_{uuid.uuid4().hex[:8]}"
    create_database(name, server_dsn)
    try:
        with pytest.raises(WorkbenchError, match="already exists.*--replace"):
            create_database(name, server_dsn)
        create_database(name, server_dsn, replace=True, dataset="x")
        with connect(server_dsn, database=name) as conn:
            assert read_marker(conn)["dataset"] == "x"
    finally:
        assert drop_database(name, server_dsn) is True
    assert not exists(name, server_dsn)
    assert drop_database(name, server_dsn) is False


def test_identifiers_are_quoted_not_formatted(server_dsn: str) -> None:
    name = 'wb "odd"; name'
    create_database(name, server_dsn)
    try:
        assert exists(name, server_dsn)
    finally:
        drop_database(name, server_dsn)


def test_overlong_name_is_refused() -> None:
    with pytest.raises(WorkbenchError, match="1 to 63 bytes"):
        create_database("x" * 64)
