"""Existing indexes judged safely, on a real server: what is never a drop candidate, foreign keys
and the statements that need them, INVALID indexes, duplicates compared on everything that
matters, the statistics period, and indexes that make updates non-HOT."""

from __future__ import annotations

import datetime as dt

import pytest

from workbench.advisor.existing import (
    StatisticsPeriod,
    covers,
    existing_indexes,
    foreign_keys,
    judge_existing,
    made_redundant,
    statistics_period,
)
from workbench.advisor.workload import read_statement
from workbench.connect import connect

SCHEMA = """
CREATE SCHEMA app;
CREATE TABLE app.parents (id bigint PRIMARY KEY, code text NOT NULL,
                          CONSTRAINT parents_code_key UNIQUE (code));
CREATE TABLE app.owners (id bigint PRIMARY KEY, name text);
CREATE TABLE app.children (
    id bigint PRIMARY KEY, parent_id bigint NOT NULL REFERENCES app.parents (id),
    owner_id bigint REFERENCES app.owners (id), k int, qty int, pad text, during tstzrange,
    CONSTRAINT children_no_overlap EXCLUDE USING gist (during WITH &&));
INSERT INTO app.parents SELECT g, 'p' || g FROM generate_series(1, 100) g;
INSERT INTO app.owners SELECT g, 'o' || g FROM generate_series(1, 100) g;
INSERT INTO app.children SELECT g, 1 + g % 100, 1 + g % 100, g % 50, g % 7, md5(g::text),
       tstzrange(timestamptz '2024-01-01' + g * interval '1 hour',
                 timestamptz '2024-01-01' + (g + 1) * interval '1 hour')
  FROM generate_series(1, 2000) g;
CREATE INDEX children_parent_idx ON app.children (parent_id);
CREATE INDEX children_owner_idx ON app.children (owner_id);
CREATE UNIQUE INDEX children_pad_uniq ON app.children (pad);
CREATE INDEX children_k ON app.children (k);
CREATE INDEX children_k_again ON app.children (k);
CREATE INDEX children_k_qty ON app.children (k, qty);
CREATE INDEX children_k_hash ON app.children USING hash (k);
CREATE INDEX children_k_part ON app.children (k) WHERE qty > 0;
CREATE INDEX children_pad ON app.children (pad);
CREATE INDEX children_pad_pattern ON app.children (pad text_pattern_ops);
CREATE INDEX children_pad_posix ON app.children (pad COLLATE "POSIX");
CREATE INDEX children_lower_pad ON app.children (lower(pad));
CREATE INDEX children_lower_pad_too ON app.children ((lower(pad)));
CREATE INDEX children_qty_desc_k ON app.children (qty DESC, k);
CREATE INDEX children_qty ON app.children (qty);
"""

WORKLOAD = [
    ("del_parent", "DELETE FROM app.parents WHERE id = $1"),
    ("rekey_owner", "UPDATE app.owners SET name = $2 WHERE id = $1"),  # not its key
    ("bump_qty", "UPDATE app.children SET qty = qty + 1 WHERE id = $1"),
]


@pytest.fixture
def judged(fresh_db: str):
    with connect(fresh_db) as conn:
        conn.execute(SCHEMA)
        conn.execute("ANALYZE")
        with pytest.raises(Exception, match="could not create unique index"):
            conn.execute("CREATE UNIQUE INDEX CONCURRENTLY children_k_unique ON app.children (k)")
        indexes, fks, period = existing_indexes(conn), foreign_keys(conn), statistics_period(conn)
    statements = [read_statement(n, s) for n, s in WORKLOAD]
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    covered = StatisticsPeriod(long_ago.isoformat(), "statistics reset", 30.0)
    return indexes, fks, statements, period, judge_existing(
        indexes, statements=statements, fks=fks, period=covered)


def test_nothing_that_enforces_uniqueness_is_a_drop_candidate(judged) -> None:
    indexes, _, _, _, report = judged
    drop = set(report.drop_candidates())
    enforcing = {"app.parents_pkey", "app.parents_code_key", "app.children_pkey",
                 "app.children_no_overlap", "app.children_pad_uniq", "app.owners_pkey"}
    assert not enforcing & drop
    assert {e["index"]: e["enforces"] for e in report.enforces_uniqueness} == {
        "app.parents_pkey": "PRIMARY KEY", "app.parents_code_key": "UNIQUE constraint",
        "app.children_pkey": "PRIMARY KEY", "app.children_no_overlap": "EXCLUDE constraint",
        "app.children_pad_uniq": "unique index", "app.owners_pkey": "PRIMARY KEY"}
    assert all("enforces uniqueness" in e["reason"] for e in report.enforces_uniqueness)


def test_foreign_key_sides_and_the_statements_that_need_them(judged) -> None:
    _, fks, _, _, report = judged
    assert {(f.table, f.columns, f.references) for f in fks} == {
        ("app.children", ("parent_id",), "app.parents"),
        ("app.children", ("owner_id",), "app.owners")}
    sides = {f["index"]: f for f in report.foreign_keys}
    assert sides["app.children_parent_idx"]["needed_by"] == ["del_parent"]
    assert not sides["app.children_parent_idx"]["drop_candidate"]
    assert "needed by del_parent" in sides["app.children_parent_idx"]["reason"]
    # owners are updated, never deleted or re-keyed: unused for 30 days, it may go
    assert sides["app.children_owner_idx"]["needed_by"] == []
    assert sides["app.children_owner_idx"]["drop_candidate"]
    assert "app.children_parent_idx" not in report.drop_candidates()
    assert "app.children_owner_idx" in report.drop_candidates()


def test_invalid_indexes_are_reported(judged) -> None:
    _, _, _, _, report = judged
    assert [i["index"] for i in report.invalid] == ["app.children_k_unique"]
    assert "INVALID" in report.invalid[0]["reason"]


def test_duplicates_compare_method_opclass_collation_expression_and_predicate(judged) -> None:
    _, _, _, _, report = judged
    assert {r["index"]: r["reason"] for r in report.redundant} == {
        "app.children_k": "prefix of app.children_k_qty (k, qty)",
        "app.children_k_again": "duplicate of app.children_k",
        "app.children_lower_pad_too": "duplicate of app.children_lower_pad",
        "app.children_pad": "duplicate of app.children_pad_uniq",
        "app.children_qty": "prefix of app.children_qty_desc_k (qty, k)",  # read backwards
    }
    # hash, partial, text_pattern_ops and COLLATE "POSIX" versions of the same key all differ


def test_unused_only_over_a_stated_period(judged) -> None:
    indexes, fks, statements, period, report = judged
    assert report.statistics["covers_period"] and "30.0 days" in report.statistics["note"]
    assert {u["index"] for u in report.unused} >= {"app.children_k_hash", "app.children_k_part"}
    fresh = judge_existing(indexes, statements=statements, fks=fks, period=period)
    assert period.days < 1
    assert fresh.unused == [] and fresh.enforces_uniqueness == []
    assert not fresh.statistics["covers_period"]
    assert "so no index is called unused" in fresh.statistics["note"]
    assert not any(f["drop_candidate"] for f in fresh.foreign_keys)
    unknown = judge_existing(indexes, statements=statements, fks=fks, period=None)
    assert unknown.unused == [] and "unknown period" in unknown.statistics["note"]


def test_indexes_that_make_a_workload_update_non_hot(judged) -> None:
    _, _, _, _, report = judged
    blockers = {b["index"] for b in report.hot_blockers}
    assert blockers == {"app.children_k_qty", "app.children_k_part", "app.children_qty_desc_k",
                        "app.children_qty"}  # children_k_part: qty is in its predicate
    assert all(b["statements"] == ["bump_qty's UPDATE of children.qty"]
               for b in report.hot_blockers)


def test_covers_and_made_redundant_see_opclasses_and_expressions(judged) -> None:
    indexes = {ix.name: ix for ix in judged[0]}
    assert covers(indexes["children_lower_pad"], "btree", ("(lower(pad))",))
    assert not covers(indexes["children_pad_pattern"], "btree", ("pad",))
    assert covers(indexes["children_pad_pattern"], "btree", ("pad",), opclass=("text_pattern_ops",))
    assert not covers(indexes["children_k_part"], "btree", ("k",))
    assert covers(indexes["children_k_part"], "btree", ("k",), predicate="(qty > 0)")
    redundant = made_redundant(list(indexes.values()), "app.children", "btree", ("k", "qty", "id"))
    assert sorted(ix.name for ix in redundant) == ["children_k", "children_k_again",
                                                  "children_k_qty"]
