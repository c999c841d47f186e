"""Load throughput of the `shop` dataset against `pgbench -i`, side by side on the same server.

Both sides are timed from nothing to a loaded, vacuumed, analysed database with its keys:

- shop: `workbench.loader.load("shop")`: create the (marked) database, apply the schema, generate
  the data on the server, build primary keys, indexes and foreign keys, VACUUM (ANALYZE), count.
- pgbench: create the (marked) database the same way, then `pgbench -i -I dtgvp -s S`: drop,
  create tables, client-side generate (COPY FREEZE), vacuum, primary keys; S is chosen so that
  pgbench's tables hold about as many bytes as shop's.

Throughput is table bytes (heap + TOAST, `pg_table_size`, indexes not counted) per wall-clock
second. The runs alternate (shop, pgbench, shop, ...) so background load hits both alike; the
ratio is of the fastest runs (the least disturbed by other jobs), the medians' ratio beside it.
Usage:

    .venv/bin/python bench/bench_load.py [--scale 1] [--repeat 3] [--dsn DSN] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.connect import connect, resolve_dsn  # noqa: E402
from workbench.databases import create_database, drop_database  # noqa: E402
from workbench.dsn import mask_dsn  # noqa: E402
from workbench.loader import PGBENCH_STEPS, load, pgbench_init  # noqa: E402

SHOP_DB = "wb_bench_shop"
PGBENCH_DB = "wb_bench_pgbench"
PGBENCH_TABLES = ["pgbench_accounts", "pgbench_branches", "pgbench_tellers", "pgbench_history"]


def run_shop(dsn: str, scale: float) -> tuple[float, int]:
    """Seconds and table bytes of one shop load."""
    started = time.perf_counter()
    result = load("shop", scale=scale, database=SHOP_DB, dsn=dsn, replace=True, progress=False)
    seconds = time.perf_counter() - started
    return seconds, sum(t["bytes"] for t in result.tables.values())


def run_pgbench(dsn: str, factor: int) -> tuple[float, int]:
    """Seconds and table bytes of one `pgbench -i` into a fresh database."""
    started = time.perf_counter()
    target = create_database(PGBENCH_DB, dsn, replace=True, dataset="bench-pgbench")
    pgbench_init(target, PGBENCH_DB, factor, steps=PGBENCH_STEPS)
    seconds = time.perf_counter() - started
    with connect(target) as conn:
        size = conn.execute("SELECT sum(pg_table_size(c.oid))::bigint FROM pg_class c "
                            "WHERE c.relname = ANY(%s) AND c.relkind = 'r'",
                            [PGBENCH_TABLES]).fetchone()[0]
    return seconds, int(size)


def bench(dsn: str, scale: float, repeat: int) -> dict[str, Any]:
    """Alternate shop and pgbench loads; the medians of their throughputs and the ratio."""
    _, per_factor = run_pgbench(dsn, 1)  # calibrate: table bytes per pgbench scale factor
    _, shop_bytes = run_shop(dsn, scale)  # warm-up, and the size to match
    factor = max(1, round(shop_bytes / per_factor))
    shop, pgbench = [], []
    for _ in range(repeat):
        shop.append(run_shop(dsn, scale))
        pgbench.append(run_pgbench(dsn, factor))
    sides = {"shop": shop, "pgbench": pgbench}
    best = {k: max(b / s for s, b in v) for k, v in sides.items()}
    median = {k: statistics.median(b / s for s, b in v) for k, v in sides.items()}
    return {
        "server": mask_dsn(dsn), "scale": scale, "pgbench_scale": factor,
        "pgbench_steps": PGBENCH_STEPS, "repeat": repeat,
        **{k: {"bytes": v[-1][1], "seconds": [round(s, 3) for s, _ in v],
               "best_bytes_per_second": round(best[k]),
               "median_bytes_per_second": round(median[k])} for k, v in sides.items()},
        # The fastest run of each side is the least disturbed by other jobs on the machine.
        "ratio": round(best["shop"] / best["pgbench"], 3),
        "median_ratio": round(median["shop"] / median["pgbench"], 3),
    }


TARGET_RATIO = 1.0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the ratio; exit 1 when it misses its target (>= 1.0)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="shop scale (default 1)")
    parser.add_argument("--repeat", type=int, default=3, help="alternating runs per side")
    parser.add_argument("--dsn", help="server (default: the embedded one)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    dsn = resolve_dsn(args.dsn)
    try:
        result = bench(dsn, args.scale, args.repeat)
    finally:
        for name in (SHOP_DB, PGBENCH_DB):
            drop_database(name, dsn)
    missed = result["ratio"] < TARGET_RATIO
    if args.json:
        print(json.dumps(result, indent=2))
        return 1 if missed else 0
    mb = 1024 * 1024
    for side in ("shop", "pgbench"):
        r = result[side]
        label = f"shop --scale {args.scale:g}" if side == "shop" else (
            f"pgbench -i -I {PGBENCH_STEPS} -s {result['pgbench_scale']}")
        print(f"{label:32s} {r['bytes'] / mb:7.1f} MB  seconds {r['seconds']}  best "
              f"{r['best_bytes_per_second'] / mb:6.1f} MB/s, median "
              f"{r['median_bytes_per_second'] / mb:6.1f} MB/s")
    print(f"load throughput ratio shop / pgbench -i: {result['ratio']:.2f} best-of-{args.repeat} "
          f"({result['median_ratio']:.2f} of the medians; target >= {TARGET_RATIO})")
    if missed:
        print(f"MISS load throughput ratio {result['ratio']:.2f} < {TARGET_RATIO}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
