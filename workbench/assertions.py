"""Assertions for regression notebooks: one stable PASS/FAIL line each, and a raise on failure.

>>> assert_plan_uses_index(plans.get("recent_orders").plan, "orders.orders")   # doctest: +SKIP
PASS recent_orders uses an index on orders.orders
"""

from __future__ import annotations

from typing import Any

from workbench.plans.model import Plan


def _report(ok: bool, what: str, why: str = "") -> None:
    print(f"PASS {what}" if ok else f"FAIL {what}: {why}")
    if not ok:
        raise AssertionError(f"{what}: {why}")


def _scans(plan: Plan, table: str) -> list[Any]:
    return [n for n in plan.nodes if n.relation == table]


def assert_plan_uses_index(plan: Plan, table: str, index: str | None = None,
                           name: str = "statement") -> None:
    """The plan reads ``table`` through an index (``index``, if named)."""
    scans = _scans(plan, table)
    used = sorted({n.index for n in plan.nodes if n.index and (n.relation in (table, None))})
    indexed = [n for n in scans if n.index] or ([n for n in plan.nodes if n.index] if used else [])
    ok = bool(indexed) and (index is None or index in used)
    target = f"index {index}" if index else "an index"
    _report(ok, f"{name} uses {target} on {table}",
            f"it reads {table} by " + (", ".join(sorted({n.node_type for n in scans})) or "nothing"))


def assert_no_seq_scan(plan: Plan, table: str | None = None, name: str = "statement") -> None:
    """No sequential scan (on ``table``, or on any table)."""
    seq = [n for n in plan.nodes if n.node_type in ("Seq Scan", "Parallel Seq Scan")
           and (table is None or n.relation == table)]
    where = f" on {table}" if table else ""
    _report(not seq, f"{name} has no sequential scan{where}",
            ", ".join(sorted({str(n.relation) for n in seq})))


def assert_no_sort_spill(plans: dict[str, Plan] | Any, what: str = "no statement") -> None:
    """No sort (or hash) of any plan spills to disk. ``plans``: name → Plan, or a PlanCapture."""
    items = plans.items() if isinstance(plans, dict) else \
        [(s.name, s.plan) for s in plans.statements if s.plan]
    spilling = sorted(name for name, plan in items
                      if any(n.get("Sort Space Type") == "Disk" or (n.get("Hash Batches") or 1) > 1
                             for n in plan.nodes))
    _report(not spilling, f"{what} spills a sort or hash to disk", ", ".join(spilling))


def assert_latency_within(before: dict[str, Any], after: dict[str, Any], script: str | None = None,
                          percentile: str = "p95", factor: float = 1.1) -> None:
    """``after``'s latency percentile is at most ``factor`` × ``before``'s (run summaries)."""
    b = before["scripts"][script] if script else before
    a = after["scripts"][script] if script else after
    x, y = (b["latency_ms"] or {}).get(percentile), (a["latency_ms"] or {}).get(percentile)
    what = f"{percentile} of {script or 'all transactions'} after <= {percentile} before x {factor:g}"
    _report(x is not None and y is not None and y <= x * factor, what,
            f"{y} ms after vs {x} ms before")


def assert_no_failures(summary: dict[str, Any], name: str = "the run") -> None:
    """No failed transaction in a run summary."""
    _report(summary.get("failed", 0) == 0, f"{name} has no failed transactions",
            f"{summary.get('failed')} failed")


def assert_faster(before: dict[str, Any], after: dict[str, Any], metric: str = "tps",
                  name: str = "throughput") -> None:
    """``after`` is better than ``before`` on tps (higher) or a latency percentile (lower)."""
    x = before.get(metric) if metric == "tps" else (before["latency_ms"] or {}).get(metric)
    y = after.get(metric) if metric == "tps" else (after["latency_ms"] or {}).get(metric)
    better = (y > x) if metric == "tps" else (y < x)
    _report(x is not None and y is not None and better, f"{name} improved after",
            f"{x} before, {y} after")


def assert_recommends(recommendations: list[Any], table: str, columns: list[str] | tuple[str, ...],
                      method: str = "btree") -> None:
    """The advisor recommends an index on ``table`` leading with ``columns``.

    ``recommendations``: Advice.recommendations or their JSON (dicts).
    """
    def fields(r: Any) -> tuple[str, list[str], str]:
        r = r if isinstance(r, dict) else r.__dict__
        return r["table"], list(r["columns"]), r.get("method", "btree")

    found = any(t == table and m == method and c[: len(columns)] == list(columns)
                for t, c, m in map(fields, recommendations))
    _report(found, f"the advisor recommends a {method} index on {table} ({', '.join(columns)})",
            "not among: " + "; ".join(f"{t} ({', '.join(c)})" for t, c, _ in map(fields, recommendations)))


def assert_verdict(comparison: dict[str, Any], metric: str, expected: str,
                   phase: str = "throughput") -> None:
    """An experiment's verdict on ``metric`` (tps, p50, p95, p99) in ``phase`` (throughput or
    latency) is ``expected`` (faster, slower, no significant change); the line states the change
    and its interval only on failure, so that it is stable text for nbval.

    >>> assert_verdict(exp.comparison, "tps", "faster")   # doctest: +SKIP
    PASS throughput tps: faster
    """
    found = (comparison.get(phase) or {}).get("metrics", {}).get(metric) or {}
    verdict = next((v["verdict"] for v in comparison.get("verdicts", [])
                    if v["metric"] == metric and v["comparison"].startswith(phase)), None)
    _report(verdict == expected, f"{phase} {metric}: {expected}",
            f"the verdict is {verdict!r} (change {found.get('change_pct')}%, 95% interval "
            f"{found.get('ci_pct')}, runs {found.get('runs')})")


def assert_not_slower(comparison: dict[str, Any], metric: str = "p95", script: str | None = None,
                      phase: str = "throughput") -> None:
    """An experiment did not make ``metric`` (of ``script``) significantly worse: its verdict is
    anything but "slower" (with intervals, so one noisy run cannot fail a regression check, and
    a real slowdown still does).

    >>> assert_not_slower(exp.comparison, "p95", script="checkout")   # doctest: +SKIP
    PASS throughput p95 of checkout is not slower
    """
    block = (comparison.get(phase) or {})
    found = (block.get("scripts", {}).get(script) or {}).get(metric) if script else \
        block.get("metrics", {}).get(metric)
    found = found or {}
    what = f"{phase} {metric}{f' of {script}' if script else ''} is not slower"
    _report(found.get("verdict") != "slower", what,
            f"change {found.get('change_pct')}%, 95% interval {found.get('ci_pct')}, runs "
            f"{found.get('runs')}")
