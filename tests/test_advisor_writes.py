"""The HOT-aware write cost model, on hand-made statements and indexes (no server needed)."""

from __future__ import annotations

import pytest

from workbench.advisor.select import Item, Stmt
from workbench.advisor.writes import INDEX_WRITE_COST, NON_HOT_HEAP_COST, TableIndex, WriteModel

BT = INDEX_WRITE_COST["btree"]
PKEY = TableIndex("inventory_pkey", "btree", frozenset({"product_id"}))
UPDATE_QTY = Stmt("checkout.1", "UPDATE ...", 10.0, frozenset({"c.inventory"}), writes="c.inventory",
                  kind="update", rows_written=1, columns_written=frozenset({"quantity",
                                                                            "updated_at"}))
INSERT = Stmt("ingest", "INSERT ...", 50.0, frozenset({"c.inventory"}), writes="c.inventory",
              kind="insert", rows_written=2)
DELETE = Stmt("purge", "DELETE ...", 1.0, frozenset({"c.inventory"}), writes="c.inventory",
              kind="delete", rows_written=100)


def item(name: str, columns: tuple[str, ...], reads: set[str] | None = None,
         method: str = "btree") -> Item:
    return Item(name, "c.inventory", columns, 8192, method,
                frozenset(reads) if reads is not None else None)


COVERING = item("inv_pid_incl_qty", ("product_id",), {"product_id", "quantity"})
WAREHOUSE = item("inv_warehouse", ("warehouse",))


def test_an_index_on_an_updated_column_charges_every_index_of_the_table() -> None:
    model = WriteModel([UPDATE_QTY], {"c.inventory": [PKEY]})
    # the update was HOT; now each call writes into the primary key and the new index, and the
    # new row version leaves its page
    assert model.cost([COVERING]) == pytest.approx(10 * (BT + BT + NON_HOT_HEAP_COST))
    assert model.cost([WAREHOUSE]) == 0.0  # the update stays HOT
    effect = model.hot_effects(COVERING)
    assert [(e["statement"], e["columns"], e["effect"], e["indexes"]) for e in effect] == [
        ("checkout.1", ["quantity"], "breaks", 2)]
    assert model.hot_effects(WAREHOUSE) == []


def test_predicate_and_expression_columns_count_as_read() -> None:
    partial = item("inv_wh_part", ("warehouse",), {"warehouse", "updated_at"})
    expression = item("inv_expr", ("(quantity * 2)",), {"quantity"})
    model = WriteModel([UPDATE_QTY], {"c.inventory": [PKEY]})
    assert model.cost([partial]) > 0 and model.cost([expression]) > 0


def test_an_update_already_non_hot_only_pays_the_new_entries() -> None:
    blocker = TableIndex("inventory_qty_idx", "btree", frozenset({"quantity"}))
    model = WriteModel([UPDATE_QTY], {"c.inventory": [PKEY, blocker]})
    assert model.cost([COVERING]) == pytest.approx(10 * BT)
    assert model.cost([WAREHOUSE]) == pytest.approx(10 * BT)
    assert model.hot_effects(COVERING)[0]["effect"] == "already"
    assert model.hot_effects(COVERING)[0]["blocked_by"] == ["inventory_qty_idx"]


def test_two_new_indexes_break_hot_once() -> None:
    other = item("inv_qty", ("quantity",))
    model = WriteModel([UPDATE_QTY], {"c.inventory": [PKEY]})
    both = model.cost([COVERING, other])
    assert both == pytest.approx(10 * (3 * BT + NON_HOT_HEAP_COST))
    shares = model.per_index([COVERING, other])
    assert shares == {"inv_pid_incl_qty": pytest.approx(10 * BT), "inv_qty": pytest.approx(10 * BT)}


def test_brin_keeps_updates_hot_from_postgresql_16() -> None:
    brin = item("inv_updated_brin", ("updated_at",), method="brin")
    assert WriteModel([UPDATE_QTY], {"c.inventory": [PKEY]}).cost([brin]) == 0.0
    old = WriteModel([UPDATE_QTY], {"c.inventory": [PKEY]}, summarizing_hot=False)
    assert old.cost([brin]) == pytest.approx(
        10 * (INDEX_WRITE_COST["brin"] + BT + NON_HOT_HEAP_COST))


def test_inserts_and_deletes_charge_every_new_index_per_row() -> None:
    gin = Item("inv_gin", "c.inventory", ("attrs",), 8192, "gin")
    model = WriteModel([INSERT, DELETE], {"c.inventory": [PKEY]})
    assert model.cost([WAREHOUSE, gin]) == pytest.approx(
        (50 * 2 + 1 * 100) * (BT + INDEX_WRITE_COST["gin"]))
    assert model.cost([Item("elsewhere", "c.other", ("x",), 1)]) == 0.0
