"""Choosing an index set under a storage budget, with index interaction and write cost.

The workload cost of a set S is::

    sum over statements s of  weight(s) * plan_cost(s, S restricted to s's tables)
  + sum over indexes i in S of  write_cost(i)

``write_cost(i)`` charges every INSERT, and every UPDATE that sets an indexed column (a non-HOT
update), ``INDEX_WRITE_COST_PER_ROW`` per row written per extra index, weighted like the reads: a
btree insertion touches about as many (cached) pages as the heap insertion itself.

Selection is greedy with re-evaluation, in the style of the Extend algorithm: every round, each
remaining candidate is re-costed together with what is already chosen (so an index that only
helped where a chosen one already helps is no longer worth anything), and the best one joins.
A candidate whose key overlaps a chosen index's key (one a prefix of the other) is tried as that
index's replacement, never beside it. Two greedy orders are run, best benefit per byte (Extend's)
and best absolute benefit, and the cheaper final set wins; ``exhaustive`` gives the optimum on
small inputs for the quality benchmark.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

INDEX_WRITE_COST_PER_ROW = 1.0
MIN_GAIN_PCT = 1.0  # a candidate must save at least this % of the workload cost left to be chosen
MIN_GAIN_START_PCT = 0.05  # ... and at least this % of the workload cost before any index


@dataclass(frozen=True)
class Item:
    """A candidate index as the selector sees it."""

    ddl: str
    relation: str
    columns: tuple[str, ...]
    size: int


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

    def __init__(self, stmts: list[Stmt], cost: CostFn) -> None:
        self.stmts = stmts
        self.cost = cost

    def statement_cost(self, stmt: Stmt, chosen: Iterable[Item]) -> float:
        """One statement's planner cost with the chosen indexes on its tables."""
        relevant = frozenset(i.ddl for i in chosen if i.relation in stmt.relations)
        return self.cost(stmt.sql, relevant, stmt.generic)

    def write_cost(self, item: Item) -> float:
        """Extra maintenance cost of one index, over the workload's writes to its table."""
        total = 0.0
        for stmt in self.stmts:
            if stmt.writes != item.relation:
                continue
            if stmt.kind == "insert" or (stmt.kind == "update" and
                                         set(item.columns) & set(stmt.columns_written)):
                total += stmt.weight * max(stmt.rows_written, 1.0) * INDEX_WRITE_COST_PER_ROW
        return total

    def total(self, chosen: Iterable[Item]) -> float:
        """Workload cost (reads plus index maintenance) with the chosen set."""
        chosen = list(chosen)
        reads = sum(s.weight * self.statement_cost(s, chosen) for s in self.stmts)
        return reads + sum(self.write_cost(i) for i in chosen)


def select_indexes(stmts: list[Stmt], items: list[Item], cost: CostFn, *, budget_bytes: int,
                   max_indexes: int | None = None) -> Selection:
    """The cheaper of the two greedy orders' sets within the budget.

    >>> sel = select_indexes(stmts, items, whatif.cost, budget_bytes=50 << 20)  # doctest: +SKIP
    >>> [i.ddl for i in sel.chosen]                                             # doctest: +SKIP
    ['CREATE INDEX CONCURRENTLY wb_orders_customer_id_created_at_idx ON ...']
    """
    evaluator = Evaluator(stmts, cost)
    results = [_greedy(evaluator, items, budget_bytes, max_indexes, order)
               for order in ("ratio", "benefit")]
    best = min(results, key=lambda sel: (sel.cost_after, len(sel.chosen), sel.order != "ratio"))
    return _explain(evaluator, best)


def exhaustive(stmts: list[Stmt], items: list[Item], cost: CostFn, *, budget_bytes: int,
               max_indexes: int | None = None) -> Selection:
    """The optimal set by trying every subset within the budget (small inputs only)."""
    evaluator = Evaluator(stmts, cost)
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


def _greedy(evaluator: Evaluator, items: list[Item], budget: int, max_indexes: int | None,
            order: str) -> Selection:
    chosen: list[Item] = []
    start = current = evaluator.total([])
    remaining = sorted(items, key=lambda i: i.ddl)  # deterministic ties
    while remaining and (max_indexes is None or len(chosen) < max_indexes):
        best: tuple[float, Item, float, list[Item]] | None = None
        for item in remaining:
            # A candidate whose key overlaps a chosen one's (prefix either way) can only replace
            # it: a DBA keeps one of the two, never both. So an index chosen early for its
            # benefit per byte can still give way to a wider one that serves more.
            replaced = [other for other in chosen if _overlap(item, other)]
            trial = [other for other in chosen if other not in replaced] + [item]
            if sum(i.size for i in trial) > budget:
                continue
            total = evaluator.total(trial)
            gain = current - total
            if gain <= max(current * MIN_GAIN_PCT, start * MIN_GAIN_START_PCT) / 100:
                continue
            added = item.size - sum(other.size for other in replaced)
            score = gain / max(added, 1) if order == "ratio" else gain
            if best is None or score > best[0]:
                best = (score, item, total, trial)
        if best is None:
            break
        _, item, current, chosen = best
        remaining.remove(item)
    return Selection(chosen, start, current, order=order)


def _overlap(item: Item, other: Item) -> bool:
    """One key is a prefix of the other's, on the same table."""
    if other.relation != item.relation or not item.columns or not other.columns:
        return False
    shorter, longer = sorted((item.columns, other.columns), key=len)
    return longer[: len(shorter)] == shorter


def _explain(evaluator: Evaluator, selection: Selection) -> Selection:
    for stmt in evaluator.stmts:
        selection.read_cost[stmt.key] = (
            evaluator.statement_cost(stmt, []),
            evaluator.statement_cost(stmt, selection.chosen),
        )
    selection.write_cost = {i.ddl: evaluator.write_cost(i) for i in selection.chosen}
    return selection
