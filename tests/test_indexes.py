"""Index builds: concurrent, measured, and never leaving an INVALID index behind."""

from __future__ import annotations

import uuid

import pytest
from psycopg import sql

from workbench.connect import connect
from workbench.errors import UnsafeOperation, WorkbenchError
from workbench.indexes import IndexSpec, build_index, drop_index, index_size, invalid_indexes


@pytest.mark.parametrize(
    ("ddl", "schema", "table", "name", "out"),
    [
        ("CREATE INDEX o_idx ON orders.orders (customer_id);", "orders", "orders", "o_idx",
         "CREATE INDEX CONCURRENTLY o_idx ON orders.orders (customer_id)"),
        ("create unique index concurrently if not exists U ON t(a)", "public", "t", "u",
         "create unique index concurrently if not exists U ON t(a)"),
        ('CREATE INDEX IF NOT EXISTS "Odd Name" ON "My S"."T" USING gin (p)', "My S", "T",
         "Odd Name", 'CREATE INDEX CONCURRENTLY IF NOT EXISTS "Odd Name" ON "My S"."T" USING gin (p)'),
    ],
)
def test_spec_from_ddl(ddl: str, schema: str, table: str, name: str, out: str) -> None:
    spec = IndexSpec.from_ddl(ddl)
    assert (spec.schema, spec.table, spec.name, spec.ddl) == (schema, table, name, out)


@pytest.mark.parametrize("ddl", ["CREATE INDEX ON t (a)", "SELECT 1", "CREATE TABLE x (a int)"])
def test_unnamed_or_other_statements_are_refused(ddl: str) -> None:
    with pytest.raises(WorkbenchError, match="not a named CREATE INDEX"):
        IndexSpec.from_ddl(ddl)


@pytest.fixture
def table_db(fresh_db: str) -> str:
    with connect(fresh_db) as conn:
        conn.execute("CREATE SCHEMA app")
        conn.execute("CREATE TABLE app.t AS SELECT g AS id, g % 10 AS k FROM generate_series(1, 5000) g")
    return fresh_db


def test_build_records_time_and_size_then_drop(table_db: str) -> None:
    built = build_index(table_db, "CREATE INDEX t_k_idx ON app.t (k)")
    assert built.ddl.startswith("CREATE INDEX CONCURRENTLY")
    with connect(table_db) as conn:
        assert built.size_bytes == index_size(conn, "app", "t_k_idx") > 0
    assert built.seconds > 0
    assert drop_index(table_db, "app", "t_k_idx") is True
    with connect(table_db) as conn:
        assert index_size(conn, "app", "t_k_idx") == -1
    assert drop_index(table_db, "app", "t_k_idx") is False


def test_failed_concurrent_build_leaves_no_invalid_index(table_db: str) -> None:
    with pytest.raises(WorkbenchError, match=r"building index t_k_uniq on app\.t failed: could not "
                                             r"create unique index.*nothing was left behind"):
        build_index(table_db, "CREATE UNIQUE INDEX t_k_uniq ON app.t (k)")
    with connect(table_db) as conn:
        assert invalid_indexes(conn) == []
        assert index_size(conn, "app", "t_k_uniq") == -1


def test_refuses_on_a_database_the_workbench_does_not_own(server_dsn: str) -> None:
    name = f"foreign_{uuid.uuid4().hex[:8]}"
    with connect(server_dsn) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with connect(server_dsn, database=name) as conn:
            conn.execute("CREATE TABLE t (a int)")
            dsn = conn.info.dsn
        with pytest.raises(UnsafeOperation):
            build_index(dsn, "CREATE INDEX t_a ON t (a)")
        built = build_index(dsn, "CREATE INDEX t_a ON t (a)", allow_destructive=True)
        assert built.schema == "public"
    finally:
        with connect(server_dsn) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
