"""EXPLAIN output as a typed tree, with the derived figures a tuner needs.

Reads plans of PostgreSQL 13 to 18 (with or without ANALYZE, COSTS, BUFFERS; PG 17's SERIALIZE
and MEMORY sections, PG 18's ``Disabled`` and ``Index Searches``) in JSON or in the text format
people paste from psql (read by :mod:`workbench.plans.text` into the same JSON document); unknown
keys are kept in the node's raw document.

Exclusive (self) time: a node's ``Actual Total Time`` is per loop, so its whole time is
``total × loops``; inside a parallel section (under Gather / Gather Merge) that sum runs over all
processes, so it is divided by the processes that ran (workers launched + the leader) to count
wall-clock time once. A node's self time is its time less its children's. InitPlans and SubPlans
are inside their parent's time and are subtracted from it like any child; a CTE's own plan
(an InitPlan named "CTE x") is not, because its work is inside the time of the CTE Scans that read
it: it is subtracted from those scans instead (shared by their time when several read it). What
EXPLAIN's Execution Time holds beyond the root node (executor start/end, triggers) is added to the
root's self time, so self times add up to the execution time.

>>> plan = parse_plan(json_text)                           # doctest: +SKIP
>>> plan.nodes_frame()[["node_type", "relation", "self_ms"]]  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.errors import WorkbenchError
from workbench.plans.text import looks_like_text_plan, text_to_document

_KNOWN = {
    "Node Type", "Plans", "Parent Relationship", "Subplan Name", "CTE Name", "Relation Name",
    "Schema", "Alias", "Index Name", "Join Type", "Strategy", "Startup Cost", "Total Cost",
    "Plan Rows", "Plan Width", "Actual Startup Time", "Actual Total Time", "Actual Rows",
    "Actual Loops", "Workers Planned", "Workers Launched", "Rows Removed by Filter",
    "Rows Removed by Index Recheck", "Rows Removed by Join Filter", "Heap Fetches", "Sort Method",
    "Sort Space Used", "Sort Space Type", "Hash Batches", "Original Hash Batches", "Exact Heap Blocks",
    "Lossy Heap Blocks", "Filter", "Index Cond", "Recheck Cond", "Hash Cond", "Join Filter",
    "Output", "WAL Records", "WAL FPI", "WAL Bytes", "Disabled", "Index Searches", "Operation",
    "Parallel Aware", "Function Name",
}
_BUFFERS = ("Shared Hit Blocks", "Shared Read Blocks", "Shared Dirtied Blocks",
            "Shared Written Blocks", "Local Hit Blocks", "Local Read Blocks", "Temp Read Blocks",
            "Temp Written Blocks")
_PARALLEL_ROOTS = {"Gather", "Gather Merge"}


@dataclass
class PlanNode:
    """One node of a plan."""

    id: int
    parent: int | None
    node_type: str
    depth: int
    raw: dict[str, Any]
    children: list[PlanNode] = field(default_factory=list)
    processes: int = 1  # processes sharing this node's loops (parallel sections)
    self_ms: float | None = None
    self_buffers: dict[str, int] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        """A raw EXPLAIN key of this node."""
        return self.raw.get(key, default)

    @property
    def relation(self) -> str | None:
        """``schema.table`` (or the bare name when EXPLAIN gave no schema)."""
        name = self.raw.get("Relation Name")
        if not name:
            return None
        return f"{self.raw['Schema']}.{name}" if self.raw.get("Schema") else str(name)

    @property
    def index(self) -> str | None:
        """The index a scan uses."""
        return self.raw.get("Index Name")

    @property
    def loops(self) -> float:
        """Actual loops (1 without ANALYZE)."""
        return float(self.raw.get("Actual Loops") or 1)

    @property
    def analyzed(self) -> bool:
        """True when the node carries actual figures."""
        return "Actual Total Time" in self.raw or "Actual Rows" in self.raw

    @property
    def actual_rows(self) -> float | None:
        """Rows per loop, as EXPLAIN shows them."""
        return self.raw.get("Actual Rows")

    @property
    def total_ms(self) -> float | None:
        """Wall-clock time spent in this node and below, all loops counted once."""
        per_loop = self.raw.get("Actual Total Time")
        if per_loop is None:
            return None
        return float(per_loop) * self.loops / self.processes

    @property
    def label(self) -> str:
        """E.g. ``Index Scan using orders_pkey on orders.orders``."""
        text = self.node_type
        if self.index:
            text += f" using {self.index}"
        if self.relation:
            text += f" on {self.relation}"
        elif self.raw.get("CTE Name"):
            text += f" on {self.raw['CTE Name']}"
        return text

    @property
    def estimate_factor(self) -> float | None:
        """Actual rows over estimated rows (both per loop); >1 under-estimated."""
        actual, planned = self.raw.get("Actual Rows"), self.raw.get("Plan Rows")
        if actual is None or planned is None:
            return None
        return max(float(actual), 1.0) / max(float(planned), 1.0)

    def walk(self) -> Iterator[PlanNode]:
        """This node and every node below, pre-order."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(repr=False)
class Plan:
    """A parsed plan: the tree, timings, settings and the raw document.

    In a notebook it shows as PEV2's interactive viewer beside the workbench's hints, with a
    static table as fallback; ``repr`` is one line and IPython's pretty printer the text tree.
    """

    root: PlanNode
    raw: dict[str, Any]
    nodes: list[PlanNode]
    source_format: str = "json"  # "text" when read from EXPLAIN's text format

    @property
    def analyzed(self) -> bool:
        """True for EXPLAIN ANALYZE plans."""
        return self.root.analyzed

    @property
    def execution_ms(self) -> float | None:
        """Execution Time (Total Runtime before 9.4)."""
        value = self.raw.get("Execution Time", self.raw.get("Total Runtime"))
        return float(value) if value is not None else None

    @property
    def planning_ms(self) -> float | None:
        """Planning Time."""
        value = self.raw.get("Planning Time")
        return float(value) if value is not None else None

    @property
    def total_cost(self) -> float | None:
        """The root's estimated total cost."""
        return self.root.get("Total Cost")

    @property
    def settings(self) -> dict[str, Any]:
        """Non-default planner settings (EXPLAIN SETTINGS)."""
        return dict(self.raw.get("Settings") or {})

    def buffers(self) -> dict[str, int]:
        """Shared blocks hit and read by the whole statement."""
        return {"shared_hit": int(self.root.get("Shared Hit Blocks") or 0),
                "shared_read": int(self.root.get("Shared Read Blocks") or 0)}

    def nodes_frame(self) -> pd.DataFrame:
        """One row per node with raw and derived figures."""
        rows = []
        for node in self.nodes:
            rows.append({
                "id": node.id, "parent": node.parent, "depth": node.depth,
                "node_type": node.node_type, "relation": node.relation, "index": node.index,
                "label": node.label,
                "parent_relationship": node.get("Parent Relationship"),
                "subplan": node.get("Subplan Name") or node.get("CTE Name"),
                "startup_cost": node.get("Startup Cost"), "total_cost": node.get("Total Cost"),
                "plan_rows": node.get("Plan Rows"), "actual_rows": node.actual_rows,
                "loops": node.get("Actual Loops"), "processes": node.processes,
                "total_ms": _round(node.total_ms), "self_ms": _round(node.self_ms),
                "estimate_factor": node.estimate_factor,
                "rows_removed_by_filter": node.get("Rows Removed by Filter"),
                "rows_removed_by_recheck": node.get("Rows Removed by Index Recheck"),
                "heap_fetches": node.get("Heap Fetches"),
                "sort_method": node.get("Sort Method"), "sort_space_type": node.get("Sort Space Type"),
                "hash_batches": node.get("Hash Batches"),
                "lossy_heap_blocks": node.get("Lossy Heap Blocks"),
                "shared_hit": node.get("Shared Hit Blocks"),
                "shared_read": node.get("Shared Read Blocks"),
                "temp_read": node.get("Temp Read Blocks"),
                "temp_written": node.get("Temp Written Blocks"),
                **{f"self_{k}": v for k, v in node.self_buffers.items()},
            })
        return pd.DataFrame(rows)

    def to_json(self) -> Any:
        """The raw EXPLAIN document, as PostgreSQL printed it."""
        return [self.raw]

    def text(self) -> str:
        """A readable tree (see :mod:`workbench.plans.render`)."""
        from workbench.plans.render import plan_text

        return plan_text(self)

    def __repr__(self) -> str:
        timing = f", execution {self.execution_ms:.3f} ms" if self.execution_ms is not None else (
            f", cost {self.total_cost:g}" if self.total_cost is not None else "")
        return f"<Plan {self.root.label}: {len(self.nodes)} nodes{timing}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        from workbench.display import pretty

        pretty(printer, cycle, self.text())

    def _repr_html_(self) -> str:
        from workbench.plans.viewer import notebook_plan_html

        return notebook_plan_html(self)


def parse_plan(document: str | bytes | list[Any] | dict[str, Any]) -> Plan:
    """Parse EXPLAIN output: JSON (as text, the list PostgreSQL prints, or its first item), or the
    text format, with or without psql's frames and wrapping.

    >>> parse_plan('[{"Plan": {"Node Type": "Result", "Total Cost": 0.01}}]').root.label
    'Result'
    >>> parse_plan("Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4)").root.label
    'Seq Scan on t'
    """
    data: Any = document
    if isinstance(document, bytes):
        document = document.decode("utf-8", errors="replace")
    if isinstance(document, str) and looks_like_text_plan(document):
        return _from_document(text_to_document(document), "text")
    if isinstance(document, str):
        try:
            data = json.loads(document)
        except json.JSONDecodeError as exc:
            raise WorkbenchError(f"not a JSON plan: {exc.msg} at character {exc.pos}",
                                 "pass the output of EXPLAIN (FORMAT JSON), complete") from None
    if isinstance(data, list):
        if not data:
            raise WorkbenchError("empty plan list", "pass the output of EXPLAIN (FORMAT JSON)")
        data = data[0]
    if not isinstance(data, dict) or not isinstance(data.get("Plan"), dict) \
            or "Node Type" not in data["Plan"]:
        raise WorkbenchError("not an EXPLAIN (FORMAT JSON) plan: no Plan with a Node Type",
                             "pass the output of EXPLAIN (FORMAT JSON)")
    return _from_document(data, "json")


def _from_document(data: dict[str, Any], source_format: str) -> Plan:
    nodes: list[PlanNode] = []
    root = _build(data["Plan"], None, 0, nodes, 1)
    plan = Plan(root, data, nodes, source_format)
    if plan.analyzed:
        _attribute_time(plan)
    _attribute_buffers(root)
    return plan


def load_plan(path: str | Path) -> Plan:
    """A plan from a file of EXPLAIN output (JSON or text)."""
    try:
        return parse_plan(Path(path).read_text())
    except OSError as exc:
        raise WorkbenchError(f"cannot read {path}: {exc.strerror}", "check the path") from None


def _build(raw: dict[str, Any], parent: int | None, depth: int, nodes: list[PlanNode],
           processes: int) -> PlanNode:
    if "Node Type" not in raw:
        raise WorkbenchError(f"plan node {len(nodes)} has no Node Type", "the plan is truncated")
    node = PlanNode(len(nodes), parent, str(raw["Node Type"]), depth, raw, processes=processes)
    nodes.append(node)
    inner = processes
    if node.node_type in _PARALLEL_ROOTS:
        launched = raw.get("Workers Launched", raw.get("Workers Planned"))
        single_copy = raw.get("Single Copy", False)
        inner = 1 if single_copy or launched is None else int(launched) + 1
    for child in raw.get("Plans", []) or []:
        node.children.append(_build(child, node.id, depth + 1, nodes, inner))
    return node


def _is_cte_plan(node: PlanNode) -> bool:
    return str(node.get("Subplan Name") or "").startswith("CTE ")


def _attribute_time(plan: Plan) -> None:
    ctes = {str(n.get("Subplan Name"))[4:]: n for n in plan.nodes if _is_cte_plan(n)}
    scans: dict[str, list[PlanNode]] = {}
    for node in plan.nodes:
        if node.node_type == "CTE Scan" and node.get("CTE Name") in ctes:
            scans.setdefault(str(node.get("CTE Name")), []).append(node)
    for node in plan.nodes:
        total = node.total_ms or 0.0
        below = sum(c.total_ms or 0.0 for c in node.children if not _is_cte_plan(c))
        node.self_ms = total - below
    for name, readers in scans.items():
        cte_total = ctes[name].total_ms or 0.0
        weight = sum(r.total_ms or 0.0 for r in readers) or float(len(readers))
        for reader in readers:
            share = (reader.total_ms or 0.0) / weight if weight else 1 / len(readers)
            reader.self_ms = (reader.self_ms or 0.0) - cte_total * share
    orphan = sum(c.total_ms or 0.0 for name, c in ctes.items() if name not in scans)
    if plan.execution_ms is not None:
        accounted = (plan.root.total_ms or 0.0) - orphan
        plan.root.self_ms = (plan.root.self_ms or 0.0) + plan.execution_ms - accounted


def _attribute_buffers(node: PlanNode) -> None:
    for child in node.children:
        _attribute_buffers(child)
    for key in _BUFFERS:
        if key in node.raw:
            below = sum(int(c.get(key) or 0) for c in node.children if not _is_cte_plan(c))
            node.self_buffers[key.lower().replace(" blocks", "").replace(" ", "_")] = max(
                0, int(node.raw[key]) - below)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
