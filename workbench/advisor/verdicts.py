"""A verdict for every statement: what the advice does for it, or why nothing does.

Each statement gets its weight, its planner cost before and after the recommended set, and one of:

- ``improved``: the indexes that lower its cost (removing one raises it again);
- ``plan_worse``: its estimated cost rises with the set (counted twice in the objective);
- ``cost_already_low``: no candidate lowers it and it costs little already (the plan's index named);
- ``already_indexed``: an existing index serves what a candidate would;
- ``no_indexable_predicate``: nothing an index can serve, with the conditions and why (an ``OR``,
  ``<>``, a pattern without pg_trgm, an INSERT ... VALUES reads nothing);
- ``no_candidate_helps``: candidates exist but the planner prefers its plan with each of them;
- ``not_evaluable``: its candidates could not be evaluated (e.g. GIN under HypoPG without a copy);
- ``saving_below_minimum``, ``over_budget``, ``write_cost_exceeds_read_gain``, ``max_indexes``,
  ``not_chosen``: its best candidate was left out, and by what margin.

For a statement not improved, its best candidate (the most statement cost saved when added to
the recommended set) is what the reason is about.

>>> verdicts = statement_verdicts(context)      # doctest: +SKIP
>>> verdicts[0]["verdict"], verdicts[0]["reason"]  # doctest: +SKIP
('improved', 'cost 876 -> 2.4 (-99.7%) with wb_orders_customer_id_created_at_desc_idx')
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from workbench.advisor.candidates import Candidate, CandidateSet
from workbench.advisor.select import Evaluator, Item, Stmt, overlap
from workbench.advisor.workload import WorkloadStatement

LOW_COST = 100.0  # planner cost under which a statement is "already cheap" (Dexter's --min-cost)
WORSE = 1.001  # a cost this much higher counts as a worse plan


@dataclass
class VerdictContext:
    """Everything the verdicts are computed from."""

    evaluator: Evaluator
    chosen: list[Item]
    items: dict[str, Item]  # every evaluable candidate, by DDL
    candidates: CandidateSet
    statements: list[WorkloadStatement]  # readable ones, as parsed
    failures: dict[str, str]  # DDL -> why it could not be evaluated
    budget: int
    max_indexes: int | None
    min_gain: float  # absolute workload cost a candidate must save
    plan_indexes: Any = None  # callable(stmt) -> index names in its current plan


def statement_verdicts(ctx: VerdictContext) -> list[dict[str, Any]]:
    """One verdict per statement of ``ctx.evaluator.stmts`` (in their order)."""
    parsed = {s.name: s for s in ctx.statements}
    return [_verdict(ctx, stmt, parsed[stmt.key]) for stmt in ctx.evaluator.stmts]


def unreadable_verdict(name: str, sql: str, weight: float, reason: str) -> dict[str, Any]:
    """The verdict of a statement the advisor could not read."""
    return {"name": name, "kind": "unknown", "weight": weight, "cost_before": None,
            "cost_after": None, "verdict": "unreadable", "helped_by": [], "write_cost_added": 0.0,
            "reason": reason, "sql": sql}


def _verdict(ctx: VerdictContext, stmt: Stmt, parsed: WorkloadStatement) -> dict[str, Any]:
    ev = ctx.evaluator
    before = ev.statement_cost(stmt, [])
    after = ev.statement_cost(stmt, ctx.chosen)
    out: dict[str, Any] = {
        "name": stmt.key, "kind": stmt.kind, "weight": stmt.weight,
        "cost_before": round(before, 2), "cost_after": round(after, 2), "helped_by": [],
        "write_cost_added": round(ev.writes.statement_cost(stmt, ctx.chosen), 2),
        "sql": stmt.sql}
    if after > before * WORSE:
        culprits = [i for i in ctx.chosen if i.relation in stmt.relations
                    and ev.statement_cost(stmt, [o for o in ctx.chosen if o is not i]) < after]
        out["helped_by"] = []
        out["made_worse_by"] = [_name(i) for i in culprits]
        return {**out, "verdict": "plan_worse", "reason": (
            f"plan cost rises {before:,.1f} -> {after:,.1f} (+{100 * (after / before - 1):.1f}%)"
            f" with {', '.join(out['made_worse_by']) or 'the set'}; the objective counts the "
            "increase twice")}
    if after < before / WORSE:
        helped = [i for i in ctx.chosen if i.relation in stmt.relations
                  and ev.statement_cost(stmt, [o for o in ctx.chosen if o is not i]) > after]
        out["helped_by"] = [_name(i) for i in helped]
        return {**out, "verdict": "improved", "reason": (
            f"cost {before:,.1f} -> {after:,.1f} (-{100 * (1 - after / before):.1f}%) with "
            f"{', '.join(out['helped_by']) or 'the set together'}")}
    verdict, reason = _why_not(ctx, stmt, parsed, after)
    if out["write_cost_added"]:
        reason += (f"; the recommended indexes add {out['write_cost_added']:,.1f} of upkeep to "
                   "its weighted cost")
    return {**out, "verdict": verdict, "reason": reason}


def _why_not(ctx: VerdictContext, stmt: Stmt, parsed: WorkloadStatement,
             cost: float) -> tuple[str, str]:
    own = ctx.candidates.for_statement(stmt.key)
    notes = ctx.candidates.notes.get(stmt.key, [])
    failed = [c for c in own if c.ddl in ctx.failures]
    usable = [c for c in own if c.ddl in ctx.items]
    if not usable:
        if failed:
            return "not_evaluable", "; ".join(
                f"{c.kind()} index ({', '.join(c.columns)}): {ctx.failures[c.ddl]}" for c in failed)
        return _nothing_to_index(ctx, stmt, parsed, cost, notes)
    best = max(_trials(ctx, stmt, usable), key=lambda t: t[0], default=None)
    if best is None or best[0] <= 1e-9 * max(cost, 1.0):
        if cost <= LOW_COST:
            return "cost_already_low", f"cost {cost:,.1f} is already low{_plan(ctx, stmt)}"
        return "no_candidate_helps", (
            f"none of its {len(usable)} candidates lowers its cost {cost:,.1f}; the planner keeps"
            f" its plan{_plan(ctx, stmt)}" + (f" ({'; '.join(notes)})" if notes else ""))
    return _left_out(ctx, stmt, best)


def _nothing_to_index(ctx: VerdictContext, stmt: Stmt, parsed: WorkloadStatement, cost: float,
                      notes: list[str]) -> tuple[str, str]:
    covered = sorted({by for c, by, name in _covered(ctx) if name == stmt.key})
    conditions = parsed.unindexable + notes
    if stmt.kind == "insert" and parsed.tables <= {stmt.writes}:
        return "no_indexable_predicate", "an INSERT ... VALUES looks nothing up"
    if conditions:
        return "no_indexable_predicate", "; ".join(conditions)
    if covered and cost > LOW_COST:
        return "already_indexed", f"{', '.join(covered)} already serves its filters (cost " \
                                  f"{cost:,.1f})"
    if cost <= LOW_COST:
        return "cost_already_low", f"cost {cost:,.1f} is already low{_plan(ctx, stmt)}"
    what = "an INSERT ... VALUES reads no rows" if stmt.kind == "insert" else \
        "no WHERE, JOIN or ORDER BY column an index could serve"
    return "no_indexable_predicate", what


def _trials(ctx: VerdictContext, stmt: Stmt, usable: list[Candidate]
            ) -> Iterator[tuple[float, Candidate, list[Item]]]:
    ev = ctx.evaluator
    now = ev.statement_cost(stmt, ctx.chosen)
    for cand in usable:
        item = ctx.items[cand.ddl]
        trial = [o for o in ctx.chosen if not overlap(item, o)] + [item]
        yield stmt.weight * (now - ev.statement_cost(stmt, trial)), cand, trial


def _left_out(ctx: VerdictContext, stmt: Stmt,
              best: tuple[float, Candidate, list[Item]]) -> tuple[str, str]:
    ev = ctx.evaluator
    saved, cand, trial = best
    item = ctx.items[cand.ddl]
    label = f"{cand.kind()} index on {cand.table} ({', '.join(cand.columns)})" + (
        f" WHERE {cand.where}" if cand.where else "")
    reads_now = sum(ev.read_cost(s, ctx.chosen) for s in ev.stmts)
    reads_then = sum(ev.read_cost(s, trial) for s in ev.stmts)
    write_delta = ev.writes.cost(trial) - ev.writes.cost(ctx.chosen)
    read_gain = reads_now - reads_then
    start = ev.total([]) or 1.0
    size = sum(i.size for i in trial)
    worse = [s.key for s in ev.stmts if s is not stmt and
             ev.statement_cost(s, trial) > ev.statement_cost(s, ctx.chosen) * WORSE]
    pct = f"{100 * saved / start:.2f}% of the workload cost"
    if size > ctx.budget:
        used = sum(i.size for i in ctx.chosen)
        return "over_budget", (f"{label} would save {pct} but needs {item.size / 1e6:.1f} MB; "
                               f"{used / 1e6:.1f} of {ctx.budget / 1e6:.1f} MB are taken")
    if worse:
        return "plan_worse", f"{label} would make {', '.join(worse)} slower"
    if write_delta >= read_gain:
        hot = [e for e in ev.writes.hot_effects(item) if e["effect"] == "breaks"]
        why = "; ".join(f"it would make {e['statement']}'s UPDATE of {e['table']}."
                        f"{', '.join(e['columns'])} non-HOT" for e in hot)
        return "write_cost_exceeds_read_gain", (
            f"{label} saves {read_gain:,.1f} in reads but costs {write_delta:,.1f} in index "
            f"upkeep" + (f" ({why})" if why else ""))
    net = read_gain - write_delta
    if net <= ctx.min_gain:
        return "saving_below_minimum", (
            f"{label} would save {100 * net / start:.2f}% of the workload cost, below the "
            f"minimum {100 * ctx.min_gain / start:.2f}%")
    if ctx.max_indexes is not None and len(ctx.chosen) >= ctx.max_indexes:
        return "max_indexes", f"{label} would save {pct}, but {ctx.max_indexes} indexes are chosen"
    return "not_chosen", f"{label} would save {pct}; the selection found a cheaper set without it"


def _covered(ctx: VerdictContext) -> list[tuple[Candidate, str, str]]:
    return ctx.candidates.covered_for


def _plan(ctx: VerdictContext, stmt: Stmt) -> str:
    names = ctx.plan_indexes(stmt) if ctx.plan_indexes else []
    return f" (its plan uses {', '.join(names)})" if names else ""


def _name(item: Item) -> str:
    return item.ddl.split(" ON ", 1)[0].rsplit(" ", 1)[-1].strip('"')
