"""The run timeline: real runs on PostgreSQL 18 and 15 (pg_wait_sampling), real server logs."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pytest

from workbench.cli import build_parser, main
from workbench.connect import connect
from workbench.errors import WorkbenchError
from workbench.hostmetrics import host_rates, read_host
from workbench.plots import dashboard, dashboard_summary
from workbench.runs import RunOptions, load_run, run_workload
from workbench.server import optional_settings
from workbench.serverlog import LogWindow, lock_waits, logged_plans, parse_log, select_entries
from workbench.timeline import attach_statements, top_statements

DATA = Path(__file__).parent / "data" / "serverlog"
REPO = Path(__file__).resolve().parents[1]
PG15_WAIT_SAMPLING = Path("/usr/lib/postgresql/15/lib/pg_wait_sampling.so")


def _table(dsn: str, rows: int = 20_000) -> None:
    with connect(dsn) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL DEFAULT 0, "
                     "pad text NOT NULL DEFAULT repeat('x', 200))")
        conn.execute("INSERT INTO t (id) SELECT g FROM generate_series(1, %s) g", [rows])


def _script(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.sql"
    path.write_text(text)
    return path


def _in_background(action: Any) -> tuple[threading.Thread, dict[str, Any]]:
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = action()
        except BaseException as exc:  # noqa: BLE001 - re-raised by the test
            result["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    return thread, result


def _wait_for_watcher(dsn: str, timeout: float = 30) -> None:
    """Until the timeline's connection shows up: the measured pgbench starts right after."""
    deadline = time.time() + timeout
    with connect(dsn) as conn:
        while time.time() < deadline:
            if conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                            "'workbench-timeline' AND datname = current_database()"
                            ).fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError("the run's timeline watcher never connected")


def _finish(thread: threading.Thread, result: dict[str, Any]) -> Any:
    thread.join(timeout=120)
    if "error" in result:
        raise result["error"]
    return result["value"]


@pytest.fixture(scope="module")
def checkpoint_run(server_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One run on PostgreSQL 18 with a CHECKPOINT forced 2.5 s into it (times of the command
    recorded by the test, independently of the run)."""
    from workbench.databases import create_database, drop_database

    tmp = tmp_path_factory.mktemp("checkpoint")
    dsn = create_database("wbtest_timeline_ckpt", server_dsn)
    try:
        _table(dsn)
        script = _script(tmp, "touch", "\\set id random(1, 20000)\n"
                                       "UPDATE t SET n = n + 1 WHERE id = :id;\n")
        thread, result = _in_background(lambda: run_workload(
            script, dsn=dsn, clients=2, jobs=1, duration=6, warmup=0, progress=False,
            out=tmp / "run"))
        _wait_for_watcher(dsn)
        time.sleep(2.5)
        with connect(dsn) as conn:
            issued = time.time()
            conn.execute("CHECKPOINT")
            done = time.time()
        run = _finish(thread, result)
    finally:
        drop_database("wbtest_timeline_ckpt", server_dsn)
    return {"run": run, "issued": issued, "done": done, "out": tmp / "run"}


def test_a_forced_checkpoint_appears_in_the_interval_it_happened(checkpoint_run: dict) -> None:
    run = checkpoint_run["run"]
    timeline = run.timeline
    origin = timeline.meta["origin"]
    server = timeline.server
    assert len(server) >= 6 and timeline.interval == 1.0
    hit = server.index[server["checkpoints_req"] > 0].tolist()
    assert server["checkpoints_req"].sum() == 1 and len(hit) == 1
    # The counter moves while the command runs: its interval holds the command's start or end.
    candidates = {timeline.interval_of(checkpoint_run["issued"] - origin),
                  timeline.interval_of(checkpoint_run["done"] - origin)}
    assert hit[0] in candidates, (hit, candidates, server[["t", "dt", "checkpoints_req"]])
    # ... about 2.5 s into the run, and it wrote the pages the updates dirtied, in that interval
    assert 1.5 < server.loc[hit[0], "t"] < 5
    assert server.loc[hit[0], "buffers_checkpoint"] > 0
    assert server.drop(index=hit[0])["buffers_checkpoint"].sum() == 0


def test_statement_intervals_add_up_to_the_runs_own_statistics(checkpoint_run: dict) -> None:
    run = checkpoint_run["run"]
    stats = run.stats.frames["statements"]
    update = stats[(stats["name"] == "touch") & (stats["toplevel"].astype(bool))]
    assert len(update) == 1
    queryid = int(update["queryid"].iloc[0])
    per_interval = run.timeline.statements
    mine = per_interval[per_interval["queryid"] == queryid]
    assert set(mine["statement"]) == {"touch"}  # joined to the script by query id
    # two independent paths: per-interval differences vs the snapshots around the run
    assert mine["calls"].sum() == int(update["calls"].iloc[0])
    assert mine["total_ms"].sum() == pytest.approx(float(update["total_exec_time"].iloc[0]),
                                                   rel=1e-6, abs=0.01)
    assert (mine["mean_ms"] - mine["total_ms"] / mine["calls"]).abs().max() < 1e-3
    # every full interval of updates wrote WAL (the insert LSN moves at once)
    server = run.timeline.server
    assert (server.loc[server["dt"] > 0.9, "wal_bytes"] > 0).all()


def test_a_costly_statements_read_is_made_every_few_intervals_losing_nothing(
        fresh_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read of pg_stat_statements over its share of an interval (here: any read) is made every
    few intervals; the last sample still reads it, so the per-interval calls add up."""
    from workbench import watcher

    monkeypatch.setattr(watcher, "STATEMENTS_SHARE", 1e-9)
    _table(fresh_db, rows=1000)
    script = _script(tmp_path, "bump", "\\set id random(1, 1000)\n"
                                       "UPDATE t SET n = n + 1 WHERE id = :id;\n")
    run = run_workload(script, dsn=fresh_db, clients=1, duration=3, warmup=0, progress=False,
                       out=tmp_path / "run")
    timeline = run.timeline
    assert any("pg_stat_statements is read every" in n for n in timeline.meta["notes"])
    assert len(timeline.server) >= 3  # the other counters, every interval as before
    stats = run.stats.frames["statements"]
    calls = int(stats.loc[stats["name"] == "bump", "calls"].sum())
    mine = timeline.statements[timeline.statements["statement"] == "bump"]
    assert len(mine) == 1 and mine["dt"].iloc[0] > 2.5  # one read at the origin, one at the end
    assert int(mine["calls"].iloc[0]) == calls > 0


def test_a_failed_warm_up_leaves_no_sampling_session(fresh_db: str, tmp_path: Path) -> None:
    """The watcher connects before the warm-up (so the measured run follows the warm-up at once);
    a warm-up that fails must not leave its session behind."""
    script = _script(tmp_path, "bad", "\\set x 1 / 0\nSELECT :x;\n")
    with pytest.raises(WorkbenchError, match="the warm-up failed"):
        run_workload(script, dsn=fresh_db, clients=1, duration=2, warmup=1, progress=False,
                     out=tmp_path / "run")
    with connect(fresh_db) as conn:
        assert conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                            "'workbench-timeline'").fetchone()[0] == 0
    assert not (tmp_path / "run").exists()


def test_the_timeline_reloads_offline(checkpoint_run: dict, monkeypatch: pytest.MonkeyPatch
                                      ) -> None:
    run = checkpoint_run["run"]

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("load_run must not connect to a server")

    monkeypatch.setattr(psycopg, "connect", refuse)
    again = load_run(checkpoint_run["out"])
    assert again.timeline is not None
    for name in ("server", "statements", "sessions", "host"):
        pd.testing.assert_frame_equal(getattr(again.timeline, name),
                                      getattr(run.timeline, name), check_dtype=False,
                                      check_exact=False, rtol=1e-9)
    # 64-bit query ids come back exactly, as integers
    assert again.timeline.statements["queryid"].dtype == "Int64"
    assert set(again.timeline.statements["queryid"].dropna()) == \
        set(run.timeline.statements["queryid"].dropna())
    assert again.timeline.meta == json.loads(json.dumps(run.timeline.meta))
    assert again.manifest["timeline"]["cost"]["samples"] >= 6


def test_host_and_activity_of_a_local_run(checkpoint_run: dict) -> None:
    timeline = checkpoint_run["run"].timeline
    host = timeline.host
    assert len(host) == len(timeline.server)
    cpu = host[["cpu_user_pct", "cpu_system_pct", "cpu_iowait_pct", "cpu_steal_pct",
                "cpu_idle_pct"]].sum(axis=1)
    assert ((cpu > 99) & (cpu < 101)).all()
    assert (host["cpu_user_pct"] + host["cpu_system_pct"]).max() > 0
    sessions = timeline.sessions
    assert set(sessions["source"]) == {"pg_stat_activity"}  # no pg_wait_sampling on the wheel
    assert "pg_wait_sampling" in timeline.missing
    assert timeline.meta["ash_samples_per_interval"] > 1
    # Two pgbench clients all along (the test's own session around its CHECKPOINT may be seen
    # too, when one of the ten samples a second falls in the moment it is connected); in the
    # run's last second each client leaves as it ends its last transaction.
    per_interval = sessions.groupby("t")["sessions"].sum()
    per_interval = per_interval[per_interval.index <= 5.5]
    dt = timeline.server.set_index("t")["dt"]
    origin = timeline.meta["origin"]
    near = (checkpoint_run["issued"] - origin - 0.5, checkpoint_run["done"] - origin + 0.5)
    overlaps = (per_interval.index - dt.reindex(per_interval.index) < near[1]) \
        & (per_interval.index > near[0])
    assert (per_interval[~overlaps] - 2.0).abs().max() < 1e-6, per_interval
    assert (per_interval[overlaps] >= 2.0 - 1e-6).all(), per_interval


def test_dashboard_shades_phases_on_the_runs_own_axis(checkpoint_run: dict) -> None:
    run = checkpoint_run["run"]
    origin = run.timeline.meta["origin"]
    phase = {"label": "checkpoint", "start": checkpoint_run["issued"],
             "end": checkpoint_run["done"]}
    build = {"label": "index build", "start": origin - 20, "end": origin - 12}  # before it ran
    fig = dashboard(run, phases=[phase, build])
    panels = [ax for ax in fig.axes if ax.get_ylabel() in ("tps", "s/s", "sessions",
                                                            "WAL MB/s", "CPU %")]
    assert len(panels) == 5
    for ax in panels:
        spans = [(p.get_x(), p.get_width()) for p in ax.patches if p.get_alpha() == 0.25]
        assert spans == [pytest.approx((phase["start"] - origin,
                                        phase["end"] - phase["start"]))], ax.get_title()
        assert ax.get_xlim()[0] > -2  # the earlier build does not stretch the axis
    assert "index build: 8.0 s, ended 12.0 s before this run" in \
        [t.get_text() for t in panels[0].texts]
    assert dashboard_summary(run, [phase, build]).splitlines() == [
        "dashboard panels: throughput and p95 latency; top statements' execution time; "
        "sessions by wait event (pg_stat_activity); checkpoints, WAL and buffers written; "
        "host CPU and disk", "phases shaded: checkpoint",
        "phases outside the run (noted): index build"]


def test_top_statements_table(checkpoint_run: dict) -> None:
    run = checkpoint_run["run"]
    table = top_statements(run)
    # the workload's update leads (beside it: the test's CHECKPOINT, the harness's snapshots)
    assert "touch" in list(table["statement"][:2])
    assert table["share_pct"].is_monotonic_decreasing and table["share_pct"].sum() <= 100.01
    # the timeline sampler's own statements are never the workload's
    stats = run.stats.frames["statements"]
    assert not stats["query"].str.contains("workbench-timeline").any()  # not even counted
    assert not table["statement"].str.contains(r"json_build_object|pg_stat_statements\(false",
                                               regex=True).any()
    assert not run.timeline.statements["statement"].str.contains("json_build_object").any()
    first = table[table["statement"] == "touch"].iloc[0]
    assert first["mean_first_half_ms"] > 0 and first["mean_second_half_ms"] > 0
    assert first["calls"] == checkpoint_run["run"].timeline.statements.query(
        "statement == 'touch'")["calls"].sum()
    assert first["plan"] is None  # the server's 10 s threshold logged nothing


def test_plans_and_lock_waits_come_from_the_log(fresh_db: str, tmp_path: Path) -> None:
    _table(fresh_db, rows=1000)
    script = _script(tmp_path, "bump", "\\set id random(1, 1000)\n"
                                       "UPDATE t SET n = n + 1 WHERE id = :id;\n")
    thread, result = _in_background(lambda: run_workload(
        script, dsn=fresh_db, clients=2, jobs=1, duration=5, warmup=0, rate=100,
        log_plans_over_ms=0, progress=False, out=tmp_path / "run"))
    _wait_for_watcher(fresh_db)
    time.sleep(1.0)
    with connect(fresh_db) as conn, conn.transaction():
        holder = conn.info.backend_pid
        conn.execute("LOCK TABLE t IN SHARE MODE")  # the updates queue behind it
        time.sleep(1.6)  # past deadlock_timeout (1 s): log_lock_waits writes who waits on whom
    run = _finish(thread, result)
    timeline = run.timeline
    assert timeline.meta["plans_over_ms"] == 0
    assert run.manifest["options"]["log_plans_over_ms"] == 0
    waits = timeline.lock_waits
    waiting = waits[waits["event"] == "waiting"]
    assert len(waiting) >= 1
    assert set(waiting["holders"].astype(str)) == {str(holder)}
    assert set(waits["object"]) == {"relation t"}
    assert (waits[waits["event"] == "acquired"]["waited_ms"] >= 1000).all()
    assert waiting["statement"].str.startswith("UPDATE t SET n = n + 1").all()
    assert (waiting["t"] > 0.5).all() and (waiting["t"] < 5).all()
    # sessions waiting on the lock, in the intervals of the hold
    assert timeline.server["lock_waiting_sessions"].max() > 0
    stats = run.stats.frames["statements"]
    queryid = int(stats.loc[stats["name"] == "bump", "queryid"].iloc[0])
    plans = timeline.plans
    mine = plans[plans["queryid"] == queryid]
    assert len(mine) > 100 and set(mine["statement"]) == {"bump"}
    assert timeline.plan(int(mine.index[0])).root.raw["Relation Name"] == "t"
    table = top_statements(run)
    assert table.loc[table["queryid"] == queryid, "plan"].iloc[0] is not None
    # the sessions seen waiting: on the relation (taken while the UPDATE is parsed, mostly
    # before it has its query id), in the seconds of the hold; two clients may also meet on a
    # row (transactionid) once the queue is released
    locks = timeline.sessions[timeline.sessions["wait_event_type"] == "Lock"]
    assert "relation" in set(locks["wait_event"])
    assert set(locks["wait_event"]) <= {"relation", "transactionid", "tuple"}
    assert set(locks["queryid"]) <= {0, queryid}
    assert locks["t"].between(1.0, 5.0).all()
    # the run's waits and lock waits come from the timeline's samples: the two clients and this
    # test's lock holder, no sampling session counted; the holder named as the blocker
    assert (run.waits["wait_event_type"] == "Lock").any()
    assert run.waits.groupby("t")["count"].sum().max() <= 3
    assert set(run.locks["blocking_pid"]) == {holder}
    assert run.locks["blocking_query"].str.contains("LOCK TABLE").all()
    assert run.locks["query"].str.startswith("UPDATE t SET n = n + 1").all()


@pytest.mark.skipif(not PG15_WAIT_SAMPLING.exists(),
                    reason="postgresql-15-pg-wait-sampling is not installed")
def test_pg_wait_sampling_on_postgresql_15(fresh_db15: str, tmp_path: Path) -> None:
    with connect(fresh_db15) as conn:
        assert "pg_wait_sampling" in str(conn.execute("SHOW shared_preload_libraries"
                                                      ).fetchone()[0])
    script = _script(tmp_path, "nap", "SELECT pg_sleep(0.05);\n")
    run = run_workload(script, dsn=fresh_db15, clients=2, jobs=1, duration=4, warmup=0,
                       progress=False, out=tmp_path / "run")
    timeline = run.timeline
    assert "pg_wait_sampling" not in timeline.missing
    assert timeline.meta["sources"]["sessions"].startswith("pg_wait_sampling")
    sampled = timeline.sessions[timeline.sessions["source"] == "pg_wait_sampling"]
    naps = sampled[sampled["wait_event"] == "PgSleep"]
    stats = run.stats.frames["statements"]
    queryid = int(stats.loc[stats["name"] == "nap", "queryid"].iloc[0])
    assert set(naps["queryid"]) == {queryid}
    # two clients asleep nearly all the time: about two sessions in every full interval
    whole = timeline.server[timeline.server["dt"] > 0.9]["t"]
    per_interval = naps.groupby("t")["sessions"].sum().reindex(whole, fill_value=0)
    assert per_interval.between(1.5, 2.2).all(), per_interval
    assert run.manifest["server_version"].startswith("15.")
    assert "checkpoints_req" in timeline.server and timeline.server["wal_bytes"].notna().all()


def test_optional_libraries_are_preloaded_only_where_installed() -> None:
    assert optional_settings(Path("/nonexistent/bin")) == {}
    if PG15_WAIT_SAMPLING.exists():
        value, _ = optional_settings(Path("/usr/lib/postgresql/15/bin"))[
            "shared_preload_libraries"]
        assert value == "'pg_stat_statements,auto_explain,pg_wait_sampling'"


def test_bad_input_each_one_line_and_the_run_completes(
        server_dsn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A database without pg_stat_statements, a log path that cannot be read, an interval
    below what the server can serve: the run completes, each is one line and in the manifest."""
    from workbench.dsn import with_database

    with connect(server_dsn, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS wbtest_timeline_plain")
        conn.execute("CREATE DATABASE wbtest_timeline_plain")  # not the workbench's: no pgss
    try:
        script = _script(tmp_path, "one", "SELECT 1;\n")
        code = main(["run", str(script), "--dsn", with_database(server_dsn,
                                                                "wbtest_timeline_plain"),
                     "--clients", "1", "--duration", "2", "--warmup", "0",
                     "--timeline-interval", "0.001", "--server-log", "/nonexistent/server.log",
                     "--out", str(tmp_path / "run"), "--json"])
    finally:
        with connect(server_dsn, autocommit=True) as conn:
            conn.execute("DROP DATABASE wbtest_timeline_plain")
    captured = capsys.readouterr()
    assert code == 0 and json.loads(captured.out)["status"] == "complete"
    notes = [ln for ln in captured.err.splitlines() if ln.startswith("workbench: note: timeline")]
    missing = load_run(tmp_path / "run").manifest["timeline"]["missing"]
    assert {"statements", "server_log", "interval", "pg_wait_sampling"} <= set(missing)
    assert len(notes) == len(missing)
    assert any("cannot read the server log /nonexistent/server.log: No such file" in n
               for n in notes)
    assert any("pg_stat_statements is not installed" in n for n in notes)
    widened = load_run(tmp_path / "run").timeline
    assert widened.interval > 0.001 and len(widened.server) > 10


@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf"), True])
def test_an_interval_must_be_positive(value: object) -> None:
    with pytest.raises(WorkbenchError, match="--timeline-interval must be a number of seconds"):
        RunOptions(timeline_interval=value).validate()  # type: ignore[arg-type]


def test_cli_interval_is_documented(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--help"])
    text = capsys.readouterr().out
    for option in ("--timeline-interval", "--no-timeline", "--log-plans-over", "--server-log"):
        assert option in text
        assert option in (REPO / "README.md").read_text()
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["run", "shop", "--timeline-interval", "0"])
    assert exit_info.value.code == 2


# -- the server log, from real logs of PostgreSQL 18 and 15 (tests/data/serverlog) ---------------


@pytest.mark.parametrize("name", ["pg18.log", "pg15.log"])
def test_server_log_plans_and_lock_waits(name: str) -> None:
    entries = parse_log((DATA / name).read_text())
    ours = select_entries(entries, database="logdemo", pids=set(), start=0, end=2e9)
    plans = logged_plans(ours)
    assert len(plans) == 1  # the other database's plan is not ours
    assert plans[0]["query"] == "SELECT n FROM t WHERE id = 3" and plans[0]["duration_ms"] > 0
    # auto_explain logs the query id from PostgreSQL 16 on; 15's plans are joined by their text
    assert isinstance(plans[0]["queryid"], int) == (name == "pg18.log")
    logged = plans[0]["queryid"] if plans[0]["queryid"] is not None else 42
    statements = pd.DataFrame({"queryid": [logged, 7], "name": ["lookup", None],
                               "query": ["SELECT n FROM t WHERE id = $1", "SELECT 1"]})
    joined = attach_statements(plans, statements)
    assert joined[0]["statement"] == "lookup"
    assert joined[0]["queryid"] == logged
    waits = lock_waits(ours)
    assert list(waits["event"]) == ["waiting", "acquired", "deadlock"]
    waiting, acquired, deadlock = (waits.iloc[i] for i in range(3))
    assert waiting["mode"] == "RowExclusiveLock" and waiting["waited_ms"] > 1000
    assert waiting["object"].startswith("relation ") and "of database" in waiting["object"]
    assert waiting["wait_queue"] == str(waiting["pid"]) and waiting["holders"].isdigit()
    # a statement over several lines is kept whole
    assert waiting["statement"].split() == ["UPDATE", "t", "SET", "n", "=", "n", "+", "1",
                                            "WHERE", "id", "=", "1"]
    assert acquired["waited_ms"] > waiting["waited_ms"] and acquired["pid"] == waiting["pid"]
    assert deadlock["mode"] == "ShareLock" and deadlock["object"].startswith("transaction ")
    assert deadlock["wait_queue"] == ""


def test_server_log_without_user_and_database_in_the_prefix_goes_by_pid() -> None:
    text = re.sub(r"\] \S*@\S* ", "] ", (DATA / "pg18.log").read_text())  # '%m [%p] '
    entries = parse_log(text)
    assert all(e.database is None for e in entries)
    waiting_pid = int(re.search(r"process (\d+) still waiting", text)[1])  # type: ignore[index]
    ours = select_entries(entries, database="logdemo", pids={waiting_pid}, start=0, end=2e9)
    assert {e.pid for e in ours} == {waiting_pid}
    assert list(lock_waits(ours)["event"]) == ["waiting", "acquired"]
    first = min(e.at for e in entries)
    assert select_entries(entries, database=None, pids=set(), start=first + 1e6,
                          end=first + 2e6) == []


def test_log_timestamps_in_another_zone() -> None:
    line = "2026-11-27 01:00:00.000 CET [7] LOG:  hello\n"
    utc = "2026-11-27 00:00:00.000 UTC [7] LOG:  hello\n"
    assert parse_log(line, "Europe/Paris")[0].at == parse_log(utc)[0].at
    offset = "2026-11-27 01:00:00.000 +01 [7] LOG:  hello\n"
    assert parse_log(offset, "UTC")[0].at == parse_log(utc)[0].at


# -- the host, from a /proc written by the test ----------------------------------------------------


def _proc(root: Path, cpu: list[int], running: int, disk: list[int], dirty_kb: int) -> Path:
    proc = root / "proc"
    proc.mkdir(parents=True, exist_ok=True)
    (proc / "stat").write_text(f"cpu  {' '.join(map(str, cpu))}\ncpu0 1 1 1 1\n"
                               f"procs_running {running}\nprocs_blocked 1\n")
    line = " ".join(map(str, disk))
    (proc / "diskstats").write_text(f"   7 0 loop0 {line}\n 254 0 vda {line}\n")
    (proc / "meminfo").write_text(f"MemTotal: 100 kB\nDirty:  {dirty_kb} kB\n"
                                  "Writeback:  8 kB\n")
    return proc


def test_host_rates_from_proc(tmp_path: Path) -> None:
    block = tmp_path / "sys" / "block"
    for name in ("vda", "loop0"):
        (block / name).mkdir(parents=True)
    (block / "vda" / "device").mkdir()  # only vda is a physical disk
    # user nice system idle iowait irq softirq steal
    before = read_host(_proc(tmp_path / "a", [100, 0, 50, 800, 10, 0, 0, 0], 3,
                             [10, 0, 100, 40, 5, 0, 200, 10, 0, 0, 0], 100), block)
    after = read_host(_proc(tmp_path / "b", [160, 10, 70, 850, 30, 5, 5, 20], 7,
                            [20, 0, 300, 90, 25, 0, 1000, 50, 0, 0, 0], 300), block)
    after.taken = before.taken + 2.0
    rates = host_rates(before, after)
    # ticks: user 60+10 (nice), system 20+5+5 (irq, softirq), idle 50, iowait 20, steal 20
    assert rates["cpu_user_pct"] == round(100 * 70 / 190, 2)
    assert rates["cpu_system_pct"] == round(100 * 30 / 190, 2)
    assert rates["cpu_idle_pct"] == round(100 * 50 / 190, 2)
    assert rates["cpu_iowait_pct"] == rates["cpu_steal_pct"] == round(100 * 20 / 190, 2)
    assert rates["run_queue"] == 7
    assert rates["disk_read_bytes_s"] == 200 * 512 / 2 and rates["disk_write_bytes_s"] == 800 * 512 / 2
    assert rates["disk_read_await_ms"] == 50 / 10 and rates["disk_write_await_ms"] == 40 / 20
    assert rates["mem_dirty_bytes"] == 300 * 1024 and rates["mem_writeback_bytes"] == 8 * 1024


def test_log_window_reads_what_the_run_wrote_and_says_when_it_cannot(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    earlier = (DATA / "pg18.log").read_text()
    log.write_text(earlier)
    window = LogWindow.open(log)
    assert window.entries() == []  # nothing written since
    log.write_text(earlier + earlier.splitlines(keepends=True)[0])
    assert len(window.entries()) == 1  # only the appended line
    log.write_text("Nov 27 10:00:00 db postgres[12]: [3-1] LOG:  syslog style\n")  # replaced
    window = LogWindow.open(log)
    with log.open("a") as handle:
        handle.write("Nov 27 10:00:01 db postgres[12]: [4-1] LOG:  still syslog\n")
    assert window.entries() == []
    assert any("log_line_prefix" in note for note in window.notes)
