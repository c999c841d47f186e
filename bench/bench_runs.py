"""Runs: harness overhead and analysis cost (issue 4's benchmarks), printed as ratios.

(a) Harness overhead: throughput of `workbench.runs.run_workload` (progress streaming, wait
    sampling, statistics snapshots, per-transaction logs read into pandas) against the very same
    pgbench command line run bare, alternating A/B/A/B in one run, same scripts, clients and
    duration. Both sides' tps is pgbench's own figure. Target: ratio >= 0.97.
(b) Analysis cost: reading every thread's log into one DataFrame and summarising it (percentiles
    overall and per script), as a share of the run's own duration, for a real run and for a million
    transactions (the real log lines repeated). Target: <= 2%.

    .venv/bin/python bench/bench_runs.py [--duration 10] [--rounds 2]
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

from workbench.loader import load  # noqa: E402
from workbench.pgbench_output import parse_summary  # noqa: E402
from workbench.runs import RunOptions, _mix, _pg_env, build_command, run_workload  # noqa: E402
from workbench.tools import pgbench_path  # noqa: E402
from workbench.txlog import read_logs, summarize  # noqa: E402

DB = "wb_bench_runs"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    loaded = load("tpcb", scale=1, database=DB, replace=True, progress=False)
    options = RunOptions(clients=4, jobs=2, duration=args.duration, random_seed=1)
    dataset, mix = _mix("tpcb", None, None)
    defines = {k: str(v) for k, v in dataset.variables(1.0).items()}
    bare, harness = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for round_no in range(args.rounds):
            argv = build_command(pgbench_path(), options, mix, defines,
                                 Path(tmp) / f"bare{round_no}" / "pgbench_log", DB)
            (Path(tmp) / f"bare{round_no}").mkdir()
            out = subprocess.run(argv, env=_pg_env(loaded.dsn), capture_output=True, text=True,
                                 check=True).stdout
            bare.append(parse_summary(out).tps or 0.0)
            run = run_workload("tpcb", dsn=loaded.dsn, options=options, progress=False,
                               out=Path(tmp) / f"run{round_no}", keep_logs=True)
            harness.append(run.summary["pgbench_tps"] or 0.0)
            print(f"round {round_no + 1}: bare {bare[-1]:.0f} tps, workbench {harness[-1]:.0f} tps",
                  flush=True)
        ratio = statistics.mean(harness) / statistics.mean(bare)
        medians = statistics.median(harness) / statistics.median(bare)
        print(f"(a) harness overhead: workbench/bare tps ratio = {ratio:.3f} (medians: "
              f"{medians:.3f}; target >= 0.97)")
        logs = run.out / "logs"
        names = [s.name for s in mix]
        started = time.perf_counter()
        frame = read_logs(logs, names, has_lag=False, has_retries=False)
        summarize(frame, args.duration)
        spent = time.perf_counter() - started
        print(f"(b) analysis of {len(frame):,} transactions: {spent:.3f} s for a {args.duration} s "
              f"run = {100 * spent / args.duration:.2f}% (target <= 2%)")
        big = Path(tmp) / "big"
        big.mkdir()
        lines = b"".join(p.read_bytes() for p in sorted(logs.iterdir()))
        copies = max(1, -(-1_000_000 // max(len(frame), 1)))
        (big / f"pgbench_log.{os.getpid()}").write_bytes(lines * copies)
        tps = len(frame) / args.duration
        started = time.perf_counter()
        frame = read_logs(big, names, has_lag=False, has_retries=False)
        summarize(frame, len(frame) / tps)
        spent = time.perf_counter() - started
        run_seconds = len(frame) / tps
        print(f"(b) analysis of {len(frame):,} transactions (real lines repeated): {spent:.2f} s for "
              f"the {run_seconds:.0f} s run they stand for = {100 * spent / run_seconds:.2f}% "
              "(target <= 2%)")
    from workbench.databases import drop_database

    drop_database(DB, loaded.dsn)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
