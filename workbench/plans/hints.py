"""Hints: what a demanding DBA would point at in a plan, each with the node it concerns.

Codes and messages are stable (rounded figures only) so regression notebooks can assert on them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from workbench.plans.model import Plan, PlanNode

MISESTIMATE_FACTOR = 10.0  # actual vs estimated rows, either direction
MISESTIMATE_MIN_ROWS = 100  # ignore misestimates on tiny row counts
SEQ_SCAN_MIN_ROWS = 10_000  # a "big table": rows read by the scan
SEQ_SCAN_REMOVED_SHARE = 0.9  # ... of which the filter throws away at least this share
HEAP_FETCHES_SHARE = 0.5  # index-only scan fetching the heap for at least this share of rows
HEAP_FETCHES_MIN = 1_000
INNER_LOOPS = 10_000  # nested loop whose inner side runs at least this many times
COLD_READ_SHARE = 0.5  # shared blocks read from disk vs found in cache
COLD_MIN_BLOCKS = 1_000
FUNCTION_SCAN_SHARE = 0.2  # function scan taking this share of the statement's time


@dataclass(frozen=True)
class Hint:
    """A finding about one node."""

    code: str
    node: int
    message: str

    def to_json(self) -> dict[str, Any]:
        """``{"code", "node", "message"}``."""
        return asdict(self)


def plan_hints(plan: Plan) -> list[Hint]:
    """Every hint for a plan, in node order.

    >>> [h.code for h in plan_hints(plan)]     # doctest: +SKIP
    ['seq-scan-filter']
    """
    hints: list[Hint] = []
    total = plan.execution_ms or plan.root.total_ms or 0.0
    for node in plan.nodes:
        for check in (_misestimate, _seq_scan, _sort_spill, _hash_spill, _lossy, _heap_fetches,
                      _inner_loops, _cold):
            hint = check(node)
            if hint:
                hints.append(hint)
        if node.node_type == "Function Scan" and node.self_ms is not None and total > 0 \
                and node.self_ms >= FUNCTION_SCAN_SHARE * total:
            share = round(100 * node.self_ms / total)
            hints.append(Hint("function-scan", node.id, f"Function Scan on "
                              f"{node.get('Function Name') or node.get('Alias') or '?'} takes "
                              f"{share}% of the time; the planner cannot see inside it"))
    return hints


def _misestimate(node: PlanNode) -> Hint | None:
    actual, planned = node.get("Actual Rows"), node.get("Plan Rows")
    if actual is None or planned is None or max(actual, planned) < MISESTIMATE_MIN_ROWS:
        return None
    if node.get("Actual Loops") == 0:
        return None
    factor = node.estimate_factor or 1.0
    if factor >= MISESTIMATE_FACTOR:
        return Hint("row-misestimate", node.id, f"{node.label}: {int(actual)} rows, estimated "
                    f"{int(planned)} (under-estimated x{round(factor)}); check statistics")
    if factor <= 1 / MISESTIMATE_FACTOR:
        return Hint("row-misestimate", node.id, f"{node.label}: {int(actual)} rows, estimated "
                    f"{int(planned)} (over-estimated x{round(1 / factor)}); check statistics")
    return None


def _seq_scan(node: PlanNode) -> Hint | None:
    if node.node_type not in ("Seq Scan", "Parallel Seq Scan"):
        return None
    loops = node.loops
    removed = float(node.get("Rows Removed by Filter") or 0) * loops
    kept = float(node.get("Actual Rows") or 0) * loops
    read = removed + kept
    if read < SEQ_SCAN_MIN_ROWS or removed < SEQ_SCAN_REMOVED_SHARE * read:
        return None
    return Hint("seq-scan-filter", node.id, f"Seq Scan on {node.relation} reads {int(read)} rows "
                f"and its filter removes {round(100 * removed / read)}%: an index on the filtered "
                "columns may help")


def _sort_spill(node: PlanNode) -> Hint | None:
    if node.get("Sort Space Type") == "Disk" or "external" in str(node.get("Sort Method", "")):
        return Hint("sort-spill", node.id, f"{node.label} spills to disk "
                    f"({node.get('Sort Space Used', '?')} kB); raise work_mem or sort less")
    return None


def _hash_spill(node: PlanNode) -> Hint | None:
    batches = node.get("Hash Batches") or node.get("HashAgg Batches")
    if batches and int(batches) > 1:
        return Hint("hash-spill", node.id, f"{node.label} uses {batches} batches (spills to "
                    "disk); raise work_mem or hash_mem_multiplier")
    return None


def _lossy(node: PlanNode) -> Hint | None:
    lossy = node.get("Lossy Heap Blocks")
    if lossy:
        return Hint("lossy-bitmap", node.id, f"{node.label} went lossy on {lossy} heap blocks and "
                    "rechecks their rows; raise work_mem")
    return None


def _heap_fetches(node: PlanNode) -> Hint | None:
    if node.node_type != "Index Only Scan":
        return None
    fetches = float(node.get("Heap Fetches") or 0)
    rows = float(node.get("Actual Rows") or 0) * node.loops
    if fetches >= HEAP_FETCHES_MIN and rows and fetches >= HEAP_FETCHES_SHARE * rows:
        return Hint("heap-fetches", node.id, f"{node.label} fetched the heap for "
                    f"{round(100 * fetches / rows)}% of its rows; VACUUM to set the visibility map")
    return None


def _inner_loops(node: PlanNode) -> Hint | None:
    if node.node_type != "Nested Loop" or len(node.children) < 2:
        return None
    inner = node.children[1]
    if inner.loops >= INNER_LOOPS:
        return Hint("nested-loop-inner-loops", node.id, f"Nested Loop runs its inner side "
                    f"({inner.label}) {int(inner.loops)} times; a hash or merge join may be cheaper")
    return None


def _cold(node: PlanNode) -> Hint | None:
    read = node.self_buffers.get("shared_read", 0)
    hit = node.self_buffers.get("shared_hit", 0)
    if read >= COLD_MIN_BLOCKS and read >= COLD_READ_SHARE * (read + hit):
        return Hint("cold-buffers", node.id, f"{node.label} read {read} blocks from outside "
                    f"shared buffers ({round(100 * read / (read + hit))}% of its blocks)")
    return None
