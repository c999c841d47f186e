"""Faults injected into real commands: Ctrl-C and kill -9 of the workbench, kill -9 of the server.

Each command runs as its own process (``python -m workbench.cli``), as a user would run it.
What must hold: nothing half-done is presented as complete, nothing is left behind that the next
command does not clean, and the exit status says what happened.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from workbench.connect import connect
from workbench.copies import COPY_PREFIX, template_name
from workbench.server import EmbeddedServer

pytestmark = pytest.mark.slow


def _cli(*argv: str, home: Path | None = None, cwd: Path | None = None) -> subprocess.Popen[str]:
    env = dict(os.environ)
    if home is not None:
        env["WORKBENCH_HOME"] = str(home)
    return subprocess.Popen([sys.executable, "-m", "workbench.cli", *argv], env=env, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(condition: Callable[[], bool], seconds: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _databases(dsn: str) -> set[str]:
    with connect(dsn, database="postgres") as conn:
        return {r[0] for r in conn.execute("SELECT datname FROM pg_database")}


def _meta(dsn: str, database: str) -> dict[str, object]:
    with connect(dsn, database=database) as conn:
        return dict(conn.execute("SELECT key, value FROM workbench.meta").fetchall())


def test_ctrl_c_stops_a_load_promptly_and_marks_it_incomplete(server_dsn: str) -> None:
    proc = _cli("load", "shop", "--scale", "1", "--database", "wbfault_load", "--replace")
    _wait_for(lambda: "wbfault_load" in _databases(server_dsn), what="the load to start")
    time.sleep(2)  # tables are being generated now
    proc.send_signal(signal.SIGINT)
    interrupted = time.monotonic()
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - interrupted < 5  # no new table started, running ones cancelled
    assert proc.returncode == 130 and "interrupted" in err
    meta = _meta(server_dsn, "wbfault_load")
    assert meta["load_status"] == "incomplete" and meta["load_error"] == "interrupted"
    with connect(server_dsn, database="postgres") as conn:
        # the loader's sessions (client backends); an autovacuum worker may well be analysing
        # the rows written before the interruption, which is the server's own business
        busy = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = 'wbfault_load' "
                            "AND state = 'active' AND backend_type = 'client backend'"
                            ).fetchone()[0]
    assert busy == 0
    refused = _cli("run", "shop", "--database", "wbfault_load", "--duration", "1")
    _, err = refused.communicate(timeout=60)
    assert refused.returncode == 1 and "incomplete (interrupted)" in err


def test_kill_9_of_an_experiment_leaves_what_the_next_command_cleans(
        server_dsn: str, tmp_path: Path) -> None:
    indexes = tmp_path / "idx.sql"
    indexes.write_text("CREATE INDEX f_idx ON orders.orders (customer_id, created_at);\n")
    out = tmp_path / "experiments" / "killed"
    proc = _cli("experiment", "shop", "--scale", "0.05", "--indexes", str(indexes),
                "--duration", "30", "--warmup", "0", "--repeat", "1", "--no-latency",
                "--clients", "2", "--out", str(out), cwd=tmp_path)
    _wait_for(lambda: any(d.startswith(COPY_PREFIX) for d in _databases(server_dsn)),
              what="a copy of the template")
    time.sleep(3)  # pgbench is running on the copy
    proc.kill()
    proc.communicate(timeout=30)
    left = [d for d in _databases(server_dsn) if d.startswith(COPY_PREFIX)]
    partial = list((tmp_path / "experiments").glob(".killed.partial-*"))
    assert left and partial  # what a kill -9 leaves: nothing could clean it
    assert not out.exists()  # never presented as complete
    done = _cli("cleanup", "--json", cwd=tmp_path)
    report = json.loads(done.communicate(timeout=60)[0])
    assert done.returncode == 0
    assert set(left) <= set(report["copies"])
    assert not [d for d in _databases(server_dsn) if d.startswith(COPY_PREFIX)]
    assert not list((tmp_path / "experiments").glob(".killed.partial-*"))
    with connect(server_dsn, database=template_name("shop", 0.05, 42)) as conn:
        assert conn.execute("SELECT count(*) FROM pg_indexes WHERE indexname = 'f_idx'"
                            ).fetchone()[0] == 0  # the variant never touched the template


def test_ctrl_c_during_an_experiment_keeps_what_was_measured(server_dsn: str,
                                                             tmp_path: Path) -> None:
    indexes = tmp_path / "idx.sql"
    indexes.write_text("CREATE INDEX f2_idx ON orders.orders (customer_id);\n")
    out = tmp_path / "exp"
    proc = _cli("experiment", "shop", "--scale", "0.05", "--indexes", str(indexes),
                "--duration", "2", "--warmup", "0", "--repeat", "3", "--no-latency",
                "--clients", "2", "--out", str(out))
    staging = tmp_path / f".exp.partial-{proc.pid}"
    _wait_for(lambda: (staging / "runs" / "throughput-after-1" / "manifest.json").exists(),
              seconds=120, what="the first round to finish")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err
    manifest = json.loads((out / "manifest.json").read_text())
    comparison = json.loads((out / "comparison.json").read_text())
    assert manifest["status"] == "incomplete" and "interrupted" in manifest["reason"]
    assert comparison["run_order"][:2] == ["throughput-before-1", "throughput-after-1"]
    assert {v["verdict"] for v in comparison["verdicts"]} == {"withheld"}
    assert not [d for d in _databases(server_dsn) if d.startswith(COPY_PREFIX)]


@pytest.fixture
def own_server(tmp_path: Path):
    home = tmp_path / "home"
    server = EmbeddedServer(home=home)
    yield server, server.start(), home
    server.stop()


def _kill_server(server: EmbeddedServer) -> None:
    pid = int((server.data_dir / "postmaster.pid").read_text().splitlines()[0])
    os.kill(pid, signal.SIGKILL)


def test_kill_9_of_the_server_during_a_run_exits_3_and_keeps_the_measurement(
        own_server: tuple[EmbeddedServer, str, Path], tmp_path: Path) -> None:
    server, dsn, home = own_server
    script = tmp_path / "sleepy.sql"
    script.write_text("SELECT pg_sleep(0.01);\n")
    proc = _cli("run", str(script), "--clients", "2", "--duration", "20", "--warmup", "0",
                "--out", str(tmp_path / "run"), "--json", home=home)
    _wait_for(lambda: _pgbench_running(dsn), what="pgbench")
    time.sleep(2)
    _kill_server(server)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    doc = json.loads(out)
    assert doc["status"] == "incomplete" and doc["transactions"] > 0
    # the next command recovers the server (crash recovery) and works
    again = _cli("doctor", "--json", home=home)
    assert again.wait(timeout=120) == 0


def test_kill_9_of_the_server_during_a_load_leaves_it_marked_not_complete(
        own_server: tuple[EmbeddedServer, str, Path]) -> None:
    server, dsn, home = own_server
    proc = _cli("load", "shop", "--scale", "1", "--database", "wbfault_crash", home=home)
    _wait_for(lambda: "wbfault_crash" in _databases(dsn), what="the load to start")
    time.sleep(2)
    _kill_server(server)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "Traceback" not in err
    server.start()
    assert _meta(dsn, "wbfault_crash")["load_status"] in ("loading", "incomplete")
    refused = _cli("explain", "shop", "--database", "wbfault_crash", home=home)
    _, err = refused.communicate(timeout=60)
    assert refused.returncode == 1 and "is incomplete" in err


def test_kill_9_of_the_server_during_an_experiment_saves_it_incomplete(
        own_server: tuple[EmbeddedServer, str, Path], tmp_path: Path) -> None:
    server, dsn, home = own_server
    indexes = tmp_path / "idx.sql"
    indexes.write_text("CREATE INDEX f3_idx ON orders.orders (customer_id);\n")
    out = tmp_path / "exp"
    proc = _cli("experiment", "shop", "--scale", "0.05", "--indexes", str(indexes),
                "--duration", "10", "--warmup", "0", "--repeat", "1", "--no-latency",
                "--clients", "2", "--out", str(out), home=home)
    # past the unrecorded burn-in run: the first measured run has started
    _wait_for(lambda: any(tmp_path.glob(".exp.partial-*/runs/*throughput-before-1*"))
              and _pgbench_running(dsn), seconds=120, what="the first measured run")
    time.sleep(2)
    _kill_server(server)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 3 and "Traceback" not in err, err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "incomplete"
    server.start()
    cleaned = _cli("cleanup", "--json", home=home)
    report = json.loads(cleaned.communicate(timeout=60)[0])
    assert cleaned.returncode == 0 and not report["copies_in_use"]
    assert not [d for d in _databases(dsn) if d.startswith(COPY_PREFIX)]


def _pgbench_running(dsn: str) -> bool:
    try:
        with connect(dsn, database="postgres") as conn:
            return bool(conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name"
                                     " = 'workbench-pgbench'").fetchone()[0])
    except Exception:  # noqa: BLE001 - the server may be starting
        return False
