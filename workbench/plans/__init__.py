"""EXPLAIN plans: parse, attribute time and buffers, hint, diff, render, capture.

>>> from workbench.plans import explain_workload, diff_plans
"""

from workbench.plans.capture import (
    PlanCapture,
    StatementPlan,
    capture_from_json,
    explain,
    explain_workload,
    load_plans,
    statement_json,
)
from workbench.plans.diff import PlanDiff, diff_plans
from workbench.plans.hints import Hint, plan_hints
from workbench.plans.model import Plan, PlanNode, load_plan, parse_plan

__all__ = [
    "Hint", "Plan", "PlanCapture", "PlanDiff", "PlanNode", "StatementPlan", "capture_from_json",
    "diff_plans", "explain", "explain_workload", "load_plan", "load_plans", "parse_plan",
    "plan_hints", "statement_json",
]


def load_plan_file(path: str) -> dict[str, Plan]:
    """Plans from a file written by ``explain --json`` (by statement name) or one EXPLAIN output,
    JSON or text (as ``{"plan": Plan}``), for ``plan-diff``."""
    import json
    from pathlib import Path

    from workbench.errors import WorkbenchError

    if Path(path).is_dir():
        return {s.name: s.plan for s in load_plans(path).statements if s.plan}
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise WorkbenchError(f"cannot read {path}: {exc.strerror}", "check the path") from None
    from workbench.plans.text import looks_like_text_plan

    if looks_like_text_plan(text):
        return {"plan": parse_plan(text)}
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WorkbenchError(f"{path}: not JSON ({exc.msg})", "pass explain --json output or an "
                             "EXPLAIN (FORMAT JSON) file") from None
    if isinstance(doc, dict) and "statements" in doc:
        return {s.name: s.plan for s in capture_from_json(doc).statements if s.plan}
    return {"plan": parse_plan(doc)}
