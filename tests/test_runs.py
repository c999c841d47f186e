"""Runs against a real server with the real pgbench binaries of PostgreSQL 18 and 15."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from psycopg.conninfo import conninfo_to_dict

from workbench.cli import main
from workbench.connect import connect
from workbench.errors import WorkbenchError
from workbench.loader import load
from workbench.pgbench_output import parse_summary
from workbench.runs import LOG_TARGET_TPS, RunOptions, load_run, run_workload
from workbench.server import EmbeddedServer
from workbench.tools import pgbench_path

PG15_PGBENCH = Path("/usr/lib/postgresql/15/bin/pgbench")
PGBENCHES = ["18", pytest.param("15", marks=pytest.mark.skipif(
    not PG15_PGBENCH.exists(), reason="PostgreSQL 15 binaries absent"))]


@pytest.fixture
def pgbench_version(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "15":
        monkeypatch.setenv("WORKBENCH_PGBENCH", str(PG15_PGBENCH))
    return request.param


@pytest.fixture(scope="module")
def shop_db(server_dsn: str):
    from workbench.databases import drop_database

    result = load("shop", scale=0.05, database="wbtest_runs_shop", dsn=server_dsn, progress=False,
                  replace=True)
    yield result.dsn
    drop_database("wbtest_runs_shop", server_dsn)


def _raw_latencies(folder: Path) -> tuple[np.ndarray, int]:
    """An independent reading of pgbench's raw log files: ok latencies (ms) and all lines."""
    values, lines = [], 0
    for path in sorted((folder / "logs").iterdir()):
        for line in path.read_text().splitlines():
            lines += 1
            field = line.split()[2]
            if field.isdigit():
                values.append(int(field) / 1000.0)
    return np.array(values), lines


def _raw_counts_by_script(folder: Path, names: list[str]) -> dict[str, int]:
    counts = dict.fromkeys(names, 0)
    for path in (folder / "logs").iterdir():
        for line in path.read_text().splitlines():
            fields = line.split()
            if fields[2].isdigit():
                counts[names[int(fields[3])]] += 1
    return counts


@pytest.mark.parametrize("pgbench_version", PGBENCHES, indirect=True)
def test_shop_run_summary_agrees_with_raw_logs(pgbench_version: str, shop_db: str,
                                               tmp_path: Path) -> None:
    run = run_workload("shop", database="wbtest_runs_shop", dsn=shop_db, clients=4, jobs=2,
                       duration=3, sampling_rate=1, out=tmp_path / "run", progress=False,
                       keep_logs=True)
    assert run.status == "complete"
    assert run.manifest["pgbench"]["version"].startswith(pgbench_version)
    values, lines = _raw_latencies(run.out)
    # pgbench's own count (its summary) and the raw log agree when every transaction is logged
    assert run.summary["transactions"] == len(values) == lines > 50
    assert run.summary["counts_from"] == "pgbench summary"
    for key, q in (("p50", 50), ("p95", 95), ("p99", 99)):
        assert run.summary["latency_ms"][key] == pytest.approx(np.percentile(values, q), abs=0.001)
    assert run.summary["latency_ms"]["max"] == pytest.approx(values.max(), abs=0.001)
    per_script = run.summary["scripts"]
    logged = _raw_counts_by_script(run.out, [s["name"] for s in run.manifest["scripts"]])
    assert {name: block["transactions"] for name, block in per_script.items()} == \
        {name: count for name, count in logged.items() if count}
    assert set(per_script) <= {"browse_hot_products", "recent_orders", "lookup_by_email",
                               "checkout", "order_status", "backoffice_report"}
    assert len(set(run.transactions["client"])) == 4
    assert len(run.progress) >= 2
    statements = run.stats.frames["statements"]
    assert statements.loc[statements["script"] == "recent_orders", "calls"].sum() == \
        logged["recent_orders"]
    assert "password" not in run.manifest["pgbench"]["command"]


def test_sampled_log_counts_come_from_pgbench_and_percentiles_from_the_sample(
        fresh_db: str, tmp_path: Path) -> None:
    script = tmp_path / "tiny.sql"
    script.write_text("SELECT 1;\n")
    run = run_workload(script, dsn=fresh_db, clients=2, jobs=2, duration=3, warmup=1,
                       out=tmp_path / "run", progress=False, keep_logs=True)
    rate = run.summary["sample"]["rate"]
    logged = sum(len(p.read_text().splitlines()) for p in (run.out / "logs").iterdir())
    assert run.summary["warmup_tps"] > 2 * LOG_TARGET_TPS  # fast enough to sample
    assert rate < 1 and f"--sampling-rate={rate:g}" in run.manifest["pgbench"]["command"]
    assert run.summary["sample"]["transactions"] == logged == len(run.transactions)
    # the count is pgbench's (all transactions), not the sample's: the sample is about rate of it
    total = run.summary["transactions"]
    assert total == parse_summary((run.out / "pgbench-stdout.txt").read_text()).processed
    assert abs(logged - rate * total) < 5 * (rate * (1 - rate) * total) ** 0.5
    assert run.summary["tps"] == pytest.approx(run.summary["pgbench_tps"], abs=0.001)
    low, high = run.summary["latency_ci_ms"]["p95"]
    assert low <= run.summary["latency_ms"]["p95"] <= high
    # the warm-up ran unlogged before the measured run, with the same script
    assert "-l" not in run.manifest["pgbench"]["warmup_command"].split()
    assert "-T 1" in run.manifest["pgbench"]["warmup_command"]


def test_rate_limited_run_reports_lag_and_skips(shop_db: str, tmp_path: Path) -> None:
    run = run_workload("shop", database="wbtest_runs_shop", dsn=shop_db, clients=2, jobs=2,
                       duration=3, rate=80, latency_limit=1, out=tmp_path / "r", progress=False)
    assert run.summary["lag_ms"] is not None and run.summary["lag_ms"]["mean"] is not None
    assert run.transactions["lag_ms"].notna().all()
    assert "-R" in run.manifest["pgbench"]["command"]
    assert run.summary["sample"]["rate"] == 1.0  # 80 tps: every transaction is logged
    assert run.summary["skipped"] == int((run.transactions["status"] == "skipped").sum())
    assert run.summary["rate"] == 80 and "sustained" in run.summary


@pytest.mark.parametrize("pgbench_version", PGBENCHES, indirect=True)
def test_serialization_failures_and_retries(pgbench_version: str, fresh_db: str,
                                            tmp_path: Path) -> None:
    with connect(fresh_db) as conn:
        conn.execute("CREATE TABLE hot (id int PRIMARY KEY, n int)")
        conn.execute("INSERT INTO hot VALUES (1, 0)")
    script = tmp_path / "contend.sql"
    script.write_text("BEGIN ISOLATION LEVEL REPEATABLE READ;\n"
                      "UPDATE hot SET n = n + 1 WHERE id = 1;\nSELECT pg_sleep(0.002);\nEND;\n")
    run = run_workload(script, dsn=fresh_db, clients=4, jobs=2, duration=2, max_tries=2,
                       failures_detailed=True, sampling_rate=1, out=tmp_path / "run",
                       progress=False)
    statuses = set(run.transactions["status"].astype(str))
    assert statuses <= {"ok", "serialization"}
    assert (run.transactions["retries"] > 0).any()
    assert run.summary["retried"] == int((run.transactions["retries"] > 0).sum())
    assert run.summary["failed"] == int((run.transactions["status"] == "serialization").sum())
    assert run.summary["failed"] > 0


@pytest.mark.parametrize("pgbench_version", PGBENCHES, indirect=True)
def test_parser_reads_real_summaries_with_per_script_and_r(pgbench_version: str, shop_db: str,
                                                           server_dsn: str) -> None:
    from workbench.datasets import get_dataset

    shop = get_dataset("shop")
    params = conninfo_to_dict(shop_db)
    env = {"PGHOST": str(params["host"]), "PGPORT": str(params["port"]), "PGUSER": "postgres"}
    argv = [str(pgbench_path()), "-n", "-r", "-c", "2", "-t", "20", "-P", "1",
            *[f"-D{k}={v}" for k, v in shop.variables(0.05).items()]]
    for s in shop.scripts[:3]:
        argv += ["-f", f"{s.path}@{s.weight}"]
    proc = subprocess.run([*argv, "wbtest_runs_shop"], env=env, capture_output=True, text=True,
                          check=True)
    summary = parse_summary(proc.stdout)
    assert summary.version.startswith(pgbench_version)
    assert summary.processed == 40 and summary.target == 40 and summary.clients == 2
    assert [s.name for s in summary.scripts] == [s.name for s in shop.scripts[:3]]
    assert sum(s.transactions for s in summary.scripts) == 40
    assert all(s.tps is not None for s in summary.scripts)
    assert summary.scripts[0].statements[0].text.startswith("\\set pid")
    assert any(st.text.startswith("SELECT") for st in summary.scripts[1].statements)
    assert summary.tps and summary.latency_avg_ms is not None
    assert summary.unknown == []


def test_server_stopped_mid_run_is_incomplete_with_what_was_measured(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server = EmbeddedServer(home=tmp_path / "home")
    dsn = server.start()
    try:
        script = tmp_path / "sleepy.sql"
        script.write_text("SELECT pg_sleep(0.01);\n")
        stopper = threading.Timer(3.0, server.stop)
        stopper.start()
        started = time.time()
        code = main(["run", str(script), "--dsn", dsn, "--clients", "2", "--jobs", "1",
                     "--duration", "8", "--out", str(tmp_path / "run"), "--json"])
        stopper.join()
    finally:
        server.stop()
    doc = json.loads(capsys.readouterr().out)
    assert time.time() - started < 9
    assert code == 3  # incomplete: a script can tell, and what was measured is kept
    assert doc["status"] == "incomplete" and doc["reason"]
    assert doc["transactions"] > 20
    assert load_run(tmp_path / "run").manifest["status"] == "incomplete"


def test_load_run_gives_back_the_same_objects(shop_db: str, tmp_path: Path) -> None:
    run = run_workload("shop", database="wbtest_runs_shop", dsn=shop_db, clients=2, duration=1,
                       out=tmp_path / "run", progress=False)
    again = load_run(tmp_path / "run")
    assert again.summary == json.loads(json.dumps(run.summary))
    assert again.transactions.shape == run.transactions.shape
    assert list(again.transactions["latency_ms"]) == list(run.transactions["latency_ms"])
    assert set(again.stats.frames) == set(run.stats.frames)
    assert again.manifest["dataset"] == "shop" and again.manifest["scale"] == 0.05


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"clients": 3, "jobs": 2}, "must divide --clients"),
    ({"duration": None, "transactions": None}, "exactly one of --duration and --transactions"),
    ({"protocol": "fancy"}, "unknown --protocol"),
    ({"duration": 0}, "--duration must be a whole number"),
    ({"duration": 2.5}, "--duration must be a whole number"),
    ({"duration": float("inf")}, "--duration must be a whole number"),
    ({"jobs": 0}, "--jobs must be a whole number"),
    ({"rate": 0}, "--rate must be a number > 0"),
    ({"rate": float("nan")}, "--rate must be a number > 0"),
    ({"warmup": -1}, "--warmup must be a whole number"),
    ({"warmup": 0.5}, "--warmup must be a whole number"),
    ({"sampling_rate": 0}, "--sampling-rate must be in"),
    ({"latency_limit": -3}, "--latency-limit must be a number > 0"),
    ({"defines": {"no good": "1"}}, "is not a variable name"),
])
def test_bad_options(kwargs: dict, message: str) -> None:
    with pytest.raises(WorkbenchError, match=message):
        RunOptions(**kwargs).validate()


def test_cli_run_json_contract(shop_db: str, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "shop", "--database", "wbtest_runs_shop", "--duration", "1",
                 "--clients", "2", "--warmup", "2", "--out", str(tmp_path / "r"), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {"out", "status", "tps", "transactions", "failed", "latency_ms", "scripts",
            "sample", "latency_ci_ms"} <= set(doc)
    assert set(doc["latency_ms"]) == {"mean", "p50", "p90", "p95", "p99", "p999", "max"}
    assert doc["warmup_s"] == 2 and doc["warmup_tps"] > 0


def test_run_with_rate_on_a_postgresql_15_server(pg15_dsn: str, tmp_path: Path) -> None:
    from workbench.databases import drop_database

    result = load("shop", scale=0.05, database="wbtest_runs15", dsn=pg15_dsn, progress=False,
                  replace=True)
    try:
        run = run_workload("shop", dsn=result.dsn, clients=4, jobs=2, duration=3, rate=100,
                           out=tmp_path / "run15", progress=False)
    finally:
        drop_database("wbtest_runs15", pg15_dsn)
    assert run.status == "complete" and run.manifest["server_version"].startswith("15.")
    assert run.summary["lag_ms"] is not None and run.summary["transactions"] > 0
    assert "bgwriter" in run.stats.frames and "io" not in run.stats.frames  # pg_stat_io is 16+
    assert load_run(tmp_path / "run15").summary == json.loads(json.dumps(run.summary))


def test_run_folder_holds_no_password_of_the_dsn(shop_db: str, tmp_path: Path) -> None:
    from workbench.dsn import parse
    from workbench.reports import find_secrets

    password = EmbeddedServer().password_path.read_text().strip()
    dsn = (f"postgresql://postgres:{password}@127.0.0.1:{parse(shop_db)['port']}/"
           "wbtest_runs_shop?sslmode=disable")
    run = run_workload("shop", dsn=dsn, clients=2, duration=1, out=tmp_path / "run",
                       progress=False, keep_logs=True)
    assert run.status == "complete"
    for path in (tmp_path / "run").rglob("*"):
        if path.is_file() and path.suffix in (".json", ".csv", ".txt"):
            text = path.read_text()
            assert password not in text, path.name
            assert find_secrets(text) == [], path.name
    assert "127.0.0.1:" in run.manifest["database"] and password not in run.manifest["database"]
