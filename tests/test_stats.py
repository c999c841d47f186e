"""Statistics snapshots and deltas against a real server (PostgreSQL 18 and 15)."""

from __future__ import annotations

import threading
import time

import pytest

from workbench.connect import connect
from workbench.stats import (
    WaitSampler,
    map_statements,
    normalize_sql,
    snapshot,
)


def _workload(dsn: str) -> None:
    with connect(dsn) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS app")
        conn.execute("CREATE TABLE IF NOT EXISTS app.t (id int PRIMARY KEY, k int)")
        conn.execute("INSERT INTO app.t SELECT g, g % 10 FROM generate_series(1, 1000) g "
                     "ON CONFLICT DO NOTHING")


@pytest.mark.parametrize("fixture", ["fresh_db", "fresh_db15"])
def test_deltas_count_what_happened(fixture: str, request: pytest.FixtureRequest) -> None:
    dsn = request.getfixturevalue(fixture)
    _workload(dsn)
    with connect(dsn) as conn:
        before = snapshot(conn)
        for i in range(7):
            conn.execute("SELECT count(*) FROM app.t WHERE k = %s", [i])
        conn.execute("SELECT pg_stat_force_next_flush()")  # table counters flush lazily (15+)
        after = snapshot(conn)
        version = conn.info.server_version
    delta = after.minus(before)
    statements = delta.frames["statements"]
    ours = statements[statements["query"].str.contains("FROM app.t WHERE k")]
    assert ours["calls"].sum() == 7
    tables = delta.frames["tables"].set_index("relation")
    assert tables.loc["app.t", "seq_scan"] == 7
    assert tables.loc["app.t", "heap_blks_hit"] + tables.loc["app.t", "heap_blks_read"] >= 7
    assert ("io" if version >= 160000 else "bgwriter") in delta.frames
    assert "wal" in delta.frames
    assert delta.buffers()["shared_hit"] > 0


def test_statements_map_back_to_scripts(fresh_db: str) -> None:
    _workload(fresh_db)
    with connect(fresh_db) as conn:
        before = snapshot(conn)
        conn.execute("SELECT k FROM app.t WHERE id = 5")
        delta = snapshot(conn).minus(before)
    mapped = map_statements(delta.frames["statements"],
                            [("lookup", 0, "select k from app.t where id = :id;")])
    row = mapped[mapped["query"].str.startswith("SELECT k FROM app.t")]
    assert list(row["script"]) == ["lookup"] and list(row["statement"]) == [0]


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("SELECT * FROM t WHERE a = :aid", "select * from t where a = $1", True),
        ("UPDATE t SET n = n + :d WHERE id = :id", "UPDATE t SET n = n + $1 WHERE id = $2", True),
        ("SELECT * FROM t WHERE s = 'pending'", "SELECT * FROM t WHERE s = $1", True),
        ("SELECT x::int FROM t", "SELECT x::int FROM t", True),
        ("SELECT * FROM t WHERE a = 1", "SELECT * FROM u WHERE a = 1", False),
    ],
)
def test_normalize_sql(a: str, b: str, same: bool) -> None:
    assert (normalize_sql(a) == normalize_sql(b)) is same


def test_wait_sampler_sees_a_lock_wait_and_who_blocks(fresh_db: str) -> None:
    _workload(fresh_db)
    holder = connect(fresh_db, autocommit=False)
    holder.execute("LOCK TABLE app.t IN ACCESS EXCLUSIVE MODE")
    with WaitSampler(fresh_db, interval=0.1) as sampler:
        blocked = threading.Thread(
            target=lambda: connect(fresh_db).execute("SELECT count(*) FROM app.t").fetchone())
        blocked.start()
        time.sleep(0.8)
        holder.rollback()
        blocked.join(timeout=10)
    holder.close()
    locks = sampler.lock_frame()
    assert (locks["query"] == "SELECT count(*) FROM app.t").any()
    assert locks["blocking_query"].str.contains("LOCK TABLE").any()
    waits = sampler.frame()
    assert (waits["wait_event_type"] == "Lock").any()
    assert sampler.error is None


def test_a_reset_by_someone_else_is_reported_not_made_negative(fresh_db: str) -> None:
    _workload(fresh_db)
    with connect(fresh_db) as conn:
        for i in range(5):
            conn.execute("SELECT count(*) FROM app.t WHERE k = %s", [i])
        conn.execute("SELECT pg_stat_force_next_flush()")
        before = snapshot(conn)
        with connect(fresh_db) as other:
            other.execute("SELECT pg_stat_reset()")  # someone else's reset, mid-interval
        for i in range(2):
            conn.execute("SELECT count(*) FROM app.t WHERE k = %s", [i])
        conn.execute("SELECT pg_stat_force_next_flush()")
        delta = snapshot(conn).minus(before)
    tables = delta.frames["tables"].set_index("relation")
    assert tables.loc["app.t", "seq_scan"] == 2  # counted since the reset, not 2 - 5 = -3
    assert any(r.startswith("tables:") for r in delta.resets)
    numeric = tables.select_dtypes("number")
    assert (numeric.fillna(0) >= 0).all().all()


def test_a_run_leaves_a_foreign_databases_statistics_alone(server_dsn: str, tmp_path) -> None:
    """No statistics reset on a database the workbench did not create: a marker statement's
    pg_stat_statements counters and the table counters survive a run against it."""
    import uuid

    from psycopg import sql

    from workbench.runs import run_workload

    name = f"foreign_{uuid.uuid4().hex[:8]}"
    marker = f"SELECT count(*) AS someone_elses_monitoring_{name} FROM t"  # survives normalizing
    with connect(server_dsn) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with connect(server_dsn, database=name) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.execute("CREATE TABLE t (id int PRIMARY KEY)")
            conn.execute("INSERT INTO t SELECT generate_series(1, 100)")
            for _ in range(3):
                conn.execute(marker)  # type: ignore[arg-type]
            conn.execute("SELECT pg_stat_force_next_flush()")

        def counters() -> tuple[int, int]:
            with connect(server_dsn, database=name) as conn:
                calls = conn.execute("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements "
                                     "WHERE query LIKE %s", [f"%someone_elses_monitoring_{name}%"]
                                     ).fetchone()[0]
                scans = conn.execute("SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 't'"
                                     ).fetchone()[0]
            return int(calls), int(scans)

        calls, scans = counters()
        assert calls == 3 and scans >= 3
        script = tmp_path / "one.sql"
        script.write_text("SELECT 1;\n")
        run = run_workload(script, dsn=server_dsn, database=name, clients=1, duration=1,
                           warmup=0, out=tmp_path / "run", progress=False)
        assert run.status == "complete"
        after_calls, after_scans = counters()
        assert after_calls == calls and after_scans >= scans
        assert "stats_reset_problems" not in run.manifest
    finally:
        with connect(server_dsn) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))
