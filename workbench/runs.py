"""Runs: pgbench driven through subprocess, measured per transaction, saved as a run folder.

>>> run = run_workload("shop", clients=8, jobs=2, duration=20)      # doctest: +SKIP
>>> run.summary["latency_ms"]["p95"], run.out                        # doctest: +SKIP
(11.8, PosixPath('runs/shop-20261124-101500'))
>>> load_run(run.out).transactions.equals(run.transactions)         # doctest: +SKIP
True
"""

from __future__ import annotations

import html
import math
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from psycopg.conninfo import conninfo_to_dict

from workbench.connect import connect
from workbench.databases import read_marker
from workbench.datasets import Dataset, get_dataset
from workbench.doctor import MEASURED_SETTINGS
from workbench.dsn import libpq_env, redact
from workbench.errors import WorkbenchError
from workbench.folders import (
    check_writable,
    private_tempdir,
    read_json,
    read_manifest,
    result_folder,
    timestamp,
    write_json,
    write_text,
)
from workbench.pgbench_output import Summary, parse_progress, parse_summary
from workbench.scripts import read_script
from workbench.stats import StatsDelta, WaitSampler, map_statements, snapshot
from workbench.target import Target, resolve_target
from workbench.timeline import Timeline, load_timeline
from workbench.tools import pgbench_path, server_version, tool_version
from workbench.txlog import percentile_intervals, read_logs, summarize_block
from workbench.watcher import DEFAULT_INTERVAL, TimelineWatcher, check_interval

BUILTINS = ("tpcb-like", "simple-update", "select-only")
PROTOCOLS = ("simple", "extended", "prepared")


@dataclass
class ScriptRef:
    """A script of the mix: file (or pgbench built-in) and weight."""

    name: str
    weight: int = 1
    path: Path | None = None
    builtin: str | None = None

    def argument(self) -> list[str]:
        """The pgbench option selecting it."""
        if self.builtin:
            return ["-b", f"{self.builtin}@{self.weight}"]
        return ["-f", f"{self.path}@{self.weight}"]


LOG_TARGET_TPS = 2000  # transactions logged per second when the log is sampled automatically
SUSTAINED = 0.97  # a rate-limited run sustained its rate when it completed this share of it


@dataclass
class RunOptions:
    """pgbench options of a run (what ``workbench run`` accepts).

    ``warmup``: whole seconds of the same workload run just before the measured run, by a
    separate pgbench, left out of every figure and of the statistics deltas. ``sampling_rate``:
    the share of transactions pgbench logs; None chooses it from the warm-up's throughput so
    that about :data:`LOG_TARGET_TPS` transactions a second are logged (the log is the harness's
    main cost). Throughput and counts always come from pgbench's own summary, percentiles from
    the logged sample (its size and each percentile's interval are reported).
    """

    clients: int = 8
    jobs: int | None = None
    duration: float | None = 10
    transactions: int | None = None
    rate: float | None = None
    latency_limit: float | None = None
    protocol: str = "simple"
    max_tries: int = 1
    failures_detailed: bool = False
    random_seed: int | None = 42
    warmup: float = 1.0
    sampling_rate: float | None = None
    progress_interval: int = 1
    connect_each_transaction: bool = False  # pgbench -C: a new connection per transaction
    defines: dict[str, str] = field(default_factory=dict)
    # The run's timeline (workbench.timeline): sampled every this many seconds, None: not watched;
    # auto_explain's threshold for the run's own sessions (None: the server's); a server log path
    # for a server that is not the embedded one.
    timeline_interval: float | None = DEFAULT_INTERVAL
    log_plans_over_ms: float | None = None
    server_log: str | None = None

    def validate(self) -> None:
        """Clear errors for options pgbench would reject or that make no sense together."""
        _whole("--clients", self.clients, minimum=1)
        if self.jobs is not None:
            _whole("--jobs", self.jobs, minimum=1)
        jobs = self.jobs or min(self.clients, os.cpu_count() or 1)
        if self.clients % jobs:
            raise WorkbenchError(f"--jobs {jobs} must divide --clients {self.clients}",
                                 "pgbench gives every thread the same number of clients")
        if (self.duration is None) == (self.transactions is None):
            raise WorkbenchError("give exactly one of --duration and --transactions",
                                 "e.g. --duration 20")
        if self.duration is not None:
            _whole("--duration", self.duration, minimum=1, unit="seconds (pgbench -T)")
        if self.transactions is not None:
            _whole("--transactions", self.transactions, minimum=1)
        if self.rate is not None:
            _positive("--rate", self.rate, "transactions per second, e.g. --rate 200")
        if self.latency_limit is not None:
            _positive("--latency-limit", self.latency_limit, "milliseconds, e.g. --latency-limit 50")
        if self.protocol not in PROTOCOLS:
            raise WorkbenchError(f"unknown --protocol {self.protocol!r}", f"use one of {PROTOCOLS}")
        _whole("--warmup", self.warmup, minimum=0, unit="seconds (pgbench -T)")
        if self.sampling_rate is not None and not (math.isfinite(self.sampling_rate)
                                                   and 0 < self.sampling_rate <= 1):
            raise WorkbenchError(f"--sampling-rate must be in (0, 1], got {self.sampling_rate}",
                                 "e.g. --sampling-rate 0.1, or leave it out to choose it from "
                                 "the warm-up")
        _whole("--max-tries", self.max_tries, minimum=0)
        if self.max_tries == 0 and self.duration is None:
            raise WorkbenchError("--max-tries 0 (unlimited) needs --duration",
                                 "pgbench refuses unlimited tries with --transactions")
        for key in self.defines:
            if not re.fullmatch(r"[A-Za-z_]\w*", key):
                raise WorkbenchError(f"-D {key}=...: {key!r} is not a variable name",
                                     "write -D name=value")
        if self.timeline_interval is not None:
            check_interval(self.timeline_interval)
        if self.log_plans_over_ms is not None and not (
                isinstance(self.log_plans_over_ms, int | float) and self.log_plans_over_ms >= 0
                and math.isfinite(self.log_plans_over_ms)):
            raise WorkbenchError(f"--log-plans-over must be milliseconds >= 0, got "
                                 f"{self.log_plans_over_ms!r}", "e.g. --log-plans-over 50")


def _whole(option: str, value: Any, *, minimum: int, unit: str = "") -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) \
        and float(value) == int(value) and value >= minimum
    if not ok:
        what = "a whole number" + (f" of {unit}" if unit else "")
        raise WorkbenchError(f"{option} must be {what} >= {minimum}, got {value!r}",
                             f"e.g. {option} {max(minimum, 1) * (10 if 'seconds' in unit else 1)}")


def _positive(option: str, value: Any, hint: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or value <= 0:
        raise WorkbenchError(f"{option} must be a number > 0, got {value!r}", hint)


@dataclass
class Run:
    """A finished run: summary, sampled per-transaction frame, progress, statistics, waits."""

    out: Path
    manifest: dict[str, Any]
    summary: dict[str, Any]
    transactions: pd.DataFrame
    progress: pd.DataFrame
    stats: StatsDelta
    waits: pd.DataFrame
    locks: pd.DataFrame
    pools: pd.DataFrame = field(default_factory=pd.DataFrame)
    timeline: Timeline | None = None  # what the server, statements and host did, per interval

    @property
    def status(self) -> str:
        """complete or incomplete."""
        return str(self.manifest.get("status"))

    @property
    def sampling_rate(self) -> float:
        """The share of transactions the frame holds (pgbench's --sampling-rate)."""
        return float((self.summary.get("sample") or {}).get("rate") or 1.0)

    def to_json(self) -> dict[str, Any]:
        """The ``workbench run --json`` document."""
        from workbench.timeline import to_json

        return {"out": str(self.out), "status": self.status, "reason": self.manifest.get("reason"),
                **self.summary, "timeline": to_json(self.timeline) if self.timeline else None}

    def __repr__(self) -> str:
        lat = self.summary.get("latency_ms") or {}
        return (f"<Run {self.out} {self.status}: {self.summary.get('tps')} tps, p95 "
                f"{lat.get('p95')} ms, {self.summary.get('failed')} failed>")

    def _repr_html_(self) -> str:
        lat = self.summary.get("latency_ms") or {}
        rows = "".join(
            f"<tr><td>{html.escape(name)}</td><td>{s['transactions']}</td><td>{s['tps']}</td>"
            f"<td>{(s['latency_ms'] or {}).get('p50')}</td><td>{(s['latency_ms'] or {}).get('p95')}"
            f"</td><td>{(s['latency_ms'] or {}).get('p99')}</td><td>{s['failed']}</td></tr>"
            for name, s in self.summary.get("scripts", {}).items())
        return (
            f"<p><b>Run</b> {html.escape(str(self.out))} — {self.status}, "
            f"{self.summary.get('tps')} tps, p95 {lat.get('p95')} ms, "
            f"{self.summary.get('failed')} failed</p><table><tr><th>script</th><th>transactions"
            "</th><th>tps</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>failed</th></tr>"
            f"{rows}</table>"
        )


def run_workload(
    target: str | Path | Dataset | None = None, *, scripts: list[str] | None = None,
    builtin: str | None = None, options: RunOptions | None = None, database: str | None = None,
    dsn: str | None = None, on: Target | None = None, via: str | None = None,
    pool_size: int | None = None, out: str | Path | None = None, progress: bool = True,
    sample_waits: float | None = 1.0, keep_logs: bool = False, **option_values: Any,
) -> Run:
    """Run a dataset's weighted mix (or scripts / a built-in) under pgbench and save a run folder.

    ``target`` is a dataset (name, folder or object) or a script file; ``scripts`` adds
    ``FILE[@W]``; ``on`` is a resolved :class:`~workbench.target.Target` (else one is resolved
    from ``target``, ``dsn`` and ``database``). Any :class:`RunOptions` field can be given as a
    keyword (``clients=8, duration=20``). ``keep_logs`` also saves pgbench's raw per-transaction
    log files under ``logs/``. ``via`` sends the clients through a pooler
    (``pgbouncer[:mode]`` with ``pool_size``, or a pooler's DSN); the pooler's pool metrics are
    then sampled every second. ``sample_waits``: sessions by state and wait event, and lock
    waits with their blockers, every that many seconds (None: not at all); while the timeline
    runs its own samples give them, at its interval (one sampling session, not two). Server
    statistics are never reset: every figure is a difference of snapshots taken around the
    measured run.
    """
    opts = options or RunOptions(**option_values)
    opts.validate()
    dataset, mix = _mix(on.dataset if on is not None and target is None else target, scripts,
                        builtin)
    where = on or resolve_target(dataset, dsn=dsn, database=database)
    if via is not None or pool_size is not None:
        from workbench.pooler import Route, check_protocol

        route = Route.parse(via, pool_size)
        check_protocol(route, opts.protocol)
        where = route.apply(where)
    folder = Path(out) if out else Path("runs") / f"{dataset.name if dataset else mix[0].name}-" \
        f"{timestamp()}"
    check_writable(folder)
    with connect(where.dsn) as conn:
        marker = read_marker(conn) or {}
        if dataset and marker.get("load_status") not in (None, "complete"):
            from workbench.loader import check_loaded

            check_loaded(conn)
        version = server_version(conn)
        settings = dict(conn.execute("SELECT name, setting FROM pg_settings WHERE name = ANY(%s)",
                                     [list(MEASURED_SETTINGS)]).fetchall())
    variables = dict(marker.get("variables") or {})
    if dataset and not variables:
        variables = dataset.variables(float(marker.get("scale", 1.0)))
    defines = {**{k: str(v) for k, v in variables.items()}, **opts.defines}
    bench = pgbench_path()
    env = _pg_env(where.clients)
    dbname = str(conninfo_to_dict(where.clients).get("dbname", "postgres"))
    logs = private_tempdir("workbench-run-")
    # Everything slow happens before the warm-up (the watcher's probing and fitting, the
    # snapshot's connection), so that the measured pgbench follows the warm-up at once: only
    # the snapshot and the timeline's first sample stand between them.
    watcher = _watcher(where, opts, lock_waits=bool(sample_waits))
    try:
        with connect(where.dsn) as conn:
            warm = _warmup(bench, opts, mix, defines, env, dbname, progress)
            sampling = choose_sampling_rate(opts, warm.tps if warm else None)
            argv = build_command(bench, opts, mix, defines, logs / "pgbench_log", dbname,
                                 sampling_rate=sampling)
            before = snapshot(conn)
        if watcher:
            watcher.start()
        started = time.time()
        # The timeline's session samples give the waits when it runs: one sampler, not two.
        sampler = WaitSampler(where.dsn, sample_waits).start() \
            if sample_waits and watcher is None else None
        pools = _pool_sampler(where)
        try:
            code, stdout, stderr, progress_rows = _execute(
                argv, watcher.client_env(env) if watcher else env, opts, progress)
        finally:
            if watcher:
                watcher.stop()
            if sampler:
                sampler.stop()
            if pools:
                pools.stop()
        ended = time.time()
        try:
            with connect(where.dsn) as conn:
                stats = snapshot(conn).minus(before)
        except WorkbenchError as exc:  # the server went away: keep what pgbench measured
            stats = StatsDelta(ended - started, {}, {"all": str(exc)})
        frame = read_logs(logs, [s.name for s in mix], has_lag=opts.rate is not None,
                          has_retries=opts.max_tries != 1)
        raw_logs = {p.name: p.read_bytes() for p in logs.iterdir()} if keep_logs else {}
    finally:
        if watcher:
            watcher.stop()  # after a failed warm-up too (a second stop does nothing)
        shutil.rmtree(logs, ignore_errors=True)
    parsed = parse_summary(stdout)
    status, reason = _status(code, parsed, frame, stderr)
    seconds = min(float(opts.duration or ended - started), ended - started) \
        if status == "complete" else ended - started
    summary = run_summary(parsed, frame, [s.name for s in mix], seconds=seconds,
                          sampling_rate=sampling)
    summary["warmup_s"] = opts.warmup
    summary["warmup_tps"] = warm.tps if warm else None
    if opts.rate:
        # Below the offered rate the schedule lag grows without bound: say so.
        summary["rate"] = opts.rate
        summary["sustained"] = bool(summary["tps"] and summary["tps"] >= SUSTAINED * opts.rate)
    if "statements" in stats.frames:
        workload = _workload_sql(mix)
        mapped = map_statements(stats.frames["statements"], [(s, i, q) for s, i, q, _ in workload])
        names = {(s, i): n for s, i, _, n in workload}
        mapped["name"] = [names.get((s, i)) for s, i in zip(mapped["script"], mapped["statement"],
                                                            strict=True)]
        stats.frames["statements"] = mapped
    progress_frame = pd.DataFrame(progress_rows, columns=["t", "tps", "latency_ms", "stddev_ms",
                                                          "lag_ms", "failed", "skipped"])
    timeline = watcher.finish(progress_frame, stats.frames.get("statements")) if watcher \
        else None
    waits_from = sampler or (watcher if sample_waits else None)
    waits = sampler.frame() if sampler else watcher.waits_frame() if watcher and sample_waits \
        else pd.DataFrame()
    locks = waits_from.lock_frame() if waits_from else pd.DataFrame()
    if pools:
        summary["pool"] = pool_summary(pools.frame())
    if parsed.average_connection_ms is not None:
        summary["connection_ms"] = parsed.average_connection_ms
    manifest = {
        "dataset": dataset.name if dataset else None, "scale": marker.get("scale"),
        "seed": marker.get("seed"), "database": where.describe(), "route": where.route,
        "server_version": version, "settings": settings,
        "pgbench": {"path": str(bench), "version": tool_version(bench),
                    "command": shlex.join(str(a) for a in argv), "exit_code": code,
                    "warmup_command": shlex.join(str(a) for a in warm.argv) if warm else None},
        "options": {**opts.__dict__}, "sampling_rate": sampling,
        "scripts": [{"name": s.name, "weight": s.weight, "builtin": s.builtin} for s in mix],
        "started_at": _iso(started), "ended_at": _iso(ended), "status": status, "reason": reason,
        "warmup_s": opts.warmup, "stats_missing": stats.missing, "stats_resets": stats.resets,
        "waits_error": waits_from.error if waits_from else None,
        "pool_error": pools.error if pools else None,
        "timeline": timeline.meta if timeline else None,
    }
    with result_folder(folder, kind="run") as staged:
        staged.manifest.update(manifest)
        _save(staged.path, summary, frame, progress_frame, stats, waits, locks, stdout, stderr)
        if pools:
            pools.frame().to_csv(staged.path / "pools.csv", index=False)
        if timeline:
            timeline.save(staged.path / "timeline")
        if raw_logs:
            (staged.path / "logs").mkdir()
            for file_name, content in raw_logs.items():
                (staged.path / "logs" / file_name).write_bytes(content)
    return Run(folder, read_manifest(folder), summary, frame, progress_frame, stats, waits, locks,
               pools.frame() if pools else pd.DataFrame(), timeline)


def _watcher(where: Target, opts: RunOptions, *, lock_waits: bool) -> TimelineWatcher | None:
    """The run's timeline watcher (:mod:`workbench.watcher`), prepared (started just before the
    measured pgbench): direct to the server even when the clients go through a pooler."""
    if opts.timeline_interval is None:
        return None
    return TimelineWatcher(where.dsn, interval=opts.timeline_interval,
                           server_log=opts.server_log, plans_over_ms=opts.log_plans_over_ms,
                           direct=where.clients == where.dsn or where.route == "tcp",
                           lock_waits=lock_waits).prepare()


def _pool_sampler(where: Target) -> Any:
    if not where.pooler_admin:
        return None
    from workbench.pooler import PoolSampler

    return PoolSampler(where.pooler_admin, where.database).start()


def pool_summary(pools: pd.DataFrame) -> dict[str, Any]:
    """What the pooler's clients went through: waiting clients (mean, max), the longest wait,
    server connections in use (max)."""
    if pools.empty:
        return {"samples": 0}
    return {"samples": len(pools), "cl_waiting_mean": round(float(pools["cl_waiting"].mean()), 2),
            "cl_waiting_max": int(pools["cl_waiting"].max()),
            "maxwait_ms": round(1000 * float(pools["maxwait_s"].max()), 3),
            "sv_active_max": int(pools["sv_active"].max())}


def choose_sampling_rate(opts: RunOptions, warmup_tps: float | None) -> float:
    """The share of transactions to log: as given, else about :data:`LOG_TARGET_TPS` a second
    from the rate limit or the warm-up's throughput, else everything.

    >>> choose_sampling_rate(RunOptions(), 50_000.0)
    0.04
    >>> choose_sampling_rate(RunOptions(rate=500), None)
    1.0
    """
    if opts.sampling_rate is not None:
        return float(opts.sampling_rate)
    expected = opts.rate or warmup_tps
    if not expected or expected <= LOG_TARGET_TPS:
        return 1.0
    return float(f"{LOG_TARGET_TPS / expected:.2g}")


def run_summary(parsed: Summary, sample: pd.DataFrame, script_names: list[str], *, seconds: float,
                sampling_rate: float) -> dict[str, Any]:
    """A run's figures: counts and throughput from pgbench's own summary (all transactions),
    latency percentiles from the logged sample, with the sample's size and each percentile's 95%
    interval. When pgbench printed no summary (it was stopped), counts are estimated from the
    sample and marked so."""
    summary = block_summary(sample, seconds, sampling_rate)
    if parsed.tps is not None and parsed.processed is not None:
        summary.update(transactions=parsed.processed, failed=parsed.failed,
                       skipped=parsed.skipped, retried=parsed.retried, tps=round(parsed.tps, 3),
                       counts_from="pgbench summary")
        if parsed.lag_avg_ms is not None:
            summary["lag_ms"] = {**(summary["lag_ms"] or {}), "mean": parsed.lag_avg_ms,
                                 "max": parsed.lag_max_ms}
    summary["pgbench_tps"] = parsed.tps
    scripts: dict[str, Any] = {}
    for name, part in sample.groupby("script", observed=True):
        scripts[str(name)] = block_summary(part, seconds, sampling_rate)
    if len(script_names) == 1 and script_names[0] in scripts:
        for key in ("transactions", "failed", "tps", "counts_from"):
            scripts[script_names[0]][key] = summary[key]
    # pgbench's per-script counters can miss a transaction per client that ends on the deadline
    # (its total and the log do not): a complete log is the better count, a sample is not.
    for reported in parsed.scripts if sampling_rate < 1 else []:
        name = script_names[reported.number - 1] if 0 < reported.number <= len(script_names) \
            else reported.name
        entry = scripts.setdefault(name, block_summary(sample.iloc[:0], seconds, sampling_rate))
        if reported.transactions is not None:
            entry["transactions"] = reported.transactions
            entry["tps"] = round(reported.tps, 3) if reported.tps is not None else \
                round(reported.transactions / seconds, 3) if seconds > 0 else None
            entry["counts_from"] = "pgbench summary"
        if reported.failed is not None:
            entry["failed"] = reported.failed
    summary["scripts"] = scripts
    return summary


def block_summary(frame: pd.DataFrame, seconds: float, sampling_rate: float) -> dict[str, Any]:
    """Figures of a (sampled) transaction frame: counts scaled up by the sampling rate."""
    base = summarize_block(frame, seconds)
    if sampling_rate < 1:
        for key in ("transactions", "failed", "skipped", "retried"):
            base[key] = int(round(base[key] / sampling_rate))
        base["tps"] = round(base["transactions"] / seconds, 3) if seconds > 0 else None
    ok = int((frame["status"] == "ok").sum()) if not frame.empty else 0
    base["sample"] = {"rate": sampling_rate, "transactions": ok}
    base["latency_ci_ms"] = percentile_intervals(frame)
    base["counts_from"] = "log sample" if sampling_rate < 1 else "log"
    return base


def load_run(folder: str | Path) -> Run:
    """A saved run, read back with no database."""
    folder = Path(folder)
    manifest = read_manifest(folder, kind="run")
    summary = read_json(folder / "summary.json")
    try:
        frame = pd.read_parquet(folder / "transactions.parquet")
    except (OSError, ValueError) as exc:
        raise WorkbenchError(f"{folder}/transactions.parquet cannot be read: "
                             f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                             "the run folder is damaged: run the workload again") from None
    progress = _csv(folder / "progress.csv")
    return Run(folder, manifest, summary, frame, progress, StatsDelta.load(folder / "stats"),
               _csv(folder / "waits.csv"), _csv(folder / "locks.csv"), _csv(folder / "pools.csv"),
               load_timeline(folder, manifest, progress))


def build_command(bench: Path, opts: RunOptions, mix: list[ScriptRef], defines: dict[str, str],
                  log_prefix: Path | None, dbname: str, *, sampling_rate: float | None = None,
                  duration: float | None = None) -> list[str]:
    """The pgbench command line (connection details go in the environment, never here).

    ``log_prefix`` None: no per-transaction log (the warm-up, and bare pgbench in benchmarks);
    ``duration`` overrides the options' (the warm-up's length).
    """
    jobs = opts.jobs or min(opts.clients, os.cpu_count() or 1)
    argv = [str(bench), "-n", "-c", str(opts.clients), "-j", str(jobs),
            "-P", str(opts.progress_interval), "-M", opts.protocol]
    if log_prefix is not None:
        argv += ["-l", f"--log-prefix={log_prefix}"]
        if sampling_rate is not None and sampling_rate < 1:
            argv += [f"--sampling-rate={sampling_rate:g}"]
    if duration is not None:
        argv += ["-T", str(int(duration))]
    else:
        argv += ["-T", str(int(opts.duration))] if opts.duration else \
            ["-t", str(opts.transactions)]
    if opts.rate:
        argv += ["-R", f"{opts.rate:g}"]
    if opts.latency_limit:
        argv += ["-L", f"{opts.latency_limit:g}"]
    if opts.max_tries != 1:
        argv += [f"--max-tries={opts.max_tries}"]
    if opts.connect_each_transaction:
        argv += ["-C"]
    if opts.failures_detailed:
        argv += ["--failures-detailed"]
    if opts.random_seed is not None:
        argv += [f"--random-seed={opts.random_seed}"]
    for key, value in sorted(defines.items()):
        argv += ["-D", f"{key}={value}"]
    for script in mix:
        argv += script.argument()
    return [*argv, dbname]


@dataclass
class Warmup:
    """What the warm-up did: its command and pgbench's throughput."""

    argv: list[str]
    tps: float | None
    exit_code: int


def _warmup(bench: Path, opts: RunOptions, mix: list[ScriptRef], defines: dict[str, str],
            env: dict[str, str], dbname: str, show: bool) -> Warmup | None:
    """The same workload for ``opts.warmup`` seconds, unlogged, before the measured run."""
    if not opts.warmup:
        return None
    argv = build_command(bench, opts, mix, defines, None, dbname, duration=opts.warmup)
    code, stdout, stderr, _ = _execute(argv, env, opts, show, label="warm-up",
                                       total=opts.warmup)
    parsed = parse_summary(stdout)
    if code != 0 and parsed.tps is None:
        last = next((ln.strip() for ln in reversed(stderr.splitlines()) if ln.strip()), "")
        raise WorkbenchError(f"the warm-up failed (pgbench exit {code}): {redact(last)}",
                             _hint(stderr))
    return Warmup(argv, parsed.tps, code)


def _mix(target: str | Path | Dataset | None, scripts: list[str] | None, builtin: str | None
         ) -> tuple[Dataset | None, list[ScriptRef]]:
    dataset = None
    mix: list[ScriptRef] = []
    if isinstance(target, Dataset):
        dataset = target
        mix += [ScriptRef(s.name, s.weight, s.path) for s in dataset.scripts]
    elif target is not None:
        path = Path(target)
        if path.suffix == ".sql" and path.is_file():
            mix.append(ScriptRef(path.stem, 1, path.resolve()))
        else:
            dataset = get_dataset(target)
            mix += [ScriptRef(s.name, s.weight, s.path) for s in dataset.scripts]
    for item in scripts or []:
        file, _, weight = str(item).partition("@")
        path = Path(file)
        if not path.is_file():
            raise WorkbenchError(f"script {file} does not exist", "check the --script path")
        mix.append(ScriptRef(path.stem, _weight(item, weight), path.resolve()))
    if builtin:
        name, _, weight = builtin.partition("@")
        if name not in BUILTINS:
            raise WorkbenchError(f"unknown built-in {name!r}", f"use one of {', '.join(BUILTINS)}")
        mix.append(ScriptRef(name, _weight(builtin, weight), builtin=name))
    if not mix:
        raise WorkbenchError("nothing to run", "name a dataset, a --script FILE or a --builtin")
    for script in mix:
        if script.path:
            read_script(script.path)  # a clear error for a script we cannot read
    return dataset, mix


def _weight(item: str, weight: str) -> int:
    """The W of NAME@W: a whole number >= 1 (pgbench's own rule), 1 when absent."""
    if not weight:
        return 1
    if not weight.isdigit() or int(weight) < 1:
        raise WorkbenchError(f"{item!r}: the weight after @ must be a whole number >= 1",
                             "e.g. --script extra.sql@5")
    return int(weight)


def _execute(argv: list[str], env: dict[str, str], opts: RunOptions, show: bool, *,
             label: str = "pgbench", total: float | None = None
             ) -> tuple[int, str, str, list[tuple[Any, ...]]]:
    from tqdm.auto import tqdm

    total = total or opts.duration or None
    bar = tqdm(total=total, desc=label, unit="s", disable=None if show else True, leave=False)
    rows: list[tuple[Any, ...]] = []
    err_lines: list[str] = []
    with tempfile.TemporaryFile("w+") as stdout:
        proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE, text=True, env=env)
        assert proc.stderr is not None
        try:
            for line in proc.stderr:
                point = parse_progress(line)
                if point is None:
                    err_lines.append(line)
                    continue
                rows.append((point.t, point.tps, point.latency_ms, point.stddev_ms, point.lag_ms,
                             point.failed, point.skipped))
                if total:
                    bar.update(max(0.0, min(point.t, total) - bar.n))
                bar.set_postfix(tps=f"{point.tps:.0f}", lat=f"{point.latency_ms:.1f}ms")
            code = proc.wait()
        except BaseException:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            raise
        finally:
            bar.close()
        stdout.seek(0)
        out = stdout.read()
    return code, out, "".join(err_lines), rows


def _status(code: int, parsed: Summary, frame: pd.DataFrame, stderr: str
            ) -> tuple[str, str | None]:
    if code == 0 and not parsed.aborted:
        return "complete", None
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    last = next((ln for ln in lines if "error" in ln.lower()), lines[-1] if lines else "")
    if frame.empty and not parsed.processed:
        raise WorkbenchError(f"pgbench measured nothing (exit {code}): {redact(last)}",
                             _hint(stderr))
    why = "some clients aborted" if parsed.aborted or code == 2 else f"pgbench exited with {code}"
    return "incomplete", f"{why}: {redact(last)}" if last else why


def _hint(stderr: str) -> str:
    if "too many clients" in stderr:
        return ("more clients than the server's max_connections: use a pooler (--via "
                "pgbouncer) or fewer clients")
    return "check the scripts with `workbench explain`, and the server"


def _pg_env(dsn: str) -> dict[str, str]:
    """PG* variables for pgbench (the password never on its command line)."""
    env = libpq_env(dsn)
    env["PGAPPNAME"] = "workbench-pgbench"
    return env


def _workload_sql(mix: list[ScriptRef]) -> list[tuple[str, int, str, str]]:
    """(script, query index, sql, name): names as the plans name them ("checkout.2")."""
    out = []
    for ref in mix:
        if ref.path:
            queries = read_script(ref.path).queries
            for index, statement in enumerate(queries):
                name = ref.name if len(queries) == 1 else f"{ref.name}.{index + 1}"
                out.append((ref.name, index, statement.sql, name))
    return out


def _save(folder: Path, summary: dict[str, Any], frame: pd.DataFrame, progress: pd.DataFrame,
          stats: StatsDelta, waits: pd.DataFrame, locks: pd.DataFrame, stdout: str,
          stderr: str) -> None:
    write_json(folder / "summary.json", summary)
    frame.to_parquet(folder / "transactions.parquet", index=False)
    progress.to_csv(folder / "progress.csv", index=False)
    waits.to_csv(folder / "waits.csv", index=False)
    locks.to_csv(folder / "locks.csv", index=False)
    stats.save(folder / "stats")
    for csv in (folder / "stats").glob("*.csv"):
        write_text(csv, csv.read_text())  # scrub statement texts of anything secret
    write_text(folder / "pgbench-stdout.txt", stdout)
    write_text(folder / "pgbench-stderr.txt", stderr)


def _csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return pd.DataFrame()


def _iso(epoch: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="milliseconds")


