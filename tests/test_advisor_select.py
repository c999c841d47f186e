"""The selection algorithm on a deterministic cost table (the what-if side is tested on a real
server in test_advisor_whatif.py and the end-to-end advisor tests)."""

from __future__ import annotations

import pytest

from workbench.advisor.select import (
    INDEX_WRITE_COST_PER_ROW,
    Item,
    Stmt,
    exhaustive,
    select_indexes,
)

A = Item("idx_a", "s.t", ("a",), 100)
AB = Item("idx_ab", "s.t", ("a", "b"), 180)
C = Item("idx_c", "s.u", ("c",), 100)
D = Item("idx_d", "s.u", ("d",), 400)

# Base costs and what each index does to each query: (statement) -> {frozenset of ddls: cost}
BASE = {"q_a": 1000.0, "q_ab": 1000.0, "q_c": 500.0, "q_d": 600.0}


def table_cost(sql: str, indexes: frozenset[str], generic: bool) -> float:
    options = [BASE[sql]]
    if sql == "q_a" and indexes & {"idx_a", "idx_ab"}:
        options.append(10.0)
    if sql == "q_ab" and "idx_ab" in indexes:
        options.append(10.0)
    if sql == "q_ab" and "idx_a" in indexes:
        options.append(400.0)
    if sql == "q_c" and "idx_c" in indexes:
        options.append(5.0)
    if sql == "q_d" and "idx_d" in indexes:
        options.append(6.0)
    return min(options)


STMTS = [
    Stmt("q_a", "q_a", 1.0, frozenset({"s.t"})),
    Stmt("q_ab", "q_ab", 1.0, frozenset({"s.t"})),
    Stmt("q_c", "q_c", 1.0, frozenset({"s.u"})),
    Stmt("q_d", "q_d", 1.0, frozenset({"s.u"})),
]


def test_interaction_one_wider_index_serves_both_queries() -> None:
    sel = select_indexes(STMTS, [A, AB, C, D], table_cost, budget_bytes=10_000)
    names = [i.ddl for i in sel.chosen]
    assert "idx_ab" in names and "idx_a" not in names  # idx_a adds nothing once idx_ab is in
    assert sel.read_cost["q_a"] == (1000.0, 10.0)
    assert sel.cost_after == pytest.approx(10 + 10 + 5 + 6)


@pytest.mark.parametrize("budget", [0, 99, 100, 180, 280, 380, 500, 780, 10_000])
def test_budget_is_respected_and_greedy_is_close_to_optimal(budget: int) -> None:
    items = [A, AB, C, D]
    sel = select_indexes(STMTS, items, table_cost, budget_bytes=budget)
    best = exhaustive(STMTS, items, table_cost, budget_bytes=budget)
    assert sum(i.size for i in sel.chosen) <= budget
    assert sel.cost_after >= best.cost_after
    if best.reduction:
        assert sel.reduction / best.reduction >= 0.95


def test_max_indexes() -> None:
    sel = select_indexes(STMTS, [A, AB, C, D], table_cost, budget_bytes=10_000, max_indexes=1)
    assert [i.ddl for i in sel.chosen] == ["idx_ab"]


def test_write_heavy_table_pays_for_its_indexes() -> None:
    inserts = Stmt("ins", "ins", 1.0, frozenset({"s.u"}), writes="s.u", kind="insert",
                   rows_written=1000)
    heavy = [*STMTS, inserts]
    def cost(sql: str, ix: frozenset[str], generic: bool) -> float:
        return 1.0 if sql == "ins" else table_cost(sql, ix, generic)
    sel = select_indexes(heavy, [A, AB, C, D], cost, budget_bytes=10_000)
    assert {i.ddl for i in sel.chosen} == {"idx_ab"}  # saving 495 or 594 < 1000 rows of upkeep
    cheap = [*STMTS, Stmt("ins", "ins", 1.0, frozenset({"s.u"}), writes="s.u", kind="insert",
                          rows_written=10)]
    sel = select_indexes(cheap, [A, AB, C, D], cost, budget_bytes=10_000)
    assert {i.ddl for i in sel.chosen} == {"idx_ab", "idx_c", "idx_d"}
    assert sel.write_cost["idx_c"] == 10 * INDEX_WRITE_COST_PER_ROW


def test_updates_only_charge_indexes_on_the_columns_they_set() -> None:
    upd = Stmt("upd", "upd", 1.0, frozenset({"s.u"}), writes="s.u", kind="update",
               rows_written=5000, columns_written=frozenset({"d"}))
    def cost(sql: str, ix: frozenset[str], generic: bool) -> float:
        return 1.0 if sql == "upd" else table_cost(sql, ix, generic)
    sel = select_indexes([*STMTS, upd], [C, D], cost, budget_bytes=10_000)
    assert [i.ddl for i in sel.chosen] == ["idx_c"]


def test_same_answer_twice() -> None:
    first = select_indexes(STMTS, [D, C, AB, A], table_cost, budget_bytes=300)
    second = select_indexes(STMTS, [A, AB, C, D], table_cost, budget_bytes=300)
    assert [i.ddl for i in first.chosen] == [i.ddl for i in second.chosen]


def test_a_wider_index_replaces_its_prefix_chosen_earlier() -> None:
    # q_join only gets cheaper with both idx_ab and idx_c, so in round one idx_a and idx_ab tie
    # (and idx_a, smaller, wins in both orders); once idx_c is in, idx_ab can only come in by
    # replacing idx_a, never beside it.
    def cost(sql: str, ix: frozenset[str], generic: bool) -> float:
        if sql == "q_a":
            return 10.0 if ix & {"idx_a", "idx_ab"} else 1000.0
        if sql == "q_c":
            return 5.0 if "idx_c" in ix else 500.0
        return 100.0 if {"idx_ab", "idx_c"} <= ix else 1000.0

    stmts = [Stmt("q_a", "q_a", 1.0, frozenset({"s.t"})),
             Stmt("q_c", "q_c", 1.0, frozenset({"s.u"})),
             Stmt("q_join", "q_join", 1.0, frozenset({"s.t", "s.u"}))]
    sel = select_indexes(stmts, [A, AB, C], cost, budget_bytes=10_000)
    assert sorted(i.ddl for i in sel.chosen) == ["idx_ab", "idx_c"]
    assert sel.cost_after == pytest.approx(10 + 5 + 100)
    tight = select_indexes(stmts, [A, AB, C], cost, budget_bytes=AB.size + C.size - 1)
    assert sorted(i.ddl for i in tight.chosen) == ["idx_a", "idx_c"]  # the swap must fit too
