"""Advisor quality and speed (issue 6's benchmark), printed as ratios.

Quality: on `shop` and `events`, the greedy choice's estimated workload cost reduction against the
best set found by exhaustive search over the same candidates within the same (small) budget,
where exhaustive search is feasible: the candidates are narrowed to the ten that save most alone.
Target: ratio >= 0.95.
Speed: advisor wall time with HypoPG against build mode, both on PostgreSQL 15 + HypoPG.

    .venv/bin/python bench/bench_advisor.py [--scale 0.2]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.advisor.advise import DRAWS, _statements, _stmt, mean_cost  # noqa: E402
from workbench.advisor.candidates import generate_candidates  # noqa: E402
from workbench.advisor.existing import existing_indexes  # noqa: E402
from workbench.advisor.select import Evaluator, Item, exhaustive, select_indexes  # noqa: E402
from workbench.advisor.whatif import WhatIf  # noqa: E402
from workbench.advisor.workload import read_catalog  # noqa: E402
from workbench.connect import connect  # noqa: E402
from workbench.databases import drop_database  # noqa: E402
from workbench.loader import load  # noqa: E402

PG15 = Path("/usr/lib/postgresql/15/bin")


def quality(dataset: str, dsn: str, budgets_mb: list[float]) -> list[float]:
    with connect(dsn) as conn:
        catalog = read_catalog(conn)
        existing = existing_indexes(conn)
        statements, bound, variants = _statements(conn, dataset, None, None, 1, catalog, DRAWS)
    readable = [s for s in statements if not s.error]
    cset = generate_candidates(readable, existing)
    ratios = []
    with WhatIf(dsn) as whatif:
        stmts = [_stmt(s, bound[s.name], whatif) for s in readable]
        items = [Item(c.ddl, c.table, c.columns, whatif.size(c.ddl)) for c in cset.candidates]
        cost = mean_cost(whatif, variants)  # the advisor's own cost model
        evaluator = Evaluator(stmts, cost)
        base = evaluator.total([])
        alone = sorted(items, key=lambda i: evaluator.total([i]))[:10]
        for budget_mb in budgets_mb:
            budget = int(budget_mb * 1024 * 1024)
            greedy = select_indexes(stmts, alone, cost, budget_bytes=budget)
            best = exhaustive(stmts, alone, cost, budget_bytes=budget)
            ratio = greedy.reduction / best.reduction if best.reduction else 1.0
            ratios.append(ratio)
            print(f"{dataset} budget {budget_mb:>5} MB: greedy saves {greedy.reduction:,.0f}, "
                  f"exhaustive {best.reduction:,.0f} of {base:,.0f}: ratio {ratio:.3f}", flush=True)
    return ratios


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=0.2)
    args = parser.parse_args()
    ratios = []
    for dataset, budgets in (("shop", [1, 3, 8]), ("events", [5, 15, 30])):
        result = load(dataset, scale=args.scale, database=f"wb_bench_{dataset}", replace=True,
                      progress=False)
        ratios += quality(dataset, result.dsn, budgets)
        drop_database(f"wb_bench_{dataset}", result.dsn)
    print(f"quality: worst greedy/exhaustive reduction ratio = {min(ratios):.3f} (target >= 0.95)")
    if not (PG15 / "postgres").exists():
        print("speed: PostgreSQL 15 binaries absent; HypoPG vs build not measured")
        return 0
    from workbench.advisor.advise import advise
    from workbench.server import EmbeddedServer

    server = EmbeddedServer(bindir=PG15)
    dsn = server.start()
    try:
        loaded = load("shop", scale=args.scale, database="wb_bench_adv15", dsn=dsn, replace=True,
                      progress=False)
        times = {}
        for method in ("hypopg", "build"):
            started = time.perf_counter()
            advice = advise("shop", dsn=loaded.dsn, method=method)
            times[method] = time.perf_counter() - started
            print(f"speed: {method}: {times[method]:.2f} s, {advice.whatif_calls} what-if calls, "
                  f"{len(advice.recommendations)} indexes")
        print(f"speed: HypoPG/build wall-time ratio = {times['hypopg'] / times['build']:.2f}")
        drop_database("wb_bench_adv15", dsn)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
