"""Choosing an index set under a storage budget, with index interaction and write cost.

The workload cost of a set S is::

    sum over statements s of  weight(s) * (plan_cost(s, S on s's tables)
                                           + REGRESSION_PENALTY * max(0, increase over no index))
  + write_cost(S)                                  (see ``writes``: HOT-aware index upkeep)

A statement whose estimated plan gets *worse* with a set pays its increase twice: the planner
admitting a worse plan is the case where its estimate is least to be trusted, and a
recommendation that slows a statement down must earn that back elsewhere.

Selection is greedy with re-evaluation, in the style of the Extend algorithm: every round, each
remaining candidate is re-costed together with what is already chosen (so an index that only
helped where a chosen one already helps is no longer worth anything), and the best one joins if
it saves at least ``min_gain_pct`` percent of the *original* workload cost (not of what is left,
so marginal indexes do not creep in once the big wins are taken). A candidate whose key overlaps a
chosen index's key (one a prefix of the other) is tried as that index's replacement, never beside
it. Two greedy orders are run, best benefit per byte (Extend's) and best absolute benefit, and the
cheaper final set wins; ``exhaustive`` gives the optimum on small inputs for the quality benchmark.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from workbench.advisor.writes import INDEX_WRITE_COST, WriteModel

INDEX_WRITE_COST_PER_ROW = INDEX_WRITE_COST["btree"]
MIN_GAIN_PCT = 0.5  # a candidate must save at least this % of the original workload cost
REGRESSION_PENALTY = 1.0  # a plan cost increase counts (1 + this) times


@dataclass(frozen=True)
class Item:
    """A candidate index as the selector sees it."""

    ddl: str
    relation: str
    columns: tuple[str, ...]
    size: int
    method: str = "btree"
    reads: frozenset[str] | None = None  # every column it reads (HOT); default: the columns
    predicate: str | None = None  # a partial index's WHERE

    @property
    def touches(self) -> frozenset[str]:
        """Columns whose change makes an UPDATE non-HOT."""
        return self.reads if self.reads is not None else frozenset(self.columns)


@dataclass(frozen=True)
class Stmt:
    """A workload statement as the selector sees it."""

    key: str
    sql: str
    weight: float
    relations: frozenset[str]
    generic: bool = False
    writes: str | None = None
    kind: str = "select"
    rows_written: float = 0.0
    columns_written: frozenset[str] = frozenset()
    reads: frozenset[str] | None = None  # "schema.table.column" it references; None: unknown

    def may_use(self, item: Item) -> bool:
        """Whether the planner could use the index for this statement at all: it must read a
        column of the statement's on that table (a key, an INCLUDE column for an index-only scan,
        a predicate or expression column); a statement that names no column of the table (a
        count(*)) could scan any index of it."""
        if item.relation not in self.relations:
            return False
        if self.reads is None:
            return True
        prefix = item.relation + "."
        mine = {c[len(prefix):] for c in self.reads if c.startswith(prefix)}
        return not mine or bool(item.touches & mine)


CostFn = Callable[[str, frozenset[str], bool], float]


@dataclass
class Selection:
    """The chosen set and the costs that justify it."""

    chosen: list[Item]
    cost_before: float
    cost_after: float
    read_cost: dict[str, tuple[float, float]] = field(default_factory=dict)  # key: (before, after)
    write_cost: dict[str, float] = field(default_factory=dict)  # ddl: write cost added
    order: str = "ratio"

    @property
    def reduction(self) -> float:
        """Workload cost saved."""
        return self.cost_before - self.cost_after


class Evaluator:
    """Workload cost of index sets, sharing the what-if cache across selection strategies."""

    def __init__(self, stmts: list[Stmt], cost: CostFn, writes: WriteModel | None = None) -> None:
        self.stmts = stmts
        self.cost = cost
        self.writes = writes or WriteModel(stmts)

    def statement_cost(self, stmt: Stmt, chosen: Iterable[Item]) -> float:
        """One statement's planner cost with the chosen indexes on its tables."""
        relevant = frozenset(i.ddl for i in chosen if stmt.may_use(i))
        return self.cost(stmt.sql, relevant, stmt.generic)

    def read_cost(self, stmt: Stmt, chosen: Iterable[Item]) -> float:
        """Weighted planner cost, a regression counted ``1 + REGRESSION_PENALTY`` times."""
        cost = self.statement_cost(stmt, chosen)
        base = self.statement_cost(stmt, [])
        return stmt.weight * (cost + REGRESSION_PENALTY * max(cost - base, 0.0))

    def write_cost(self, item: Item) -> float:
        """Extra maintenance cost of one index alone, over the workload's writes to its table."""
        return self.writes.cost([item])

    def total(self, chosen: Iterable[Item]) -> float:
        """Workload cost (reads plus index maintenance) with the chosen set."""
        chosen = list(chosen)
        return sum(self.read_cost(s, chosen) for s in self.stmts) + self.writes.cost(chosen)


def select_indexes(stmts: list[Stmt], items: list[Item], cost: CostFn, *, budget_bytes: int,
                   max_indexes: int | None = None, min_gain_pct: float = MIN_GAIN_PCT,
                   writes: WriteModel | None = None) -> Selection:
    """The cheapest set within the budget of several greedy runs: best benefit per byte and best
    absolute benefit from nothing, then best benefit per byte from each statement's own best
    candidate not chosen by those two (a seed: so an index only one statement needs, too big to
    win on benefit per byte early, still gets its chance); the cheapest set found is then
    improved by swaps (replace one chosen index by another, or drop it, while that lowers the
    cost).

    >>> sel = select_indexes(stmts, items, whatif.cost, budget_bytes=50 << 20)  # doctest: +SKIP
    >>> [i.ddl for i in sel.chosen]                                             # doctest: +SKIP
    ['CREATE INDEX CONCURRENTLY wb_orders_customer_id_created_at_idx ON ...']
    """
    evaluator = Evaluator(stmts, cost, writes)
    results = [_greedy(evaluator, items, budget_bytes, max_indexes, order, min_gain_pct)
               for order in ("ratio", "benefit")]
    taken = {i.ddl for sel in results for i in sel.chosen}
    if max_indexes is None or max_indexes > 1:
        for seed in _seeds(evaluator, items, budget_bytes, min_gain_pct):
            if seed.ddl not in taken:  # seeding with a chosen index would retrace that run
                results.append(_greedy(evaluator, items, budget_bytes, max_indexes, "seeded",
                                       min_gain_pct, [seed]))
    best = min(results, key=lambda sel: (round(sel.cost_after, 6), len(sel.chosen),
                                         sel.order != "ratio", sorted(i.ddl for i in sel.chosen)))
    best = _swap(evaluator, items, budget_bytes, min_gain_pct, best)
    return _explain(evaluator, best)


def exhaustive(stmts: list[Stmt], items: list[Item], cost: CostFn, *, budget_bytes: int,
               max_indexes: int | None = None, writes: WriteModel | None = None) -> Selection:
    """The optimal set by trying every subset within the budget (small inputs only)."""
    evaluator = Evaluator(stmts, cost, writes)
    best: tuple[float, list[Item]] = (evaluator.total([]), [])
    limit = min(len(items), max_indexes or len(items))
    for size in range(1, limit + 1):
        for combo in itertools.combinations(items, size):
            if sum(i.size for i in combo) > budget_bytes:
                continue
            total = evaluator.total(combo)
            if total < best[0] - 1e-9:
                best = (total, list(combo))
    return _explain(evaluator, Selection(best[1], evaluator.total([]), best[0], order="exhaustive"))


def _seeds(evaluator: Evaluator, items: list[Item], budget: int, min_gain_pct: float
           ) -> list[Item]:
    """Each statement's best candidate (the one that lowers its weighted cost most alone), when
    it fits the budget and saves the minimum on its own."""
    start = evaluator.total([])
    minimum = start * min_gain_pct / 100
    fitting = [i for i in items if i.size <= budget]
    seeds: list[Item] = []
    for stmt in evaluator.stmts:
        base = evaluator.read_cost(stmt, [])
        mine = [i for i in fitting if i.relation in stmt.relations]
        best = min(mine, key=lambda i: (evaluator.read_cost(stmt, [i]), i.size, i.ddl), default=None)
        if best is not None and evaluator.read_cost(stmt, [best]) < base and best not in seeds \
                and start - evaluator.total([best]) > minimum:
            seeds.append(best)
    return seeds


def _swap(evaluator: Evaluator, items: list[Item], budget: int, min_gain_pct: float,
          sel: Selection) -> Selection:
    """Replace one chosen index by another (or drop one) while that lowers the cost."""
    chosen, current = list(sel.chosen), sel.cost_after
    minimum = sel.cost_before * min_gain_pct / 100
    improved = True
    while improved:
        improved = False
        for out in list(chosen):
            rest = [i for i in chosen if i is not out]
            for item in [None, *sorted(items, key=lambda i: i.ddl)]:
                if item is not None and (item in chosen or any(overlap(item, o) for o in rest)):
                    continue
                trial = rest + ([item] if item else [])
                if sum(i.size for i in trial) > budget:
                    continue
                total = evaluator.total(trial)
                if total < current - max(minimum, 1e-9 * abs(current)):
                    chosen, current, improved = trial, total, True
                    break
            if improved:
                break
    return Selection(chosen, sel.cost_before, current, order=sel.order)


def _greedy(evaluator: Evaluator, items: list[Item], budget: int, max_indexes: int | None,
            order: str, min_gain_pct: float, seed: list[Item] | None = None) -> Selection:
    chosen: list[Item] = list(seed or [])
    start = evaluator.total([])
    current = evaluator.total(chosen)
    minimum = start * min_gain_pct / 100
    remaining = sorted((i for i in items if i not in chosen), key=lambda i: i.ddl)  # stable ties
    while remaining and (max_indexes is None or len(chosen) < max_indexes):
        best: tuple[float, Item, float, list[Item]] | None = None
        for item in remaining:
            # A candidate whose key overlaps a chosen one's (prefix either way) can only replace
            # it: a DBA keeps one of the two, never both. So an index chosen early for its
            # benefit per byte can still give way to a wider one that serves more.
            replaced = [other for other in chosen if overlap(item, other)]
            trial = [other for other in chosen if other not in replaced] + [item]
            if sum(i.size for i in trial) > budget:
                continue
            total = evaluator.total(trial)
            gain = current - total
            if gain <= minimum:
                continue
            added = item.size - sum(other.size for other in replaced)
            score = gain if order == "benefit" else gain / max(added, 1)
            if best is None or score > best[0]:
                best = (score, item, total, trial)
        if best is None:
            break
        _, item, current, chosen = best
        remaining.remove(item)
    return Selection(chosen, start, current, order=order)


def overlap(item: Item, other: Item) -> bool:
    """One key is a prefix of the other's, on the same table, with the same predicate."""
    if other.relation != item.relation or not item.columns or not other.columns \
            or item.predicate != other.predicate:
        return False
    shorter, longer = sorted((item.columns, other.columns), key=len)
    return longer[: len(shorter)] == shorter


def _explain(evaluator: Evaluator, selection: Selection) -> Selection:
    for stmt in evaluator.stmts:
        selection.read_cost[stmt.key] = (
            evaluator.statement_cost(stmt, []),
            evaluator.statement_cost(stmt, selection.chosen),
        )
    selection.write_cost = evaluator.writes.per_index(selection.chosen)
    return selection
