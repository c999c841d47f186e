"""What-if costing on a real server, hypopg (PostgreSQL 15 + HypoPG) and build (PostgreSQL 18)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.advisor.existing import covers, existing_indexes, judge_existing, made_redundant
from workbench.advisor.whatif import WhatIf
from workbench.connect import connect
from workbench.indexes import invalid_indexes

IDX = "CREATE INDEX CONCURRENTLY wb_t_k_idx ON app.t (k)"
QUERY = "SELECT * FROM app.t WHERE k = 7"


def _make_table(dsn: str) -> None:
    with connect(dsn) as conn:
        conn.execute("CREATE SCHEMA app")
        conn.execute("CREATE TABLE app.t AS SELECT g AS id, g % 1000 AS k, md5(g::text) AS pad "
                      "FROM generate_series(1, 50000) g")
        conn.execute("ANALYZE app.t")


def _exercise(whatif: WhatIf) -> None:
    before = whatif.cost(QUERY, frozenset())
    after = whatif.cost(QUERY, frozenset({IDX}))
    assert after < before / 5
    assert whatif.cost(QUERY, frozenset()) == before  # the set is gone again, and cached
    generic = whatif.cost("SELECT * FROM app.t WHERE k = $1", frozenset({IDX}), generic=True)
    assert generic < before / 5
    assert 100_000 < whatif.size(IDX) < 10_000_000
    assert whatif.calls == 3


def test_build_mode_leaves_nothing_behind(fresh_db: str) -> None:
    _make_table(fresh_db)
    with WhatIf(fresh_db, method="auto") as whatif:
        assert whatif.method == "build"
        _exercise(whatif)
    with connect(fresh_db) as conn:
        assert [ix.name for ix in existing_indexes(conn)] == []
        assert invalid_indexes(conn) == []


def test_hypopg_mode_on_postgresql_15(fresh_db15: str) -> None:
    if not Path("/usr/share/postgresql/15/extension/hypopg.control").exists():
        pytest.skip("postgresql-15-hypopg is not installed")
    _make_table(fresh_db15)
    with WhatIf(fresh_db15, method="auto") as whatif:
        assert whatif.method == "hypopg"
        _exercise(whatif)
    with connect(fresh_db15) as conn:
        assert existing_indexes(conn) == []


def test_existing_index_judgement(fresh_db: str) -> None:
    _make_table(fresh_db)
    with connect(fresh_db) as conn:
        conn.execute("ALTER TABLE app.t ADD PRIMARY KEY (id)")
        conn.execute("CREATE INDEX t_k ON app.t (k)")
        conn.execute("CREATE INDEX t_k_again ON app.t (k)")
        conn.execute("CREATE INDEX t_k_id ON app.t (k, id)")
        conn.execute("CREATE INDEX t_pad_part ON app.t (pad) WHERE k = 1")
        indexes = existing_indexes(conn)
    by_name = {ix.name: ix for ix in indexes}
    assert by_name["t_k_id"].columns == ("k", "id")
    assert by_name["t_pad_part"].predicate == "k = 1"
    assert by_name["t_pkey"].backs_constraint
    report = judge_existing(indexes)
    redundant = {r["index"]: r["reason"] for r in report.redundant}
    assert redundant == {
        "app.t_k": "prefix of app.t_k_id (k, id)",
        "app.t_k_again": "duplicate of app.t_k",
    }
    assert "app.t_pkey" not in {u["index"] for u in report.unused}
    assert "app.t_k_id" in {u["index"] for u in report.unused}
    assert covers(by_name["t_k_id"], "btree", ("k",))
    assert not covers(by_name["t_k_id"], "btree", ("id",))
    assert not covers(by_name["t_pad_part"], "btree", ("pad",))
    assert [ix.name for ix in made_redundant(indexes, "app.t", "btree", ("k", "id", "pad"))] == [
        "t_k", "t_k_again", "t_k_id"]
