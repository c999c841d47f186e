"""Runs: pgbench driven through subprocess, measured per transaction, saved as a run folder.

>>> run = run_workload("shop", clients=8, jobs=2, duration=20)      # doctest: +SKIP
>>> run.summary["latency_ms"]["p95"], run.out                        # doctest: +SKIP
(11.8, PosixPath('runs/shop-20261124-101500'))
>>> load_run(run.out).transactions.equals(run.transactions)         # doctest: +SKIP
True
"""

from __future__ import annotations

import html
import json
import os
import shlex
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from psycopg.conninfo import conninfo_to_dict

from workbench.connect import connect, dataset_database, resolve_dsn
from workbench.databases import read_marker
from workbench.datasets import Dataset, get_dataset
from workbench.doctor import MEASURED_SETTINGS
from workbench.dsn import describe, libpq_env, redact
from workbench.errors import WorkbenchError
from workbench.folders import read_manifest, result_folder, timestamp, write_json, write_text
from workbench.pgbench_output import parse_progress, parse_summary
from workbench.scripts import read_script
from workbench.stats import StatsDelta, WaitSampler, map_statements, reset_statistics, snapshot
from workbench.tools import pgbench_path, server_version, tool_version
from workbench.txlog import read_logs, summarize, trim_warmup

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


@dataclass
class RunOptions:
    """pgbench options of a run (what ``workbench run`` accepts)."""

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
    warmup: float = 0.0
    sampling_rate: float | None = None
    progress_interval: int = 1
    defines: dict[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        """Clear errors for options pgbench would reject or that make no sense together."""
        if self.clients < 1:
            raise WorkbenchError(f"--clients must be >= 1, got {self.clients}", "e.g. --clients 8")
        jobs = self.jobs or min(self.clients, os.cpu_count() or 1)
        if jobs < 1 or self.clients % jobs:
            raise WorkbenchError(f"--jobs {jobs} must divide --clients {self.clients}",
                                 "pgbench gives every thread the same number of clients")
        if (self.duration is None) == (self.transactions is None):
            raise WorkbenchError("give exactly one of --duration and --transactions",
                                 "e.g. --duration 20")
        if self.duration is not None and self.duration < 1:
            raise WorkbenchError("--duration must be at least 1 second", "e.g. --duration 20")
        if self.protocol not in PROTOCOLS:
            raise WorkbenchError(f"unknown --protocol {self.protocol!r}", f"use one of {PROTOCOLS}")
        if self.latency_limit is not None and self.rate is None:
            pass  # allowed: -L alone marks late transactions
        if self.warmup and self.duration is not None and self.warmup >= self.duration:
            raise WorkbenchError(f"--warmup {self.warmup} s leaves nothing of a {self.duration} s run",
                                 "make the warm-up shorter than the duration")
        if self.sampling_rate is not None and not 0 < self.sampling_rate <= 1:
            raise WorkbenchError("--sampling-rate must be in (0, 1]", "e.g. --sampling-rate 0.1")
        if self.max_tries < 0:
            raise WorkbenchError("--max-tries must be >= 0", "0 means unlimited (needs --duration)")


@dataclass
class Run:
    """A finished run: summary, per-transaction frame, progress, statistics, waits."""

    out: Path
    manifest: dict[str, Any]
    summary: dict[str, Any]
    transactions: pd.DataFrame
    progress: pd.DataFrame
    stats: StatsDelta
    waits: pd.DataFrame
    locks: pd.DataFrame

    @property
    def status(self) -> str:
        """complete or incomplete."""
        return str(self.manifest.get("status"))

    def to_json(self) -> dict[str, Any]:
        """The ``workbench run --json`` document."""
        return {"out": str(self.out), "status": self.status, **self.summary}

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
    target: str | Path | None = None, *, scripts: list[str] | None = None, builtin: str | None = None,
    options: RunOptions | None = None, database: str | None = None, dsn: str | None = None,
    out: str | Path | None = None, reset_stats: bool = True, progress: bool = True,
    sample_waits: float | None = 1.0, keep_logs: bool = False, **option_values: Any,
) -> Run:
    """Run a dataset's weighted mix (or scripts / a built-in) under pgbench and save a run folder.

    ``target`` is a dataset name or folder, or a script file; ``scripts`` adds ``FILE[@W]``.
    Any :class:`RunOptions` field can be given as a keyword (``clients=8, duration=20``).
    ``keep_logs`` also saves pgbench's raw per-transaction log files under ``logs/``.
    """
    opts = options or RunOptions(**option_values)
    opts.validate()
    dataset, mix = _mix(target, scripts, builtin)
    db = dataset_database(dsn, database, dataset.name if dataset else None)
    target_dsn = resolve_dsn(dsn, db)
    with connect(target_dsn) as conn:
        marker = read_marker(conn) or {}
        if dataset and marker.get("load_status") not in (None, "complete"):
            from workbench.loader import check_loaded

            check_loaded(conn)
        version = server_version(conn)
        settings = dict(conn.execute("SELECT name, setting FROM pg_settings WHERE name = ANY(%s)",
                                     [list(MEASURED_SETTINGS)]).fetchall())
        reset_problems = reset_statistics(conn) if reset_stats else []
    variables = dict(marker.get("variables") or {})
    if dataset and not variables:
        variables = dataset.variables(float(marker.get("scale", 1.0)))
    defines = {**{k: str(v) for k, v in variables.items()}, **opts.defines}
    name = dataset.name if dataset else (mix[0].name if mix else "run")
    folder = Path(out) if out else Path("runs") / f"{name}-{timestamp()}"
    bench = pgbench_path()
    with tempfile.TemporaryDirectory(prefix="workbench-run-") as logs:
        argv = build_command(bench, opts, mix, defines, Path(logs) / "pgbench_log",
                             str(conninfo_to_dict(target_dsn).get("dbname", "postgres")))
        with connect(target_dsn) as conn:
            before = snapshot(conn)
        started = time.time()
        sampler = WaitSampler(target_dsn, sample_waits).start() if sample_waits else None
        try:
            code, stdout, stderr, progress_rows = _execute(argv, _pg_env(target_dsn), opts, progress)
        finally:
            if sampler:
                sampler.stop()
        ended = time.time()
        try:
            with connect(target_dsn) as conn:
                stats = snapshot(conn).minus(before)
        except WorkbenchError as exc:  # the server went away: keep what pgbench measured
            stats = StatsDelta(ended - started, {}, {"all": str(exc)})
        frame = read_logs(Path(logs), [s.name for s in mix], has_lag=opts.rate is not None,
                          has_retries=opts.max_tries != 1)
        raw_logs = {p.name: p.read_bytes() for p in Path(logs).iterdir()} if keep_logs else {}
    parsed = parse_summary(stdout)
    status, reason = _status(code, parsed.aborted, frame, stderr)
    measured = trim_warmup(frame, opts.warmup, started)
    seconds = (min(opts.duration or ended - started, ended - started) - opts.warmup)
    summary = summarize(measured, max(seconds, 1e-9))
    summary["warmup_s"] = opts.warmup
    summary["measured_s"] = round(seconds, 3)
    summary["pgbench_tps"] = parsed.tps
    if "statements" in stats.frames and dataset:
        workload = _workload_sql(mix)
        mapped = map_statements(stats.frames["statements"], [(s, i, q) for s, i, q, _ in workload])
        names = {(s, i): n for s, i, _, n in workload}
        mapped["name"] = [names.get((s, i)) for s, i in zip(mapped["script"], mapped["statement"],
                                                            strict=True)]
        stats.frames["statements"] = mapped
    progress_frame = pd.DataFrame(progress_rows, columns=["t", "tps", "latency_ms", "stddev_ms",
                                                          "lag_ms", "failed", "skipped"])
    waits = sampler.frame() if sampler else pd.DataFrame()
    locks = sampler.lock_frame() if sampler else pd.DataFrame()
    manifest = {
        "dataset": dataset.name if dataset else None, "scale": marker.get("scale"),
        "seed": marker.get("seed"), "database": describe(target_dsn),
        "server_version": version, "settings": settings,
        "pgbench": {"path": str(bench), "version": tool_version(bench),
                    "command": shlex.join(str(a) for a in argv), "exit_code": code},
        "options": {**opts.__dict__}, "scripts": [{"name": s.name, "weight": s.weight,
                                                    "builtin": s.builtin} for s in mix],
        "started_at": _iso(started), "ended_at": _iso(ended), "status": status, "reason": reason,
        "warmup_s": opts.warmup, "stats_reset_problems": reset_problems,
        "stats_missing": stats.missing, "waits_error": sampler.error if sampler else None,
    }
    with result_folder(folder, kind="run") as staged:
        staged.manifest.update(manifest)
        _save(staged.path, summary, frame, progress_frame, stats, waits, locks, stdout, stderr)
        if raw_logs:
            (staged.path / "logs").mkdir()
            for file_name, content in raw_logs.items():
                (staged.path / "logs" / file_name).write_bytes(content)
    return Run(folder, read_manifest(folder), summary, frame, progress_frame, stats, waits, locks)


def load_run(folder: str | Path) -> Run:
    """A saved run, read back with no database."""
    folder = Path(folder)
    manifest = read_manifest(folder, kind="run")
    summary = json.loads((folder / "summary.json").read_text())
    frame = pd.read_parquet(folder / "transactions.parquet")
    return Run(folder, manifest, summary, frame, _csv(folder / "progress.csv"),
               StatsDelta.load(folder / "stats"), _csv(folder / "waits.csv"),
               _csv(folder / "locks.csv"))


def build_command(bench: Path, opts: RunOptions, mix: list[ScriptRef], defines: dict[str, str],
                  log_prefix: Path, dbname: str) -> list[str]:
    """The pgbench command line (connection details go in the environment, never here)."""
    jobs = opts.jobs or min(opts.clients, os.cpu_count() or 1)
    argv = [str(bench), "-n", "-c", str(opts.clients), "-j", str(jobs),
            "-P", str(opts.progress_interval), "-l", f"--log-prefix={log_prefix}",
            "-M", opts.protocol]
    argv += ["-T", str(int(opts.duration))] if opts.duration else ["-t", str(opts.transactions)]
    if opts.rate:
        argv += ["-R", str(opts.rate)]
    if opts.latency_limit:
        argv += ["-L", str(opts.latency_limit)]
    if opts.max_tries != 1:
        argv += [f"--max-tries={opts.max_tries}"]
    if opts.failures_detailed:
        argv += ["--failures-detailed"]
    if opts.random_seed is not None:
        argv += [f"--random-seed={opts.random_seed}"]
    if opts.sampling_rate:
        argv += [f"--sampling-rate={opts.sampling_rate}"]
    for key, value in sorted(defines.items()):
        argv += ["-D", f"{key}={value}"]
    for script in mix:
        argv += script.argument()
    return [*argv, dbname]


def _mix(target: str | Path | None, scripts: list[str] | None, builtin: str | None
         ) -> tuple[Dataset | None, list[ScriptRef]]:
    dataset = None
    mix: list[ScriptRef] = []
    if target is not None:
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
        mix.append(ScriptRef(path.stem, int(weight or 1), path.resolve()))
    if builtin:
        name, _, weight = builtin.partition("@")
        if name not in BUILTINS:
            raise WorkbenchError(f"unknown built-in {name!r}", f"use one of {', '.join(BUILTINS)}")
        mix.append(ScriptRef(name, int(weight or 1), builtin=name))
    if not mix:
        raise WorkbenchError("nothing to run", "name a dataset, a --script FILE or a --builtin")
    for script in mix:
        if script.path:
            read_script(script.path)  # a clear error for a script we cannot read
    return dataset, mix


def _execute(argv: list[str], env: dict[str, str], opts: RunOptions, show: bool
             ) -> tuple[int, str, str, list[tuple[Any, ...]]]:
    from tqdm.auto import tqdm

    total = opts.duration or None
    bar = tqdm(total=total, desc="pgbench", unit="s", disable=not show, leave=False)
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
            proc.wait(timeout=10)
            raise
        finally:
            bar.close()
        stdout.seek(0)
        out = stdout.read()
    return code, out, "".join(err_lines), rows


def _status(code: int, aborted: bool, frame: pd.DataFrame, stderr: str) -> tuple[str, str | None]:
    if code == 0 and not aborted:
        return "complete", None
    last = next((ln.strip() for ln in reversed(stderr.splitlines()) if ln.strip()), "")
    if frame.empty:
        raise WorkbenchError(f"pgbench measured nothing (exit {code}): {redact(last)}",
                             "check the scripts with `workbench explain`, and the server")
    why = "some clients aborted" if aborted or code == 2 else f"pgbench exited with {code}"
    return "incomplete", f"{why}: {redact(last)}" if last else why


def _pg_env(dsn: str) -> dict[str, str]:
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


