"""Plans as readable text trees and as HTML tables for notebooks."""

from __future__ import annotations

import html

from workbench.plans.model import Plan


def plan_text(plan: Plan) -> str:
    """A compact tree: self time, rows actual/estimated, shared hit/read per node.

    >>> print(plan_text(plan))                      # doctest: +SKIP
    Limit  (self 0.01 ms, rows 10/10, hit 3 read 0)
    └─ Index Scan using wb_idx on orders.orders  (self 0.05 ms, rows 10/12, hit 14 read 1)
    """
    lines = []
    for node in plan.nodes:
        indent = "   " * (node.depth - 1) + "└─ " if node.depth else ""
        parts = []
        if node.self_ms is not None:
            parts.append(f"self {node.self_ms:.2f} ms")
        if node.actual_rows is not None:
            parts.append(f"rows {node.actual_rows:g}/{node.get('Plan Rows', 0):g}"
                         + (f" x{node.loops:g}" if node.loops > 1 else ""))
        elif node.get("Total Cost") is not None:
            parts.append(f"cost {node.get('Total Cost'):g}, rows {node.get('Plan Rows', 0):g}")
        if "shared_hit" in node.self_buffers:
            parts.append(f"hit {node.self_buffers['shared_hit']} "
                         f"read {node.self_buffers.get('shared_read', 0)}")
        sub = node.get("Subplan Name")
        name = f"[{sub}] " if sub else ""
        lines.append(f"{indent}{name}{node.label}  ({', '.join(parts)})")
    if plan.execution_ms is not None:
        lines.append(f"Planning {plan.planning_ms or 0:.2f} ms, execution {plan.execution_ms:.2f} ms")
    return "\n".join(lines)


def plan_html(plan: Plan) -> str:
    """An HTML table with a bar for each node's share of the time."""
    total = plan.execution_ms or 0.0
    rows = []
    for node in plan.nodes:
        share = (node.self_ms or 0) / total if total else 0.0
        bar = f'<div style="background:#d55e00;height:8px;width:{max(0, share) * 100:.1f}%"></div>'
        rows.append(
            f"<tr><td style='padding-left:{node.depth * 1.2}em;text-align:left'>"
            f"{html.escape(node.label)}</td>"
            f"<td>{'' if node.self_ms is None else f'{node.self_ms:.2f}'}</td><td>{bar}</td>"
            f"<td>{'' if node.actual_rows is None else f'{node.actual_rows:g}'}</td>"
            f"<td>{node.get('Plan Rows', '')}</td>"
            f"<td>{node.self_buffers.get('shared_hit', '')}</td>"
            f"<td>{node.self_buffers.get('shared_read', '')}</td></tr>")
    head = ("<tr><th>node</th><th>self ms</th><th>share</th><th>rows</th><th>est. rows</th>"
            "<th>hit</th><th>read</th></tr>")
    footer = (f"<p>execution {plan.execution_ms:.2f} ms, planning {plan.planning_ms or 0:.2f} ms</p>"
              if plan.execution_ms is not None else "")
    return f"<table>{head}{''.join(rows)}</table>{footer}"
