"""Index upkeep: what a set of new indexes costs the workload's writes, HOT updates included.

Charges, per row written and per weighted call, in planner cost units (``seq_page_cost`` = 1):

- INSERT and DELETE: every new index of the table (a new entry; a dead entry for VACUUM to remove).
- UPDATE: nothing while the update stays HOT (heap-only: no index entry at all). An UPDATE that
  sets a column an index reads (key, INCLUDE, expression or partial predicate) is not HOT: the new
  row version gets an entry in *every* index of the table, and usually lands on another heap
  page. So a new index on an updated column is charged for all the table's indexes, existing
  ones included, plus ``NON_HOT_HEAP_COST``; if an existing index already makes that update
  non-HOT, a new index only adds its own entries. From PostgreSQL 16 on, a column read only by
  BRIN (a summarizing index) does not prevent HOT.

An entry costs ``INDEX_WRITE_COST[method]``: a btree insertion descends to a leaf as an index
probe does (the planner charges a probe's leaf page ``random_page_cost`` = 4), then dirties that
page, which is WAL-logged and written back, and leaves an entry for VACUUM once the row version
dies; a non-HOT update also puts the new row version on another heap page (the same again). BRIN
only widens a range summary; GIN adds several entries per row (the keys of a jsonb document,
trigrams); GiST chooses a subtree by penalty at every level.

>>> from workbench.advisor.select import Item, Stmt
>>> model = WriteModel([Stmt("upd", "...", 10.0, frozenset({"s.t"}), writes="s.t", kind="update",
...                          rows_written=1, columns_written=frozenset({"qty"}))],
...                    {"s.t": [TableIndex("t_pkey", "btree", frozenset({"id"}))]})
>>> model.cost([Item("ix", "s.t", ("qty",), 8192)])   # 10 calls x (2 indexes x 4.0 + heap 4.0)
120.0
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.advisor.select import Item, Stmt

INDEX_WRITE_COST = {"btree": 4.0, "hash": 4.0, "bloom": 4.0, "brin": 0.4, "gin": 12.0,
                    "gist": 8.0, "spgist": 8.0}
NON_HOT_HEAP_COST = 4.0


@dataclass(frozen=True)
class TableIndex:
    """An existing index as the write model sees it."""

    name: str
    method: str
    touches: frozenset[str]


def entry_cost(method: str) -> float:
    """Cost of one index entry for an access method."""
    return INDEX_WRITE_COST.get(method, INDEX_WRITE_COST["btree"])


class WriteModel:
    """Write cost of index sets over a workload's INSERT, UPDATE and DELETE statements."""

    def __init__(self, stmts: Iterable[Stmt], existing: dict[str, list[TableIndex]] | None = None,
                 *, summarizing_hot: bool = True) -> None:
        self.writes = [s for s in stmts if s.writes and s.kind in ("insert", "update", "delete")]
        self.existing = existing or {}
        self.summarizing_hot = summarizing_hot  # PostgreSQL 16+: BRIN does not prevent HOT

    def cost(self, chosen: Iterable[Item]) -> float:
        """Added write cost of the chosen new indexes."""
        chosen = list(chosen)
        return sum(self.statement_cost(s, chosen) for s in self.writes)

    def per_index(self, chosen: Iterable[Item]) -> dict[str, float]:
        """Each index's share: the write cost saved by leaving it out of the set."""
        chosen = list(chosen)
        total = self.cost(chosen)
        return {i.ddl: total - self.cost([o for o in chosen if o is not i]) for i in chosen}

    def hot_effects(self, item: Item) -> list[dict[str, Any]]:
        """UPDATEs the index alone would make non-HOT (``breaks``), or that are non-HOT already
        because of an existing index (``already``), with what the index costs each."""
        out = []
        for stmt in self.writes:
            if stmt.kind != "update" or stmt.writes != item.relation:
                continue
            hit = sorted(self._blocks(item.method, item.touches) & stmt.columns_written)
            if not hit:
                continue
            existing = self.existing.get(stmt.writes, [])
            blockers = [e.name for e in existing if self._blocks(e.method, e.touches)
                        & stmt.columns_written]
            out.append({
                "statement": stmt.key, "table": stmt.writes, "columns": hit,
                "effect": "already" if blockers else "breaks", "blocked_by": blockers,
                "indexes": len(existing) + 1, "calls": stmt.weight,
                "cost": round(self.statement_cost(stmt, [item]), 2)})
        return out

    def statement_cost(self, stmt: Stmt, chosen: Iterable[Item]) -> float:
        """The index upkeep one write statement pays for the chosen new indexes."""
        new = [i for i in chosen if i.relation == stmt.writes]
        if not stmt.writes or stmt.kind not in ("insert", "update", "delete") or not new:
            return 0.0
        rows = stmt.weight * max(stmt.rows_written, 1.0)
        own = sum(entry_cost(i.method) for i in new)
        if stmt.kind != "update":
            return rows * own
        written = stmt.columns_written
        existing = self.existing.get(stmt.writes or "", [])
        if any(self._blocks(e.method, e.touches) & written for e in existing):
            return rows * own  # already non-HOT: each new index adds its entries
        if not any(self._blocks(i.method, i.touches) & written for i in new):
            return 0.0  # stays HOT
        return rows * (own + sum(entry_cost(e.method) for e in existing) + NON_HOT_HEAP_COST)

    def _blocks(self, method: str, touches: frozenset[str]) -> frozenset[str]:
        """Columns whose change makes an update non-HOT because of this index."""
        if method == "brin" and self.summarizing_hot:
            return frozenset()
        return touches
