"""Runs: the harness's cost, measured side by side with bare pgbench; exits 1 on a miss.

(a) Harness overhead, for pgbench's select-only built-in (tpcb dataset, the highest transaction
    rate there is) and for the shop mix: the throughput `workbench.runs.run_workload` reports with
    its defaults (warm-up, automatic log sampling, progress streaming, wait sampling, statistics
    snapshots) divided by bare pgbench's (no -l, the same script, clients, threads and duration,
    after the same unmeasured warm-up), alternating bare/workbench in every round (5 rounds: the
    round-to-round noise is about 3%, as large as the cost measured). Target: the ratio of means
    >= 0.97 for both workloads; the paired rounds' mean ratio and its interval printed beside it.
(b) Analysis cost: reading every thread's log into one DataFrame and summarising it, as a share
    of the run's own duration, with the default log (sampled to about LOG_TARGET_TPS a second),
    for a select-only run and for a million logged transactions (the real lines repeated,
    standing for the run that logs that many at the default rate). Target: <= 2%. The same for a
    log of every transaction (--sampling-rate 1) is printed for information.

    .venv/bin/python bench/bench_runs.py [--duration 10] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.databases import drop_database  # noqa: E402
from workbench.intervals import mean_interval  # noqa: E402
from workbench.loader import load  # noqa: E402
from workbench.pgbench_output import parse_summary  # noqa: E402
from workbench.runs import (  # noqa: E402
    LOG_TARGET_TPS,
    RunOptions,
    _mix,
    _pg_env,
    build_command,
    run_workload,
)
from workbench.tools import pgbench_path  # noqa: E402
from workbench.txlog import read_logs, summarize  # noqa: E402

TARGET_RATIO = 0.97
TARGET_ANALYSIS_PCT = 2.0
WORKLOADS = {  # name: (dataset to load, scale, run target, built-in)
    "select-only": ("tpcb", 1, None, "select-only"),
    "shop mix": ("shop", 0.2, "shop", None),
}


def bare_tps(options: RunOptions, target: str | None, builtin: str | None, dsn: str,
             dbname: str, scale: float) -> float:
    """pgbench with no per-transaction log, after the same warm-up the harness runs."""
    dataset, mix = _mix(target, None, builtin)
    defines = {k: str(v) for k, v in dataset.variables(scale).items()} if dataset else {}
    env = _pg_env(dsn)
    warm = build_command(pgbench_path(), options, mix, defines, None, dbname,
                         duration=options.warmup)
    subprocess.run(warm, env=env, capture_output=True, text=True, check=True)
    argv = build_command(pgbench_path(), options, mix, defines, None, dbname)
    out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout
    return parse_summary(out).tps or 0.0


def harness_ratio(name: str, duration: int, rounds: int) -> float:
    dataset, scale, target, builtin = WORKLOADS[name]
    db = f"wb_bench_runs_{dataset}"
    loaded = load(dataset, scale=scale, database=db, replace=True, progress=False)
    options = RunOptions(clients=2, jobs=2, duration=duration, random_seed=1)
    bare, harness = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for round_no in range(rounds):
            bare.append(bare_tps(options, target, builtin, loaded.dsn, db, scale))
            run = run_workload(target, builtin=builtin, dsn=loaded.dsn, options=options,
                               progress=False, out=Path(tmp) / f"run{round_no}")
            harness.append(run.summary["tps"] or 0.0)
            print(f"  {name} round {round_no + 1}: bare {bare[-1]:.0f} tps, workbench "
                  f"{harness[-1]:.0f} tps (log sampling rate {run.sampling_rate:g})", flush=True)
    drop_database(db, loaded.dsn)
    ratio = statistics.mean(harness) / statistics.mean(bare)
    mean, low, high = mean_interval([h / b for h, b in zip(harness, bare, strict=True)])
    interval = f"95% interval {low:.3f} to {high:.3f}" if low and high else "no interval"
    print(f"(a) harness overhead, {name}: workbench/bare tps = {ratio:.3f} (medians "
          f"{statistics.median(harness) / statistics.median(bare):.3f}; paired rounds "
          f"{mean or 0:.3f}, {interval}; "
          f"target >= {TARGET_RATIO})", flush=True)
    return ratio


def analysis_cost(duration: int) -> list[float]:
    """(b): the cost of reading and summarising the log, as % of the run it describes."""
    loaded = load("tpcb", scale=1, database="wb_bench_runs_logs", replace=True, progress=False)
    names = ["select-only"]
    shares = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, rate in (("default (sampled)", None), ("every transaction", 1.0)):
            options = RunOptions(clients=2, jobs=2, duration=duration, random_seed=1,
                                 sampling_rate=rate)
            run = run_workload(builtin="select-only", dsn=loaded.dsn, options=options,
                               progress=False, out=Path(tmp) / f"run-{rate}", keep_logs=True)
            logs = run.out / "logs"
            started = time.perf_counter()
            frame = read_logs(logs, names, has_lag=False, has_retries=False)
            summarize(frame, duration)
            spent = time.perf_counter() - started
            share = 100 * spent / duration
            target = f"target <= {TARGET_ANALYSIS_PCT}%" if rate is None else "information"
            print(f"(b) analysis of a {duration} s run's log, {label} ({len(frame):,} lines, "
                  f"{run.summary['tps']:.0f} tps): {spent:.3f} s = {share:.2f}% ({target})")
            if rate is None:
                shares.append(share)
        big = Path(tmp) / "big"
        big.mkdir()
        lines = b"".join(p.read_bytes() for p in sorted(logs.iterdir()))
        copies = max(1, -(-1_000_000 // max(len(frame), 1)))
        (big / f"pgbench_log.{os.getpid()}").write_bytes(lines * copies)
        started = time.perf_counter()
        frame = read_logs(big, names, has_lag=False, has_retries=False)
        run_seconds = len(frame) / LOG_TARGET_TPS
        summarize(frame, run_seconds)
        spent = time.perf_counter() - started
        shares.append(100 * spent / run_seconds)
        print(f"(b) analysis of {len(frame):,} logged transactions: {spent:.2f} s for the "
              f"{run_seconds:.0f} s run that logs them at the default {LOG_TARGET_TPS}/s = "
              f"{shares[-1]:.2f}% (target <= {TARGET_ANALYSIS_PCT}%)")
    drop_database("wb_bench_runs_logs", loaded.dsn)
    return shares


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)  # 3 rounds: +-3% of noise
    args = parser.parse_args()
    misses = []
    for name in WORKLOADS:
        ratio = harness_ratio(name, args.duration, args.rounds)
        if ratio < TARGET_RATIO:
            misses.append(f"harness overhead on {name}: {ratio:.3f} < {TARGET_RATIO}")
    for share in analysis_cost(args.duration):
        if share > TARGET_ANALYSIS_PCT:
            misses.append(f"analysis cost {share:.2f}% > {TARGET_ANALYSIS_PCT}%")
    for miss in misses:
        print(f"MISS {miss}")
    print("bench_runs: " + ("all targets met" if not misses else f"{len(misses)} target(s) missed"))
    return 1 if misses else 0


if __name__ == "__main__":
    raise SystemExit(main())
