"""The advisor end to end on loaded datasets (build mode on PostgreSQL 18, HypoPG on 15)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.advisor.advise import advise
from workbench.advisor.existing import covers, existing_indexes
from workbench.cli import main
from workbench.connect import connect
from workbench.databases import drop_database
from workbench.datasets import get_dataset
from workbench.indexes import invalid_indexes
from workbench.loader import load

HYPOPG = Path("/usr/share/postgresql/15/extension/hypopg.control")


@pytest.fixture(scope="module")
def shop18(server_dsn: str):
    result = load("shop", scale=0.1, database="wbtest_adv_shop", dsn=server_dsn, progress=False,
                  replace=True)
    yield result.dsn
    drop_database("wbtest_adv_shop", server_dsn)


@pytest.fixture(scope="module")
def events18(server_dsn: str):
    result = load("events", scale=0.1, database="wbtest_adv_events", dsn=server_dsn,
                  progress=False, replace=True)
    yield result.dsn
    drop_database("wbtest_adv_events", server_dsn)


def _finds(advice, omitted) -> bool:
    for rec in advice.recommendations:
        if rec.table != omitted.table:
            continue
        if omitted.table.endswith("events") and omitted.columns == ("payload",):
            if rec.method == "gin" and rec.columns == ["payload"]:
                return True
        elif rec.method == "btree" and tuple(rec.columns[: len(omitted.columns)]) == omitted.columns:
            return True
    return False


@pytest.mark.parametrize(("fixture", "dataset"), [("shop18", "shop"), ("events18", "events")])
def test_finds_the_omitted_indexes(fixture: str, dataset: str, request: pytest.FixtureRequest) -> None:
    dsn = request.getfixturevalue(fixture)
    advice = advise(dataset, dsn=dsn, budget_mb=200)
    assert advice.method == "build"
    missing = [o for o in get_dataset(dataset).omitted_indexes if not _finds(advice, o)]
    assert missing == []
    assert advice.workload_cost_after < advice.workload_cost_before / 5
    assert advice.whatif_calls > 0 and advice.skipped_statements == []
    with connect(dsn) as conn:
        existing = existing_indexes(conn)
        assert invalid_indexes(conn) == []
        assert not [ix for ix in existing if ix.name.startswith("wb_")]  # build mode rolled back
    for rec in advice.recommendations:
        assert rec.ddl.startswith("CREATE INDEX CONCURRENTLY")
        assert not any(covers(ix, rec.method, tuple(rec.columns)) for ix in existing
                       if ix.relation == rec.table and not rec.include and not rec.where)
        assert rec.statements and rec.benefit_pct > 0 and rec.size_bytes > 0


def test_budget_max_indexes_and_same_answer_twice(shop18: str) -> None:
    small = advise("shop", dsn=shop18, budget_mb=1)
    assert sum(r.size_bytes for r in small.recommendations) <= 1024 * 1024
    one = advise("shop", dsn=shop18, budget_mb=200, max_indexes=1)
    assert len(one.recommendations) == 1
    first = advise("shop", dsn=shop18, budget_mb=20).to_json()
    second = advise("shop", dsn=shop18, budget_mb=20).to_json()
    assert [r["ddl"] for r in first["recommendations"]] == [r["ddl"] for r in second["recommendations"]]


def test_unreadable_statements_are_listed_not_fatal(shop18: str, tmp_path: Path) -> None:
    queries = tmp_path / "q.sql"
    queries.write_text("SELECT * FROM orders.orders WHERE customer_id = 42;\n"
                       "SELECT FROM WHERE;\n"
                       "SELECT id FROM accounts.customers WHERE email = 'x@example.com';\n")
    advice = advise(queries=queries, dsn=shop18)
    assert [s["name"] for s in advice.skipped_statements] == ["q.2"]
    assert "sqlglot cannot read it" in advice.skipped_statements[0]["reason"]
    assert {r.table for r in advice.recommendations} == {"orders.orders", "accounts.customers"}


def test_validate_builds_measures_and_drops(shop18: str) -> None:
    advice = advise("shop", dsn=shop18, budget_mb=50, max_indexes=2, validate=True)
    assert advice.validation
    measured = {v["name"]: v for v in advice.validation}
    assert measured["recent_orders"]["actual_improvement_pct"] > 50
    with connect(shop18) as conn:
        assert not [ix for ix in existing_indexes(conn) if ix.name.startswith("wb_")]


@pytest.mark.skipif(not HYPOPG.exists(), reason="postgresql-15-hypopg not installed")
def test_hypopg_on_postgresql_15(pg15_dsn: str) -> None:
    result = load("shop", scale=0.1, database="wbtest_adv15", dsn=pg15_dsn, progress=False,
                  replace=True)
    try:
        advice = advise("shop", dsn=result.dsn, budget_mb=200)
        assert advice.method == "hypopg"
        missing = [o for o in get_dataset("shop").omitted_indexes if not _finds(advice, o)]
        assert missing == []
    finally:
        drop_database("wbtest_adv15", pg15_dsn)


def test_cli_json_contract(shop18: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["advise", "shop", "--dsn", shop18, "--budget-mb", "50", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"method", "whatif_calls", "workload_cost_before", "workload_cost_after",
            "recommendations", "existing", "skipped_statements"} <= set(doc)
    assert set(doc["existing"]) == {"unused", "redundant"}
    assert {"ddl", "table", "columns", "include", "where", "size_bytes", "benefit_pct",
            "write_overhead_pct", "statements"} <= set(doc["recommendations"][0])
