"""What-if costing on a real server, hypopg (PostgreSQL 15 + HypoPG) and build (PostgreSQL 18)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.advisor.existing import existing_indexes
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
