"""Advisor quality and speed, printed as ratios; exits 1 when a target is missed.

Quality: on `shop`, `events` and `delivery` (bench/datasets/delivery: a write-heavy food-delivery
workload written for this benchmark, with a rare status for a partial index, a case-insensitive
e-mail look-up, jsonb filters and a time-ordered table), the advisor's choice is compared with the
best set an exhaustive search finds under the same cost model (planner costs with HOT-aware index
upkeep and the plan-regression penalty) and the same budget. Exhaustive search over every
candidate is out of reach, so its pool is the twelve candidates that save most alone, plus the best
expression, partial and BRIN candidates where the workload has them. Two ratios of cost reduction,
both with target >= 0.95:

- pool: the greedy selection on the same pool against the exhaustive optimum (the selection's
  own optimality gap);
- advice: the advisor's real choice (greedy over every candidate) against that optimum.

Speed: advisor wall time with HypoPG against build mode, both on PostgreSQL 15 + HypoPG.

    .venv/bin/python bench/bench_advisor.py [--scale 0.2]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.advisor.advise import advisor_model  # noqa: E402
from workbench.advisor.select import Item, exhaustive, select_indexes  # noqa: E402
from workbench.databases import drop_database  # noqa: E402
from workbench.loader import load  # noqa: E402

PG15 = Path("/usr/lib/postgresql/15/bin")
HERE = Path(__file__).resolve().parent
TARGET = 0.95
POOL = 12
WORKLOADS = (("shop", "shop", [1, 3, 8]), ("events", "events", [3, 8, 20]),
             ("delivery", str(HERE / "datasets" / "delivery"), [1, 5, 15]))


def _pool(m, items: list[Item]) -> tuple[list[Item], list[str]]:
    """The candidates that save most alone, plus the best of each special kind."""
    alone = {i.ddl: m.evaluator.total([i]) for i in items}
    ranked = sorted(items, key=lambda i: (alone[i.ddl], i.ddl))
    pool = ranked[:POOL]
    kinds = {"expression": lambda c: c.is_expression, "partial": lambda c: bool(c.where),
             "brin": lambda c: c.method == "brin"}
    found = []
    for kind, test in kinds.items():
        best = next((i for i in ranked if test(m.by_ddl[i.ddl])), None)
        if best is not None:
            found.append(kind)
            if best not in pool:
                pool.append(best)
    return pool, found


def quality(name: str, dataset: str, dsn: str, budgets_mb: list[float]) -> list[float]:
    ratios = []
    with advisor_model(dataset, dsn=dsn) as m:
        items = list(m.items.values())
        pool, kinds = _pool(m, items)
        base = m.evaluator.total([])
        print(f"{name}: {len(items)} candidates, method {m.whatif.method}; exhaustive search over "
              f"{len(pool)} of them (including {', '.join(kinds) or 'no special'} candidates)",
              flush=True)
        for budget_mb in budgets_mb:
            budget = int(budget_mb * 1024 * 1024)
            started = time.perf_counter()
            best = exhaustive(m.stmts, pool, m.cost, budget_bytes=budget, writes=m.writes)
            greedy = select_indexes(m.stmts, pool, m.cost, budget_bytes=budget, writes=m.writes)
            advice = select_indexes(m.stmts, items, m.cost, budget_bytes=budget, writes=m.writes)
            pool_ratio = greedy.reduction / best.reduction if best.reduction else 1.0
            advice_ratio = advice.reduction / best.reduction if best.reduction else 1.0
            ratios += [pool_ratio, advice_ratio]
            print(f"{name} budget {budget_mb:>4} MB: exhaustive saves {best.reduction:,.0f} of "
                  f"{base:,.0f} ({len(best.chosen)} indexes); greedy on the pool "
                  f"{greedy.reduction:,.0f}: ratio {pool_ratio:.3f}; the advice "
                  f"{advice.reduction:,.0f}: ratio {advice_ratio:.3f} "
                  f"({time.perf_counter() - started:.1f} s)", flush=True)
        print(f"{name}: the advice at {budgets_mb[-1]} MB: "
              + "; ".join(f"{m.by_ddl[i.ddl].kind()} on {i.relation} ({', '.join(i.columns)})"
                          for i in advice.chosen), flush=True)
    return ratios


def speed(scale: float) -> None:
    from workbench.advisor.advise import advise
    from workbench.server import EmbeddedServer

    server = EmbeddedServer(bindir=PG15)
    dsn = server.start()
    try:
        loaded = load("shop", scale=scale, database="wb_bench_adv15", dsn=dsn, replace=True,
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=0.2)
    args = parser.parse_args()
    ratios = []
    for name, dataset, budgets in WORKLOADS:
        database = f"wb_bench_{name}"
        result = load(dataset, scale=args.scale, database=database, replace=True, progress=False)
        try:
            ratios += quality(name, dataset, result.dsn, budgets)
        finally:
            drop_database(database, result.dsn)
    worst = min(ratios)
    print(f"quality: worst reduction ratio against exhaustive search = {worst:.3f} "
          f"(target >= {TARGET})")
    if (PG15 / "postgres").exists():
        speed(args.scale)
    else:
        print("speed: PostgreSQL 15 binaries absent; HypoPG vs build not measured")
    if worst < TARGET:
        print(f"MISS: a quality ratio is below {TARGET}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
