"""Two plans of the same statement compared: aligned nodes, what changed, and a one-line verdict.

>>> diff_plans(before, after).verdict        # doctest: +SKIP
'Seq Scan on orders.orders → Index Scan using wb_orders_customer_idx on orders.orders; time -93%, shared reads -99%'
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from workbench.plans.model import Plan, PlanNode

_SCANS = ("Scan",)
_JOINS = ("Nested Loop", "Hash Join", "Merge Join")


@dataclass
class NodeChange:
    """A node of one plan matched (or not) with a node of the other."""

    before: str | None
    after: str | None
    changes: list[str] = field(default_factory=list)


@dataclass
class PlanDiff:
    """What changed between two plans."""

    verdict: str
    changed: bool
    time_pct: float | None
    cost_pct: float | None
    shared_read_pct: float | None
    nodes: list[NodeChange] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form."""
        return asdict(self)

    def _rows(self) -> list[list[Any]]:
        return [[n.before or "", n.after or "", "; ".join(n.changes)] for n in self.nodes
                if n.changes]

    def __repr__(self) -> str:
        return f"<PlanDiff {self.verdict}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        from workbench.display import pretty, text_table

        rows = self._rows()
        pretty(printer, cycle, self.verdict + ("\n" + text_table(["before", "after", "changes"], rows)
                                               if rows else ""))

    def _repr_html_(self) -> str:
        import html

        from workbench.display import html_table

        rows = self._rows()
        return (f"<p><b>Plan diff</b>: {html.escape(self.verdict)}</p>"
                + (html_table(["before", "after", "changes"], rows) if rows
                   else "<p>No node changed.</p>"))


def diff_plans(before: Plan, after: Plan) -> PlanDiff:
    """Compare two plans of one statement (works on saved plans, no database needed)."""
    pairs = _align(before.nodes, after.nodes)
    nodes = [NodeChange(b.label if b else None, a.label if a else None, _changes(b, a))
             for b, a in pairs]
    shape_before = [n.label for n in before.nodes if _is_access(n)]
    shape_after = [n.label for n in after.nodes if _is_access(n)]
    parts = []
    if shape_before != shape_after:
        gone = [s for s in shape_before if s not in shape_after]
        new = [s for s in shape_after if s not in shape_before]
        parts.append(f"{', '.join(gone) or '(none)'} → {', '.join(new) or '(none)'}")
    else:
        parts.append("same plan shape")
    time_pct = _pct(before.execution_ms, after.execution_ms)
    cost_pct = _pct(before.total_cost, after.total_cost)
    reads_pct = _pct(before.buffers()["shared_read"], after.buffers()["shared_read"]) \
        if before.analyzed and after.analyzed else None
    figures = []
    if time_pct is not None:
        figures.append(f"time {_fmt(time_pct)}")
    elif cost_pct is not None:
        figures.append(f"cost {_fmt(cost_pct)}")
    if reads_pct is not None and (before.buffers()["shared_read"] or after.buffers()["shared_read"]):
        figures.append(f"shared reads {_fmt(reads_pct)}")
    verdict = parts[0] + ("; " + ", ".join(figures) if figures else "")
    return PlanDiff(verdict, shape_before != shape_after or any(n.changes for n in nodes),
                    time_pct, cost_pct, reads_pct, nodes)


def _is_access(node: PlanNode) -> bool:
    return node.node_type.endswith(_SCANS) or node.node_type in _JOINS


def _key(node: PlanNode) -> tuple[str, str | None]:
    return (node.node_type, node.relation)


def _align(before: list[PlanNode], after: list[PlanNode]
           ) -> list[tuple[PlanNode | None, PlanNode | None]]:
    """Longest common subsequence on (node type, relation), then relation-only matches."""
    n, m = len(before), len(after)
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            table[i][j] = table[i + 1][j + 1] + 1 if _key(before[i]) == _key(after[j]) else \
                max(table[i + 1][j], table[i][j + 1])
    pairs: list[tuple[PlanNode | None, PlanNode | None]] = []
    i = j = 0
    while i < n and j < m:
        if _key(before[i]) == _key(after[j]):
            pairs.append((before[i], after[j]))
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            pairs.append((before[i], None))
            i += 1
        else:
            pairs.append((None, after[j]))
            j += 1
    pairs += [(b, None) for b in before[i:]] + [(None, a) for a in after[j:]]
    # A scan of the same relation that changed type (Seq Scan -> Index Scan) is one node changed.
    merged: list[tuple[PlanNode | None, PlanNode | None]] = []
    for b, a in pairs:
        if b is None and merged and merged[-1][1] is None and merged[-1][0] is not None \
                and a is not None and merged[-1][0].relation and merged[-1][0].relation == a.relation:
            merged[-1] = (merged[-1][0], a)
        else:
            merged.append((b, a))
    return merged


def _changes(b: PlanNode | None, a: PlanNode | None) -> list[str]:
    if b is None or a is None:
        return ["added" if b is None else "removed"]
    out = []
    if b.node_type != a.node_type:
        out.append(f"{b.node_type} → {a.node_type}")
    if b.index != a.index:
        out.append(f"index {b.index or '-'} → {a.index or '-'}")
    for key, label in (("Plan Rows", "estimated rows"), ("Actual Rows", "actual rows"),
                       ("Total Cost", "cost"), ("Shared Read Blocks", "shared reads")):
        x, y = b.get(key), a.get(key)
        if x is not None and y is not None and x != y:
            out.append(f"{label} {x:g} → {y:g}")
    if b.self_ms is not None and a.self_ms is not None and abs(b.self_ms - a.self_ms) > 0.05:
        out.append(f"self time {b.self_ms:.2f} → {a.self_ms:.2f} ms")
    return out


def _pct(before: float | None, after: float | None) -> float | None:
    if before is None or after is None or before == 0:
        return None
    return round(100.0 * (after - before) / before, 1)


def _fmt(pct: float) -> str:
    """-93% ; near -100% keep a decimal so -99.7% does not read as everything gone."""
    return f"{pct:+.1f}%" if 99 <= abs(pct) < 100 else f"{pct:+.0f}%"
