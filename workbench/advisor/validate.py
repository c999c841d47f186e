"""Checking advice against the real server: build the recommended set, compare with the estimate.

Today (``plan_check``): the recommended indexes are built for real (CONCURRENTLY) on the
advised database, the statements they help are re-run under EXPLAIN (ANALYZE) before and after,
each statement's predicted improvement is set beside the measured one, and the indexes are
dropped again unless ``keep``. A statement measured slower is flagged.

The seam for measured workload runs: ``validate_advice`` takes a ``measure`` function with
the signature of ``plan_check``: ``(dsn, ddls, statements, predicted, keep=..., allow_destructive=...)
-> list of per-statement dicts``, plus an optional whole-mix row named ``"(workload)"``. A
function built on the experiment machinery (a fresh copy of a template database, the workload run
before and after interleaved, confidence intervals) plugs in there with the recommended DDL list,
and ``advise(validate=True)`` passes it through unchanged.

>>> rows = validate_advice(dsn, advice.recommendations, statements)   # doctest: +SKIP
>>> rows[0]["estimated_improvement_pct"], rows[0]["actual_improvement_pct"]  # doctest: +SKIP
(99.7, 98.1)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workbench.connect import connect
from workbench.databases import require_owned

Measure = Callable[..., list[dict[str, Any]]]


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


def plan_check(dsn: str, ddls: list[str], statements: dict[str, tuple[str, bool]],
               predicted: dict[str, float], *, keep: bool = False,
               allow_destructive: bool = False) -> list[dict[str, Any]]:
    """Build ``ddls`` for real, EXPLAIN (ANALYZE) ``statements`` before and after, drop again."""
    from workbench.indexes import build_index, drop_index
    from workbench.plans.capture import explain

    with connect(dsn) as conn:
        require_owned(conn, allow_destructive, "build indexes to validate advice")
        before = {n: explain(conn, text, name=n) for n, (text, generic) in statements.items()
                  if not generic}
    built = [build_index(dsn, ddl, allow_destructive=allow_destructive) for ddl in ddls]
    try:
        with connect(dsn) as conn:
            after = {n: explain(conn, statements[n][0], name=n) for n in before}
    finally:
        if not keep:
            for index in built:
                drop_index(dsn, index.schema, index.name, allow_destructive=allow_destructive)
    report = []
    for name, b in before.items():
        a = after[name]
        tb = b.plan.execution_ms if b.plan else None
        ta = a.plan.execution_ms if a.plan else None
        actual = round(100 * (tb - ta) / tb, 1) if tb and ta is not None else None
        report.append({"name": name, "estimated_improvement_pct": predicted.get(name),
                       "before_ms": tb, "after_ms": ta, "actual_improvement_pct": actual,
                       "slower": actual is not None and actual < 0, "kept": keep})
    return report
