"""A real PgBouncer started and stopped by the workbench; runs, sweeps and experiments through it."""

from __future__ import annotations

import json
import os
import pwd
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.errors import WorkbenchError
from workbench.loader import load
from workbench.pooler import PgBouncer, pgbouncer_version, stop_all
from workbench.runs import run_workload
from workbench.sweeps import find_knees, load_sweep, sweep

pytestmark = pytest.mark.skipif(not Path("/usr/sbin/pgbouncer").exists() and
                                not os.environ.get("WORKBENCH_PGBOUNCER"),
                                reason="PgBouncer is not installed (scripts/os-packages.sh)")


@pytest.fixture(scope="module")
def shop(server_dsn: str):
    from workbench.databases import drop_database

    result = load("shop", scale=0.05, database="wbtest_pool", dsn=server_dsn, progress=False,
                  replace=True)
    yield result.dsn
    drop_database("wbtest_pool", server_dsn)
    stop_all()


def _pgbouncer_pids() -> list[int]:
    out = subprocess.run(["pgrep", "-f", "pgbouncer -d"], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_pgbouncer_is_private_loopback_only_and_stops_clean(shop: str, tmp_path: Path) -> None:
    bouncer = PgBouncer(mode="transaction", pool_size=3)
    port = bouncer.start()
    assert bouncer.start() == port  # idempotent
    config = (bouncer.root / "pgbouncer.ini").read_text()
    assert "listen_addr = 127.0.0.1" in config and "auth_type = hba" in config
    assert bouncer.socket_dir().stat().st_mode & 0o777 == 0o700  # its socket: private
    assert "host all all 127.0.0.1/32 scram-sha-256" in (bouncer.root / "hba.conf").read_text()
    userlist = bouncer.root / "userlist.txt"
    assert userlist.stat().st_mode & 0o777 == 0o600
    password = (bouncer.root / "password").read_text().strip()
    assert password not in userlist.read_text() and "SCRAM-SHA-256$" in userlist.read_text()
    pid = bouncer._pid()
    assert pid in _pgbouncer_pids()
    if os.geteuid() == 0:  # PgBouncer refuses root: it runs as the server's account
        owner = Path(f"/proc/{pid}").stat().st_uid
        assert pwd.getpwuid(owner).pw_name == "workbench"
    assert bouncer.stop() is True
    assert pid not in _pgbouncer_pids() and bouncer.status()["running"] is False


def test_more_clients_than_max_connections_fail_direct_and_queue_pooled(
        shop: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "shop", "--database", "wbtest_pool", "--clients", "250", "--jobs", "2",
                 "--duration", "2", "--out", str(tmp_path / "direct")])
    err = capsys.readouterr().err
    assert code == 1 and "more clients than the server's max_connections" in err
    run = run_workload("shop", dsn=shop, clients=250, jobs=2, duration=2, warmup=1,
                       via="pgbouncer:transaction", pool_size=4, out=tmp_path / "pooled",
                       progress=False)
    assert run.status == "complete" and run.summary["transactions"] > 0
    assert run.summary["pool"]["cl_waiting_max"] > 200  # queued at the pooler, not refused
    assert run.summary["pool"]["sv_active_max"] <= 4


def test_a_run_through_transaction_pooling_queues_clients_on_few_server_connections(
        shop: str, tmp_path: Path) -> None:
    run = run_workload("shop", dsn=shop, clients=8, jobs=2, duration=3, via="pgbouncer:transaction",
                       pool_size=2, out=tmp_path / "run", progress=False, keep_logs=True)
    assert run.status == "complete" and run.manifest["route"] == "pgbouncer:transaction(2)"
    pool = run.summary["pool"]
    assert pool["samples"] >= 2
    assert 0 < pool["sv_active_max"] <= 2  # never more server connections than the pool
    assert pool["cl_waiting_max"] > 0  # 8 clients on 2 connections: some wait
    assert len(run.pools) == pool["samples"]
    for path in (tmp_path / "run").rglob("*"):  # the pooler's password is in no file
        if path.is_file() and path.suffix in (".json", ".csv", ".txt"):
            assert (PgBouncer(mode="transaction", pool_size=2).root / "password").read_text(
                ).strip() not in path.read_text()


def test_connection_churn_reports_connection_time_direct_and_pooled(shop: str,
                                                                      tmp_path: Path) -> None:
    direct = run_workload("shop", dsn=shop, clients=2, duration=2, via="tcp",
                          connect_each_transaction=True, out=tmp_path / "d", progress=False)
    pooled = run_workload("shop", dsn=shop, clients=2, duration=2,
                          via="pgbouncer:transaction:tcp", connect_each_transaction=True,
                          out=tmp_path / "p", progress=False)
    assert "-C" in direct.manifest["pgbench"]["command"].split()
    assert direct.summary["connection_ms"] > 0 and pooled.summary["connection_ms"] > 0
    assert direct.manifest["route"] == "tcp" and pooled.manifest["route"].startswith("pgbouncer")


def test_prepared_statements_through_transaction_pooling_are_refused_on_old_pgbouncer(
        shop: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if pgbouncer_version() >= (1, 21):
        pytest.skip("this PgBouncer carries prepared statements in transaction pooling")
    code = main(["run", "shop", "--database", "wbtest_pool", "--via", "pgbouncer:transaction",
                 "--protocol", "prepared", "--duration", "1", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert "cannot carry protocol-level prepared statements" in err and "1.21" in err
    run = run_workload("shop", dsn=shop, clients=2, duration=1, via="pgbouncer:session",
                       protocol="prepared", out=tmp_path / "session", progress=False)
    assert run.status == "complete" and run.summary["failed"] == 0


@pytest.mark.parametrize(("argv", "code", "says"), [
    (["--via", "pgbouncer", "--pool-size", "0"], 2, "must be a whole number >= 1"),
    (["--via", "pgbouncer:sideways"], 1, "unknown pool mode"),
    (["--via", "pgbouncer:session:transaction"], 1, "unknown pool mode"),
    (["--via", "nonsense"], 1, "neither pgbouncer[:mode] nor a DSN"),
    (["--pool-size", "4"], 1, "--pool-size needs a pooler"),
    (["--via", "postgresql://u@127.0.0.1:1/x"], 1, "the warm-up failed"),
])
def test_bad_routes_are_one_line(argv: list[str], code: int, says: str, shop: str,
                                 tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        got = main(["run", "shop", "--database", "wbtest_pool", "--duration", "1",
                    "--out", str(tmp_path / "r"), *argv])
    except SystemExit as exit_info:
        got = exit_info.code
    err = capsys.readouterr().err
    assert got == code and says in err and "Traceback" not in err, err


def test_a_missing_pgbouncer_is_named_with_how_to_install(shop: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    stop_all()  # a running PgBouncer would be used as it is
    monkeypatch.setenv("WORKBENCH_PGBOUNCER", str(tmp_path / "no-pgbouncer"))
    code = main(["run", "shop", "--database", "wbtest_pool", "--via", "pgbouncer",
                 "--duration", "1", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 1 and "needs the pgbouncer program" in err and "pgbouncer package" in err


@pytest.mark.parametrize(("clients", "message"), [
    ([4, 1], "must be increasing"), ([1, 1], "must be increasing"), ([0, 2], "whole numbers >= 1"),
    ([1.5, 2], "whole numbers >= 1"), ([], "must be increasing"),
])
def test_client_lists_must_be_increasing_whole_numbers(clients: list, message: str) -> None:
    with pytest.raises(WorkbenchError, match=message):
        sweep("shop", clients=clients, progress=False)


def test_knees_are_found_where_the_curve_bends() -> None:
    import pandas as pd

    frame = pd.DataFrame({"scale": 1.0, "route": "direct", "pool_size": None,
                          "clients": [1, 2, 4, 8, 16], "tps": [100, 195, 380, 392, 390],
                          "p99": [2.0, 2.1, 2.5, 4.5, 9.0]})
    knee = find_knees(frame)[0]
    assert knee["throughput_knee"] == 4 and knee["peak_at"] == 8
    assert knee["p99_knee"] == 8  # 4.5 > 2 x 2.0


@pytest.mark.slow
def test_cli_sweep_json_has_intervals_and_the_knee(server_dsn: str, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sweep", "shop", "--scales", "0.05", "--clients", "1,4", "--repeat", "2",
                 "--duration", "1", "--warmup", "1", "--out", str(tmp_path / "s"), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["status"] == "complete"
    assert [p["clients"] for p in doc["points"]] == [1, 4]
    for point in doc["points"]:
        assert point["runs"] == 2 and point["tps_low"] <= point["tps"] <= point["tps_high"]
        assert {"p50", "p95", "p99", "failed"} <= set(point)
    assert doc["knees"][0]["throughput_knee"] in (1, 4)
    saved = load_sweep(tmp_path / "s")
    assert len(saved.runs) == 4 and {r["round"] for r in saved.runs} == {1, 2}


@pytest.mark.slow
def test_pooled_against_direct_is_an_experiment(server_dsn: str, tmp_path: Path) -> None:
    from workbench.experiments import experiment

    exp = experiment("shop", scale=0.05, via="pgbouncer:transaction", pool_size=2, clients=8,
                     jobs=2, duration=2, warmup=1, repeat=2, latency=False, dsn=server_dsn,
                     out=tmp_path / "e", progress=False)
    routes = exp.comparison["throughput"]["routes"]
    assert routes == {"before": ["direct"], "after": ["pgbouncer:transaction(2)"]}
    assert exp.comparison["variant"] == "clients via pgbouncer:transaction(2)"
    pooled = [r["pool"] for r in exp.comparison["throughput"]["runs"]["after"]]
    # The pool's size holds (2 server connections for 8 clients), so clients queue for them.
    assert all(p["samples"] >= 1 and p["sv_active_max"] <= 2 for p in pooled), pooled
    assert any(p["cl_waiting_max"] >= 1 for p in pooled), pooled
    assert all(r["pool"] is None for r in exp.comparison["throughput"]["runs"]["before"])
    assert {v["metric"] for v in exp.comparison["verdicts"]} >= {"tps", "p95"}


@pytest.mark.slow
def test_an_interrupted_sweep_keeps_the_completed_points(server_dsn: str, tmp_path: Path) -> None:
    out = tmp_path / "s"
    proc = subprocess.Popen([sys.executable, "-m", "workbench.cli", "sweep", "shop", "--scales",
                             "0.05", "--clients", "1,2,4", "--repeat", "2", "--duration", "2",
                             "--warmup", "0", "--out", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    staging = tmp_path / f".s.partial-{proc.pid}" / "runs"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(staging.glob("*/manifest.json"))) < 2:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err
    saved = load_sweep(out)
    assert saved.status == "incomplete" and saved.manifest["reason"] == "interrupted"
    # every run that finished before the interruption is a point of the saved sweep
    finished = sorted(p.parent.name for p in (out / "runs").glob("*/manifest.json"))
    assert sorted(r["label"] for r in saved.runs) == finished
    assert 2 <= len(saved.runs) < 6 and not saved.frame.empty
