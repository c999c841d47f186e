"""Robustness of the text reader on plans from elsewhere: every real JSON plan of ../shared/plans
(PEV2's fixtures: partitions, foreign scans, triggers, memoize, ModifyTable, plans without
costs) is written out in PostgreSQL's text layout and read back; the tree and its figures must
survive. The layout follows explain.c (node names, `  (cost=...)`, ` (actual ...)`, 6 spaces
per level, InitPlan/SubPlan headers); the ground truth for the layout itself is
tests/test_plan_text.py, which reads what real servers print."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from workbench.plans import parse_plan
from workbench.plans.text import _identifiers, clean_lines

_STRATEGY = {"Plain": "Aggregate", "Sorted": "GroupAggregate", "Hashed": "HashAggregate",
             "Mixed": "MixedAggregate"}
_PROPERTIES = ("Output", "Group Key", "Sort Key", "Index Cond", "Recheck Cond", "Hash Cond",
               "Merge Cond", "Join Filter", "Filter", "Rows Removed by Filter",
               "Rows Removed by Join Filter", "Rows Removed by Index Recheck", "Heap Fetches",
               "Workers Planned", "Workers Launched")


def _name(node: dict[str, Any]) -> str | None:
    """The text format's spelling of a JSON node, or None for node types PEV2 invented."""
    kind = node["Node Type"]
    join = node.get("Join Type", "Inner")
    if kind in ("Nested Loop", "Hash Join", "Merge Join"):
        base = kind.removesuffix(" Join")
        name = kind if join == "Inner" else f"{base} {join} Join"
    elif kind == "Aggregate":
        name = _STRATEGY.get(node.get("Strategy", "Plain"), "Aggregate")
        mode = node.get("Partial Mode", "Simple")
        name = name if mode == "Simple" else f"{mode} {name}"
    elif kind == "ModifyTable":
        name = f"{node.get('Operation', 'Update')} on {_relation(node)}"
    elif " " not in kind and kind[0].isupper() and kind not in (
            "Result", "Sort", "Limit", "Hash", "Materialize", "Memoize", "Append", "Unique",
            "Gather", "Group", "WindowAgg", "LockRows", "ProjectSet", "BitmapAnd", "BitmapOr",
            "SetOp"):
        return None  # e.g. "HashAggregate" as a JSON node type: PEV2's own conversion
    elif kind == "Nested Loop Join":
        return None
    else:
        name = kind
        if kind in ("Index Scan", "Index Only Scan"):
            direction = " Backward" if node.get("Scan Direction") == "Backward" else ""
            name += f"{direction} using {node['Index Name']}"
        if kind == "Bitmap Index Scan":
            name += f" on {node['Index Name']}"
        elif node.get("Relation Name"):
            name += f" on {_relation(node)}"
        elif kind == "CTE Scan":
            name += f" on {node['CTE Name']}" + (f" {node['Alias']}" if node.get("Alias") not in (
                None, node["CTE Name"]) else "")
        elif kind == "Function Scan" and node.get("Function Name"):
            name += f" on {node['Function Name']}" + (f" {node['Alias']}" if node.get("Alias")
                                                      else "")
        elif kind in ("Subquery Scan", "Values Scan") and node.get("Alias"):
            name += f" on {node['Alias']}"
    if node.get("Parallel Aware"):
        name = f"Parallel {name}"
    return name


def _relation(node: dict[str, Any]) -> str:
    text = (f"{node['Schema']}." if node.get("Schema") else "") + node.get("Relation Name", "?")
    alias = node.get("Alias")
    return text + (f" {alias}" if alias and alias != node.get("Relation Name") else "")


def _figures(node: dict[str, Any]) -> str:
    out = ""
    if "Total Cost" in node:
        out += (f"  (cost={node['Startup Cost']:.2f}..{node['Total Cost']:.2f} "
                f"rows={node['Plan Rows']:.0f} width={node.get('Plan Width', 0)})")
    if node.get("Actual Loops") == 0:
        out += " (never executed)"
    elif "Actual Total Time" in node:
        out += (f"{' ' if out else '  '}(actual time={node['Actual Startup Time']:.3f}.."
                f"{node['Actual Total Time']:.3f} rows={node['Actual Rows']:.0f} "
                f"loops={node['Actual Loops']:.0f})")
    return out


def _lines(node: dict[str, Any], arrow: int | None, out: list[str]) -> bool:
    """Append a node at ``arrow`` (its "->" column; None for the root) and everything below."""
    name = _name(node)
    if name is None:
        return False
    out.append(name + _figures(node) if arrow is None else f"{' ' * arrow}->  {name}"
               + _figures(node))
    detail = " " * (2 if arrow is None else arrow + 6)
    for key in _PROPERTIES:
        if key in node:
            value = node[key]
            out.append(f"{detail}{key}: {', '.join(value) if isinstance(value, list) else value}")
    hits = {k: node.get(f"Shared {k.title()} Blocks") for k in ("hit", "read")}
    if any(hits.values()):
        out.append(f"{detail}Buffers: shared " + " ".join(f"{k}={v}" for k, v in hits.items() if v))
    for child in node.get("Plans", []) or []:
        if child.get("Subplan Name"):  # explain.c: the header, then the plan 2 further right
            out.append(f"{detail}{child['Subplan Name']}")
            ok = _lines(child, len(detail) + 2, out)
        else:
            ok = _lines(child, len(detail), out)
        if not ok:
            return False
    return True


def _text(doc: dict[str, Any]) -> str | None:
    out: list[str] = []
    if not _lines(doc["Plan"], None, out):
        return None
    for key, label in (("Planning Time", "Planning Time"), ("Execution Time", "Execution Time"),
                       ("Total Runtime", "Total runtime")):  # before 9.4: Total runtime
        if key in doc:
            out.append(f"{label}: {doc[key]:.3f} ms")
    return "\n".join(out)


@pytest.fixture(scope="module")
def corpus(shared_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    import json

    docs = []
    for path in sorted((shared_dir / "plans").glob("*.json")):
        doc = json.loads(path.read_text())
        docs.append((path.name, doc[0] if isinstance(doc, list) else doc))
    return docs


FIGURES = ["Startup Cost", "Total Cost", "Plan Rows", "Actual Startup Time", "Actual Total Time",
           "Actual Loops", "Rows Removed by Filter", "Heap Fetches", "Workers Launched",
           "Index Name", "Relation Name", "Schema", "CTE Name", "Join Type", "Parent Relationship",
           "Subplan Name", "Filter", "Index Cond", "Hash Cond"]


def test_corpus_plans_survive_the_text_format(corpus: list[tuple[str, dict[str, Any]]]) -> None:
    read = 0
    for name, doc in corpus:
        text = _text(doc)
        if text is None:
            continue
        original, again = parse_plan(doc), parse_plan(text)
        assert [n.depth for n in again.nodes] == [n.depth for n in original.nodes], name
        for a, b in zip(original.nodes, again.nodes, strict=True):
            assert b.node_type == a.node_type, (name, a.id)
            for key in FIGURES:
                expected = a.get(key)
                if expected is None or (key == "Actual Loops" and expected == 0):
                    continue
                got = b.get(key)
                if isinstance(expected, float):
                    assert got == pytest.approx(expected, abs=0.006), (name, a.id, key)
                elif key in ("Index Name", "Relation Name", "Schema", "CTE Name"):
                    # PostgreSQL's JSON names identifiers bare; plans PEV2 made from text keep
                    # the quotes the text had (and sometimes the schema in the name).
                    assert got == _identifiers(expected)[0][-1], (name, a.id, key, got, expected)
                elif key == "Parent Relationship" and expected in ("Member", "children"):
                    assert got in ("Member", "children", "Outer", "Inner"), (name, a.id, key)
                else:
                    assert got == expected, (name, a.id, key, got, expected)
            for kind in ("shared_hit", "shared_read"):
                assert b.self_buffers.get(kind, 0) == a.self_buffers.get(kind, 0), (name, a.id)
        if original.execution_ms is not None and original.analyzed:
            assert again.execution_ms == pytest.approx(original.execution_ms, abs=0.001), name
            assert sum(n.self_ms for n in again.nodes) == pytest.approx(again.execution_ms,
                                                                        abs=0.01), name
        # psql's framing reads the same
        framed = "\n".join(["QUERY PLAN", "-" * 40] + [f" {ln}" for ln in text.splitlines()]
                           + [f"({len(text.splitlines())} rows)"])
        assert clean_lines(framed) == [f" {ln}" for ln in text.splitlines()]
        read += 1
    assert read >= 35, f"only {read} of {len(corpus)} corpus plans were written out and read"
