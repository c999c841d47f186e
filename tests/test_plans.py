"""Plans: the shared corpus, hints on real plans, diffs, capture on PostgreSQL 18 and 15."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.connect import connect
from workbench.errors import WorkbenchError
from workbench.plans import (
    diff_plans,
    explain,
    explain_workload,
    load_plan_file,
    load_plans,
    parse_plan,
    plan_hints,
)

DATA = Path(__file__).parent / "data" / "plans"


def test_every_corpus_plan_parses_and_self_times_add_up(shared_dir: Path) -> None:
    files = sorted((shared_dir / "plans").glob("*.json"))
    assert len(files) >= 39
    timed = 0
    for path in files:
        plan = parse_plan(path.read_text())
        frame = plan.nodes_frame()
        assert len(frame) == len(plan.nodes) >= 1
        if plan.execution_ms is None or not plan.analyzed:
            continue
        timed += 1
        total = plan.execution_ms
        assert sum(n.self_ms for n in plan.nodes) == pytest.approx(total, abs=0.01), path.name
        # Attribution is honest: no node gets materially negative time (loops, parallel workers
        # and CTEs are accounted for), beyond the rounding of the source's 3 decimals per node.
        floor = -max(0.002 * len(plan.nodes), 0.005 * total)
        assert min(n.self_ms for n in plan.nodes) >= floor, path.name
    assert timed >= 15


def test_parallel_plan_counts_worker_time_once(shared_dir: Path) -> None:
    for path in sorted((shared_dir / "plans").glob("*.json")):
        plan = parse_plan(path.read_text())
        gathers = [n for n in plan.nodes if n.node_type in ("Gather", "Gather Merge")
                   and n.get("Workers Launched")]
        if plan.analyzed and gathers:
            gather = gathers[0]
            child = gather.children[0]
            assert child.processes == gather.get("Workers Launched") + 1
            assert child.total_ms <= gather.total_ms + 0.01
            return
    pytest.skip("no analysed parallel plan in the corpus")


@pytest.mark.parametrize("bad", ["", "{", "[]", '{"Plan": {}}', '[{"Plan": {"Node Type": "Seq '
                                 'Scan", "Plans": [{"Total Cost": 1}]}}]'])
def test_bad_plan_json_is_a_clear_error(bad: str) -> None:
    with pytest.raises(WorkbenchError):
        parse_plan(bad)


@pytest.fixture
def table_db(fresh_db: str) -> str:
    with connect(fresh_db) as conn:
        conn.execute("CREATE SCHEMA app")
        conn.execute("CREATE TABLE app.t WITH (autovacuum_enabled = off) AS "
                     "SELECT g AS id, g % 1000 AS k, md5(g::text) AS pad "
                     "FROM generate_series(1, 100000) g")
        conn.execute("ANALYZE app.t")
    return fresh_db


def _plan(dsn: str, sql: str, *settings: str):
    with connect(dsn) as conn:
        for setting in settings:
            conn.execute(setting)
        result = explain(conn, sql, name="q")
    assert result.error is None, result.error
    return result.plan


def test_hints_on_real_plans(table_db: str) -> None:
    codes = lambda plan: {h.code for h in plan_hints(plan)}  # noqa: E731
    seq = _plan(table_db, "SELECT * FROM app.t WHERE k = 7")
    assert "seq-scan-filter" in codes(seq)
    spill = _plan(table_db, "SELECT * FROM app.t ORDER BY pad", "SET work_mem = '64kB'")
    assert "sort-spill" in codes(spill)
    hint = next(h for h in plan_hints(spill) if h.code == "sort-spill")
    assert hint.message.startswith("Sort spills to disk (") and spill.nodes[hint.node].node_type == "Sort"
    mis = _plan(table_db, "SELECT * FROM app.t WHERE k = 7 AND id % 1000 = 7")
    assert "row-misestimate" in codes(mis)
    with connect(table_db) as conn:
        conn.execute("CREATE INDEX t_k ON app.t (k)")
        conn.execute("CREATE TABLE app.big AS SELECT g AS id, g % 1000 AS k, md5(g::text) AS pad "
                     "FROM generate_series(1, 400000) g")
        conn.execute("CREATE INDEX big_k ON app.big (k)")
        conn.execute("ANALYZE app.big")
    lossy = _plan(table_db, "SELECT * FROM app.big WHERE k < 500", "SET work_mem = '64kB'",
                  "SET enable_seqscan = off", "SET enable_indexscan = off")
    assert "lossy-bitmap" in codes(lossy)
    fresh = _plan(table_db, "SELECT k FROM app.t WHERE k < 500", "SET enable_seqscan = off",
                  "SET enable_bitmapscan = off")
    if any(n.node_type == "Index Only Scan" for n in fresh.nodes):
        assert "heap-fetches" in codes(fresh)  # autovacuum off on app.t: the map stays empty
    quiet = _plan(table_db, "SELECT * FROM app.t WHERE id = 5 LIMIT 1")
    assert "sort-spill" not in codes(quiet) and "lossy-bitmap" not in codes(quiet)


@pytest.mark.parametrize("version", ["pg18", "pg15"])
def test_diff_of_stored_captures_shows_the_index(version: str) -> None:
    before = load_plan_file(str(DATA / version / "shop-before.json"))
    after = load_plan_file(str(DATA / version / "shop-after-orders-customer-created-idx.json"))
    diff = diff_plans(before["recent_orders"], after["recent_orders"])
    assert diff.verdict.startswith("Seq Scan on orders.orders → ")
    assert "tmp_oc" in diff.verdict and diff.changed
    assert diff.time_pct is not None and diff.time_pct < -50
    same = diff_plans(before["lookup_by_email"], after["lookup_by_email"])
    assert same.verdict.startswith("same plan shape")


def test_capture_reports_per_statement_errors_and_goes_on(table_db: str) -> None:
    with connect(table_db) as conn:
        results = [explain(conn, sql, name=str(i)) for i, sql in enumerate([
            "SELECT * FROM app.nope", "SELEC 1", "CREATE TABLE app.x (a int)",
            "SELECT pg_sleep(1)", "UPDATE app.t SET k = 0 WHERE id = 1", "SELECT count(*) FROM app.t",
        ])]
        assert results[3].note is None
        slow = explain(conn, "SELECT pg_sleep(1)", statement_timeout_ms=100)
        written = explain(conn, "UPDATE app.t SET k = -1 WHERE id = 1", allow_writes=True)
        assert conn.execute("SELECT k FROM app.t WHERE id = 1").fetchone()[0] == 1  # rolled back
    assert 'relation "app.nope" does not exist' in results[0].error
    assert "syntax error" in results[1].error
    assert results[2].error == "DDL statements are not explained"
    assert results[4].plan is not None and not results[4].plan.analyzed and "write" in results[4].note
    assert results[5].plan.analyzed and results[5].error is None
    assert "statement timeout of 100 ms hit" in slow.note and slow.plan is not None
    assert written.plan.analyzed


def test_workload_capture_json_contract_and_offline_reload(server_dsn: str, tmp_path: Path) -> None:
    from workbench.databases import drop_database
    from workbench.loader import load

    load("shop", scale=0.05, database="wbtest_plans_shop", dsn=server_dsn, progress=False,
         replace=True)
    try:
        capture = explain_workload("shop", database="wbtest_plans_shop", dsn=server_dsn, draws=2)
        capture.save(tmp_path / "plans")
    finally:
        drop_database("wbtest_plans_shop", server_dsn)
    doc = capture.to_json()
    names = [s["name"] for s in doc["statements"]]
    assert "recent_orders" in names and "browse_hot_products.2" in names
    for statement in doc["statements"]:
        assert {"name", "sql", "params", "total_ms", "planning_ms", "shared_hit", "shared_read",
                "nodes", "hints"} <= set(statement)
        if statement["total_ms"] is not None:
            assert sum(n["self_ms"] for n in statement["nodes"]) == pytest.approx(
                statement["total_ms"], abs=0.01 * len(statement["nodes"]))
            assert set(statement["nodes"][0]) == {"id", "parent", "node_type", "relation", "index",
                                                  "actual_rows", "plan_rows", "loops", "self_ms",
                                                  "shared_hit", "shared_read"}
    recent = capture.get("recent_orders")
    assert ":cid" in recent.sql and "cid" in recent.params and len(recent.draws) == 2
    assert "seq-scan-filter" in {h.code for h in recent.hints}
    again = load_plans(tmp_path / "plans")
    assert [s.name for s in again.statements] == names
    assert "<table>" in again.get("recent_orders").plan._repr_html_()


@pytest.mark.parametrize("fixture", ["fresh_db", "fresh_db15"])
def test_generic_plans_from_pg_stat_statements(fixture: str, request: pytest.FixtureRequest) -> None:
    dsn = request.getfixturevalue(fixture)
    with connect(dsn) as conn:
        conn.execute("CREATE TABLE items (id int PRIMARY KEY, k int)")
        conn.execute("INSERT INTO items SELECT g, g % 7 FROM generate_series(1, 1000) g")
        for i in range(5):
            conn.execute("SELECT * FROM items WHERE k = %s AND id > %s", [i, i])
    capture = explain_workload(from_stat_statements=5, dsn=dsn)
    ours = [s for s in capture.statements if "FROM items WHERE k" in s.sql]
    assert ours and ours[0].plan is not None and ours[0].error is None
    assert "generic plan" in ours[0].note


def test_cli_explain_and_plan_diff(table_db: str, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    sql = "SELECT * FROM app.t WHERE k = 7"
    assert main(["explain", "--dsn", table_db, "--sql", sql, "--json"]) == 0
    (tmp_path / "a.json").write_text(capsys.readouterr().out)
    with connect(table_db) as conn:
        conn.execute("CREATE INDEX t_k_idx ON app.t (k)")
    assert main(["explain", "--dsn", table_db, "--sql", sql, "--out", str(tmp_path / "b")]) == 0
    capsys.readouterr()
    assert main(["plan-diff", str(tmp_path / "a.json"), str(tmp_path / "b"), "--json"]) == 0
    verdict = json.loads(capsys.readouterr().out)["sql"]["verdict"]
    assert verdict.startswith("Seq Scan on app.t → Bitmap Heap Scan on app.t") or \
        verdict.startswith("Seq Scan on app.t → Index Scan using t_k_idx on app.t")
