"""Text-format EXPLAIN: the same statements captured as text and JSON on a real server, on the
project's datasets, give the same tree and the same figures; psql's frames, wrapping, tabs and
quoting do not change what is read."""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from workbench.connect import connect
from workbench.dsn import libpq_env
from workbench.errors import WorkbenchError
from workbench.plans import parse_plan
from workbench.plans.capture import workload_statements
from workbench.plans.model import Plan
from workbench.plans.text import clean_lines
from workbench.scripts import bind

# Statements beyond the workload's own, for the plan shapes the text format spells differently.
EXTRA = {
    "cte_initplan_subplan": """
        WITH recent AS MATERIALIZED (SELECT * FROM orders.orders WHERE id % 7 = 0)
        SELECT c.email, (SELECT count(*) FROM recent r WHERE r.customer_id = c.id) AS n,
               (SELECT max(total_cents) FROM orders.orders) AS top
        FROM accounts.customers c WHERE c.id < 40 ORDER BY c.email""",
    "parallel_hash_agg": """
        SELECT o.status, count(*), sum(o.total_cents) FROM orders.orders o
        JOIN orders.order_items i ON i.order_id = o.id GROUP BY o.status ORDER BY 2""",
    "sort_spill_limit": "SELECT * FROM orders.orders ORDER BY ship_name LIMIT 500 OFFSET 10",
    "semi_join_hashagg": """SELECT * FROM orders.orders WHERE id IN
        (SELECT order_id FROM payments.payments WHERE id < 300)""",
    "anti_join_left": """SELECT c.id, o.id FROM accounts.customers c
        LEFT JOIN orders.orders o ON o.customer_id = c.id AND o.total_cents > 90000
        WHERE NOT EXISTS (SELECT 1 FROM payments.refunds r WHERE r.payment_id = c.id)""",
    "append_window_values": """
        SELECT id, rank() OVER (ORDER BY total) FROM (
          SELECT id, total_cents AS total FROM orders.orders WHERE id < 50
          UNION ALL SELECT id, amount_cents FROM payments.payments WHERE id < 50
          UNION ALL SELECT * FROM (VALUES (1, 2), (3, 4)) v(a, b)) u""",
    "bitmap_or": """SELECT count(*) FROM orders.orders WHERE id < 30 OR status = 'paid'""",
    "function_scan_backward": """SELECT g.x, o.id FROM generate_series(1, 20) AS g(x)
        JOIN LATERAL (SELECT id FROM orders.orders WHERE id > g.x ORDER BY id DESC LIMIT 1) o
        ON true""",
    "update_rolled_back": "UPDATE orders.orders SET note = 'text plan' WHERE id < 20",
    "insert_select": """INSERT INTO payments.refunds (payment_id, amount_cents, reason, created_at)
        SELECT id, 1, 'test', now() FROM payments.payments WHERE id < 5""",
}
PARALLEL = ["SET LOCAL parallel_setup_cost = 0", "SET LOCAL parallel_tuple_cost = 0",
            "SET LOCAL min_parallel_table_scan_size = 0", "SET LOCAL work_mem = '64kB'"]
SETTINGS = {"parallel_hash_agg": PARALLEL, "sort_spill_limit": PARALLEL,
            "bitmap_or": ["SET LOCAL enable_seqscan = off", "SET LOCAL enable_indexscan = off"]}
OPTIONS = {
    "full": "ANALYZE, BUFFERS, VERBOSE, SETTINGS, WAL",
    "plain": "ANALYZE",
    "timing_off_costs_off": "ANALYZE, TIMING OFF, COSTS OFF, BUFFERS",
    "estimate": "",
    "estimate_verbose": "VERBOSE, SETTINGS",
}
# Figures that do not change between two executions of one statement on a warm cache; SERIAL
# ones do not change either, unless parallel workers (how many start, who does what) or WAL
# (full-page images after a checkpoint) make two executions differ.
STABLE = ["Node Type", "Parent Relationship", "Subplan Name", "Relation Name", "Schema", "Alias",
          "Index Name", "CTE Name", "Function Name", "Join Type", "Strategy", "Partial Mode",
          "Parallel Aware", "Scan Direction", "Operation", "Command", "Startup Cost",
          "Total Cost", "Plan Rows", "Plan Width", "Workers Planned",
          "Filter", "Index Cond", "Hash Cond", "Recheck Cond", "Join Filter", "Merge Cond",
          "One-Time Filter", "Output", "Sort Key", "Group Key", "Sort Method", "Sort Space Type",
          "Single Copy", "Storage", "Disabled", "Index Searches",
          "Hash Buckets", "Original Hash Buckets", "Heap Fetches"]
SERIAL = ["Actual Rows", "Actual Loops", "Rows Removed by Filter", "Rows Removed by Join Filter",
          "Rows Removed by Index Recheck", "Shared Hit Blocks", "Shared Read Blocks",
          "Local Hit Blocks", "Temp Read Blocks", "Temp Written Blocks", "Sort Space Used",
          "Hash Batches", "HashAgg Batches", "Peak Memory Usage", "Exact Heap Blocks",
          "Lossy Heap Blocks", "Workers Launched"]


def _load_shop(server: str) -> Iterator[str]:
    from workbench.databases import drop_database
    from workbench.loader import load

    name = f"wbtest_text_{uuid.uuid4().hex[:8]}"
    load("shop", scale=0.1, seed=42, database=name, dsn=server, progress=False)
    with connect(server, database=name) as conn:
        yield conn.info.dsn
    drop_database(name, server)


@pytest.fixture(scope="module")
def shop(server_dsn: str) -> Iterator[str]:
    """shop at scale 0.1 on PostgreSQL 18."""
    yield from _load_shop(server_dsn)


@pytest.fixture(scope="module")
def shop15(pg15_dsn: str) -> Iterator[str]:
    """shop at scale 0.1 on PostgreSQL 15 (its text format differs: InitPlan "returns $0",
    I/O Timings without kinds, whole actual rows)."""
    yield from _load_shop(pg15_dsn)


def _statements() -> list[tuple[str, str]]:
    out = []
    for name, text, sets in workload_statements("shop", seed=3, draws=1):
        out.append((name, bind(text, sets[0])))
    return out + list(EXTRA.items())


def _explain(conn: Any, options: str, sql: str, fmt: str, settings: list[str]) -> Any:
    listed = ", ".join(o for o in (options, f"FORMAT {fmt}") if o)
    with conn.transaction(force_rollback=True):
        for setting in settings:
            conn.execute(setting)
        rows = conn.execute(f"EXPLAIN ({listed}) {sql}").fetchall()
    return rows[0][0] if fmt == "JSON" else "\n".join(r[0] for r in rows)


def _same(json_plan: Plan, text_plan: Plan, keys: list[str], where: str) -> None:
    assert [n.depth for n in text_plan.nodes] == [n.depth for n in json_plan.nodes], where
    for jn, tn in zip(json_plan.nodes, text_plan.nodes, strict=True):
        for key in keys:
            expected, got = jn.get(key), tn.get(key)
            if expected in (None, 0, False, [], "Forward") and got in (None, 0, False, [],
                                                                         "Forward"):
                continue  # text leaves out zeros, false flags and the default direction
            assert got == expected, f"{where}: node {jn.id} ({jn.label}) {key}: {got!r} != {expected!r}"
        assert tn.label == jn.label, where


def _timing_read_exactly(text: str, plan: Plan) -> None:
    """Every node's actual time as printed is what was read (times differ between runs, so
    they are checked against the text they came from)."""
    lines = [ln for ln in clean_lines(text) if "(actual time=" in ln]
    timed = [n for n in plan.nodes if n.get("Actual Total Time") is not None
             and n.get("Actual Loops")]
    assert len(lines) == len(timed)
    for line, node in zip(lines, timed, strict=True):
        assert (f"actual time={node.get('Actual Startup Time'):.3f}.."
                f"{node.get('Actual Total Time'):.3f} ") in line


@pytest.mark.slow
@pytest.mark.parametrize("database", ["shop", "shop15"])
def test_text_and_json_plans_of_the_same_statements_agree(database: str,
                                                          request: pytest.FixtureRequest) -> None:
    shop = request.getfixturevalue(database)
    compared = 0
    shapes: set[str] = set()
    with connect(shop) as conn:
        conn.execute("SET jit = off")
        for name, sql in _statements():
            settings = SETTINGS.get(name, [])
            parallel = settings is PARALLEL
            _explain(conn, "ANALYZE", sql, "JSON", settings)  # warm the cache first
            for label, options in OPTIONS.items():
                where = f"{name} [{label}]"
                json_plan = parse_plan(_explain(conn, options, sql, "JSON", settings))
                text = _explain(conn, options, sql, "TEXT", settings)
                text_plan = parse_plan(text)
                assert text_plan.source_format == "text"
                runs_differ = parallel or "WAL" in options or name.startswith(("update", "insert"))
                keys = STABLE + ([] if runs_differ else SERIAL) + (
                    ["Inner Unique"] if "VERBOSE" in options else [])  # text: VERBOSE only
                _same(json_plan, text_plan, keys, where)
                if json_plan.analyzed:
                    _timing_read_exactly(text, text_plan)
                    assert text_plan.execution_ms is not None and text_plan.planning_ms is not None
                    assert sum(n.self_ms for n in text_plan.nodes) == pytest.approx(
                        text_plan.execution_ms, abs=0.01), where
                assert text_plan.settings == json_plan.settings, where
                shapes.update(n.node_type for n in text_plan.nodes)
                compared += 1
    assert compared >= 5 * 20
    # The statements really cover what the text format spells its own way.
    assert {"Hash Join", "Nested Loop", "Aggregate", "Gather Merge", "Append", "CTE Scan",
            "Bitmap Heap Scan", "BitmapOr", "Function Scan", "ModifyTable", "WindowAgg",
            "Index Only Scan", "Values Scan"} <= shapes, shapes


PSQL_STYLES = {
    "aligned": [],
    "wrapped_ascii": ["\\pset format wrapped", "\\pset columns 60"],
    "wrapped_unicode_frames": ["\\pset format wrapped", "\\pset columns 70", "\\pset border 2",
                               "\\pset linestyle unicode"],
    "ascii_frames": ["\\pset border 2"],
    "unaligned": ["\\pset format unaligned", "\\pset tuples_only on"],
    "csv": ["\\pset format csv"],
}


def _psql(dsn: str, commands: list[str], sql: str) -> str:
    from workbench.config import pg_bindir

    argv = [str(pg_bindir() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1"]
    for command in [*commands, "BEGIN", *PARALLEL, sql, "ROLLBACK"]:
        argv += ["-c", command]
    result = subprocess.run(argv, env=libpq_env(dsn, with_database=True), capture_output=True,
                            text=True, check=True, timeout=60)
    return result.stdout


@pytest.mark.parametrize("style", sorted(PSQL_STYLES))
def test_what_psql_prints_reads_like_the_json_plan(shop: str, style: str) -> None:
    sql = EXTRA["cte_initplan_subplan"].strip()
    with connect(shop) as conn:
        json_plan = parse_plan(_explain(conn, "ANALYZE, BUFFERS, VERBOSE", sql, "JSON", PARALLEL))
    printed = _psql(shop, PSQL_STYLES[style], f"EXPLAIN (ANALYZE, BUFFERS, VERBOSE) {sql}")
    if style.startswith("wrapped"):
        assert any(len(line) <= 72 for line in printed.splitlines())
        assert re.search(r"[.…]\s*[|│]?\s*$", printed, re.M), "psql did not wrap: nothing tested"
    text_plan = parse_plan(printed)
    _same(json_plan, text_plan, STABLE + SERIAL, style)
    assert [n.get("Subplan Name") for n in text_plan.nodes if n.get("Subplan Name")] == [
        "CTE recent", "InitPlan 3", "SubPlan 2"]
    assert text_plan.execution_ms is not None


def test_tabs_quotes_and_terminal_wrapping_read_the_same(shop: str) -> None:
    sql = EXTRA["parallel_hash_agg"]
    with connect(shop) as conn:
        text = _explain(conn, "ANALYZE, BUFFERS, VERBOSE", sql, "TEXT", PARALLEL)
    reference = parse_plan(text)
    assert any(n.get("Workers") for n in reference.nodes)
    tabbed = "\n".join(re.sub(r"^( +)", lambda m: "\t" * (len(m.group(1)) // 2) + " " * (
        len(m.group(1)) % 2), line) for line in text.splitlines())
    quoted = "\n".join('"' + line.replace('"', '""') + '"' for line in text.splitlines())
    # Terminals cut long lines anywhere (not inside the indentation: they are wider than that).
    cuts = ["\n".join(line[i:i + width] for line in text.splitlines()
                      for i in range(0, max(len(line), 1), width)) for width in range(60, 140, 7)]
    for variant in (tabbed, quoted, *cuts):
        plan = parse_plan(variant)
        _same(reference, plan, STABLE + SERIAL + ["Actual Total Time", "Actual Startup Time"],
              variant[:30])
        for node, expected in zip(plan.nodes, reference.nodes, strict=True):
            for got, want in zip(node.get("Workers") or [], expected.get("Workers") or [],
                                 strict=True):
                assert got == want, (variant[:30], set(got.items()) ^ set(want.items()))
        assert plan.execution_ms == reference.execution_ms


@pytest.mark.parametrize("text, message", [
    ("   ->  Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)", "no parent"),
    ("QUERY PLAN\n----------\n(0 rows)", "empty plan"),
    ("Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)\nthis is not a plan line", None),
])
def test_bad_text_plans_are_clear_errors(text: str, message: str | None) -> None:
    if message is None:  # a stray line is read as the previous line cut by a terminal
        assert parse_plan(text).root.relation == "t"
        return
    with pytest.raises(WorkbenchError, match=message):
        parse_plan(text)


def test_shared_json_corpus_still_parses_through_the_same_entry(shared_dir: Path) -> None:
    for path in sorted((shared_dir / "plans").glob("*.json")):
        assert parse_plan(path.read_bytes()).source_format == "json"


def test_plan_diff_reads_text_plans_pasted_from_psql(shop: str, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from workbench.cli import main

    sql = "SELECT * FROM orders.orders WHERE customer_id = 17"
    before = tmp_path / "before.txt"
    before.write_text(_psql(shop, [], f"EXPLAIN (ANALYZE, BUFFERS) {sql}"))
    with connect(shop) as conn:
        conn.execute("CREATE INDEX wb_text_diff_idx ON orders.orders (customer_id)")
        try:
            (tmp_path / "after.txt").write_text(_psql(shop, [], f"EXPLAIN (ANALYZE, BUFFERS) {sql}"))
        finally:
            conn.execute("DROP INDEX orders.wb_text_diff_idx")
    assert main(["plan-diff", str(before), str(tmp_path / "after.txt")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("plan: Seq Scan on orders → ") and "wb_text_diff_idx" in out
