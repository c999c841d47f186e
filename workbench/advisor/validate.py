"""Checking advice against the real server: build the recommended set, compare with the estimate.

For a dataset's workload (``experiment_measure``): an experiment on fresh copies of the dataset's
template, the recommended indexes on the after arm only, arms interleaved over repeats: per
statement the predicted cost improvement beside its script's measured p95 change with a 95%
interval and verdict, and for the whole mix the predicted workload cost change beside the
measured throughput change. Nothing is built on the advised database (unless ``keep``).

For other workloads (``plan_check``): the indexes are built on a scratch copy of the advised
database (or, for a database the workbench did not create, with ``allow_destructive``, on it,
all or nothing), and the statements are re-run under EXPLAIN (ANALYZE) before and after: each
up to EXECUTIONS times (fewer once a statement has taken EXECUTION_BUDGET_S), the execution with
the median time standing for it, so one cold read or one descheduled moment does not decide.

A ``measure`` function has the signature ``(dsn, ddls, statements, predicted, keep=...,
allow_destructive=...) -> list of per-statement dicts`` plus a whole-mix row ``"(workload)"``.

>>> rows = validate_advice(dsn, advice.recommendations, statements)   # doctest: +SKIP
>>> rows[0]["estimated_improvement_pct"], rows[0]["actual_improvement_pct"]  # doctest: +SKIP
(99.7, 98.1)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from workbench.connect import connect
from workbench.databases import require_owned

Measure = Callable[..., list[dict[str, Any]]]
EXECUTIONS = 5
EXECUTION_BUDGET_S = 2.0


def validate_advice(dsn: str, recommendations: list[Any], statements: dict[str, tuple[str, bool]],
                    *, keep: bool = False, allow_destructive: bool = False,
                    measure: Measure | None = None) -> list[dict[str, Any]]:
    """Validate the recommended set: ``statements`` maps a name to (SQL to run, generic?);
    ``measure`` defaults to ``plan_check``."""
    ddls = [r.ddl for r in recommendations]
    predicted = {s["name"]: s["improvement_pct"] for r in recommendations for s in r.statements}
    helped = {n: statements[n] for n in sorted(predicted) if n in statements}
    return (measure or plan_check)(dsn, ddls, helped, predicted, keep=keep,
                                   allow_destructive=allow_destructive)


def experiment_measure(dataset: str, *, scale: float, seed: int, workload_pct: float | None,
                       clients: int = 4, duration: int = 10, warmup: int = 2, repeat: int = 3,
                       progress: bool = False) -> Measure:
    """A ``measure`` that runs an experiment (see the module's docstring)."""
    def measure(dsn: str, ddls: list[str], statements: dict[str, tuple[str, bool]],
                predicted: dict[str, float], *, keep: bool = False,
                allow_destructive: bool = False) -> list[dict[str, Any]]:
        from workbench.experiments import experiment

        exp = experiment(dataset, indexes=list(ddls), scale=scale, seed=seed, clients=clients,
                         duration=duration, warmup=warmup, repeat=repeat, latency=False,
                         dsn=dsn, progress=progress)
        scripts = exp.comparison["throughput"]["scripts"]
        rows = []
        for name in sorted(predicted):
            script = name.split(".")[0]
            p95 = (scripts.get(script) or {}).get("p95") or {}
            rows.append({"name": name, "estimated_improvement_pct": predicted.get(name),
                         "script": script, "measured_p95_change_pct": p95.get("change_pct"),
                         "ci_pct": p95.get("ci_pct"), "verdict": p95.get("verdict"),
                         "slower": p95.get("verdict") == "slower"})
        tps = exp.comparison["throughput"]["metrics"]["tps"]
        rows.append({"name": "(workload)", "estimated_improvement_pct": workload_pct,
                     "measured_tps_change_pct": tps["change_pct"], "ci_pct": tps["ci_pct"],
                     "verdict": tps["verdict"], "runs": tps["runs"], "experiment": str(exp.out),
                     "slower": tps["verdict"] == "slower"})
        if keep:
            _keep(dsn, ddls, allow_destructive)
        return rows

    return measure


def plan_check(dsn: str, ddls: list[str], statements: dict[str, tuple[str, bool]],
               predicted: dict[str, float], *, keep: bool = False,
               allow_destructive: bool = False) -> list[dict[str, Any]]:
    """Build ``ddls`` on a scratch copy (or, allowed, on the database itself, all or nothing),
    EXPLAIN (ANALYZE) ``statements`` before and after; nothing stays unless ``keep``."""
    from workbench.advisor.scratch import ScratchCopy
    from workbench.databases import read_marker
    from workbench.indexes import build_all, drop_index

    with connect(dsn) as conn:
        owned = read_marker(conn) is not None
        require_owned(conn, allow_destructive, "build indexes to validate advice")
    with contextlib.ExitStack() as stack:
        where = stack.enter_context(ScratchCopy(dsn)) if owned else dsn
        with connect(where) as conn:
            before = {n: _median_explain(conn, text, n) for n, (text, generic)
                      in statements.items() if not generic}
        built = build_all(where, ddls, allow_destructive=allow_destructive)
        try:
            with connect(where) as conn:
                after = {n: _median_explain(conn, statements[n][0], n) for n in before}
        finally:
            if not owned:
                for index in built:
                    drop_index(where, index.schema, index.name,
                               allow_destructive=allow_destructive)
    if keep:
        _keep(dsn, ddls, allow_destructive)
    report = []
    for name, (b, b_count) in before.items():
        a, a_count = after[name]
        tb = b.plan.execution_ms if b.plan else None
        ta = a.plan.execution_ms if a.plan else None
        actual = round(100 * (tb - ta) / tb, 1) if tb and ta is not None else None
        report.append({"name": name, "estimated_improvement_pct": predicted.get(name),
                       "before_ms": tb, "after_ms": ta, "actual_improvement_pct": actual,
                       "executions": [b_count, a_count],
                       "slower": actual is not None and actual < 0, "kept": keep})
    return report


def _median_explain(conn: Any, text: str, name: str) -> tuple[Any, int]:
    """EXPLAIN (ANALYZE) ``text`` up to EXECUTIONS times: the result with the median execution
    time and how many were taken (an error or a missing plan ends it: the first result then)."""
    from workbench.plans.capture import explain

    taken: list[Any] = []
    spent = 0.0
    while len(taken) < EXECUTIONS and (not taken or spent < EXECUTION_BUDGET_S):
        result = explain(conn, text, name=name)
        if result.plan is None or result.plan.execution_ms is None:
            return (taken[0] if taken else result), max(len(taken), 1)
        taken.append(result)
        spent += result.plan.execution_ms / 1000
    taken.sort(key=lambda r: r.plan.execution_ms)
    return taken[len(taken) // 2], len(taken)


def _keep(dsn: str, ddls: list[str], allow_destructive: bool) -> None:
    """``--keep``: the recommended set built on the advised database itself, all or nothing."""
    from workbench.indexes import build_all

    build_all(dsn, ddls, allow_destructive=allow_destructive)
