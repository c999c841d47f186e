"""Candidates of every kind and a verdict for every statement, on a small library schema: expression
and partial indexes from literal and parameterised statements, GIN (arrays, trigram), GiST, BRIN,
hash; HOT charges stated; HypoPG's gaps filled by a scratch copy (PostgreSQL 15 + HypoPG)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.advisor.advise import advise
from workbench.advisor.candidates import generate_candidates
from workbench.advisor.columns import read_column_facts
from workbench.advisor.existing import existing_indexes
from workbench.advisor.whatif import NOT_EVALUABLE
from workbench.advisor.workload import read_catalog, read_queries, read_statement
from workbench.connect import connect

HYPOPG = Path("/usr/share/postgresql/15/extension/hypopg.control")

SCHEMA = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE SCHEMA lib;
CREATE TABLE lib.members (id bigint PRIMARY KEY, email text NOT NULL, name text NOT NULL);
CREATE TABLE lib.loans (
    id bigint PRIMARY KEY, member_id bigint NOT NULL REFERENCES lib.members (id),
    status text NOT NULL, returned_at timestamptz, created_at timestamptz NOT NULL,
    note text NOT NULL, tags text[] NOT NULL, during tstzrange NOT NULL, token text NOT NULL);
INSERT INTO lib.members SELECT g, 'Member' || g || '@Example.com', 'Member ' || g
  FROM generate_series(1, 5000) g;
INSERT INTO lib.loans
SELECT g, 1 + (g * 7919) % 5000,
       CASE WHEN g % 200 = 0 THEN 'lost' WHEN g % 10 = 1 THEN 'open' ELSE 'returned' END,
       CASE WHEN g % 200 = 0 OR g % 10 = 1 THEN NULL
            ELSE timestamptz '2024-01-01' + g * interval '1 minute' + interval '14 days' END,
       timestamptz '2024-01-01' + g * interval '1 minute',
       CASE WHEN g % 97 = 0 THEN 'overdue reminder sent' ELSE 'book ' || g END,
       ARRAY['t' || g % 300],
       tstzrange(timestamptz '2024-01-01' + g * interval '1 minute',
                 timestamptz '2024-01-01' + g * interval '1 minute' + interval '14 days'),
       repeat(md5(g::text), 3)
  FROM generate_series(1, 30000) g;
"""

QUERIES = """\
-- weight: 20
SELECT id, name FROM lib.members WHERE lower(email) = 'member42@example.com';
-- weight: 20
SELECT id FROM lib.members WHERE lower(email) = lower($1);
-- weight: 10
SELECT id, created_at FROM lib.loans WHERE status = 'lost' ORDER BY created_at LIMIT 50;
-- weight: 10
SELECT id FROM lib.loans WHERE member_id = 4242 AND returned_at IS NULL;
-- weight: 3
SELECT id FROM lib.loans WHERE note LIKE '%overdue%';
-- weight: 3
SELECT id FROM lib.loans WHERE tags @> ARRAY['t7'];
SELECT id FROM lib.loans WHERE during && tstzrange('2024-01-10', '2024-01-11');
SELECT id FROM lib.loans WHERE token = 'abc';
SELECT count(*) FROM lib.loans WHERE created_at >= '2024-01-10' AND created_at < '2024-01-11';
SELECT count(*) FROM lib.loans WHERE returned_at > created_at + interval '20 days';
SELECT id FROM lib.loans WHERE status = 'returned' AND member_id = 12;
-- weight: 30
UPDATE lib.loans SET returned_at = now(), status = 'returned' WHERE id = $1;
"""
VERDICTS = {"improved", "plan_worse", "cost_already_low", "already_indexed", "no_indexable_predicate",
            "no_candidate_helps", "not_evaluable", "saving_below_minimum", "over_budget",
            "write_cost_exceeds_read_gain", "max_indexes", "not_chosen", "unreadable"}


def _library(dsn: str, tmp_path: Path) -> Path:
    with connect(dsn) as conn:
        conn.execute(SCHEMA)
        conn.execute("VACUUM ANALYZE")
    queries = tmp_path / "library.sql"
    queries.write_text(QUERIES)
    return queries


def test_candidates_of_every_kind(fresh_db: str, tmp_path: Path) -> None:
    _library(fresh_db, tmp_path)
    with connect(fresh_db) as conn:
        catalog, facts, existing = read_catalog(conn), read_column_facts(conn), existing_indexes(conn)
    statements = [read_statement(n, s, weight=w, catalog=catalog)
                  for n, s, w in read_queries(QUERIES, "q")]
    cset = generate_candidates(statements, existing, facts, trigram_opclass="public.gin_trgm_ops")
    got = {(c.table.split(".")[1], c.method, c.columns, c.where, c.opclass) for c in cset.candidates}
    # the expression, from the literal statement and from the parameterised one alike
    plain_expressions = [{c.ddl for c in cset.for_statement(q) if c.is_expression and not c.include}
                         for q in ("q.1", "q.2")]
    assert plain_expressions[0] == plain_expressions[1] != set()
    assert ("loans", "btree", ("created_at",), '"status" = \'lost\'', ()) in got
    assert ("loans", "btree", ("member_id",), '"returned_at" IS NULL', ()) in got
    assert ("loans", "gin", ("note",), None, ("public.gin_trgm_ops",)) in got
    assert ("loans", "gin", ("tags",), None, ()) in got
    assert ("loans", "gist", ("during",), None, ()) in got
    assert ("loans", "brin", ("created_at",), None, ()) in got
    assert ("loans", "hash", ("token",), None, ()) in got  # 96-byte keys
    # never an index for one member, nor a partial index on a value most rows have
    assert not [c for c in cset.candidates if c.where and ("4242" in c.where or "12" in c.where
                                                           or "returned'" in c.where)]
    assert any("member_id looks like a key" in n for n in cset.notes["q.4"] + cset.notes["q.11"])
    assert any("keeps 90% of the rows" in n for n in cset.notes["q.11"])
    partial = next(c for c in cset.candidates if c.where == '"status" = \'lost\'')
    assert "status" in partial.touches()  # its predicate column: updating it is not HOT
    no_trgm = generate_candidates(statements, existing, facts)
    assert not [c for c in no_trgm.candidates if c.opclass]
    assert any("CREATE EXTENSION pg_trgm" in n for n in no_trgm.notes["q.5"])


def _check_advice(advice) -> None:
    by_name = {v["name"]: v for v in advice.statements}
    assert set(by_name) == {f"library.{i}" for i in range(1, 13)}
    assert {v["verdict"] for v in advice.statements} <= VERDICTS
    assert [by_name[f"library.{i}"]["weight"] for i in (1, 2, 3, 12)] == [20, 20, 10, 30]
    assert all(v["reason"] for v in advice.statements)
    assert by_name["library.10"]["verdict"] == "no_indexable_predicate"
    assert "a comparison between columns" in by_name["library.10"]["reason"]
    recs = {(tuple(r.columns), r.where): r for r in advice.recommendations}
    expression = recs[(("(lower(email))",), None)]
    assert {s["name"] for s in expression.statements} == {"library.1", "library.2"}
    for key in ((("created_at",), '"status" = \'lost\''), (("member_id",), '"returned_at" IS NULL')):
        part = recs[key]  # each makes the frequent UPDATE non-HOT: charged, and worth it
        assert [h["statement"] for h in part.hot] == ["library.12"]
        assert any("makes library.12's UPDATE of lib.loans" in n and "non-HOT" in n
                   for n in part.notes)
        assert any(n.startswith("net benefit after the write charge") for n in part.notes)
        assert part.benefit_pct > 0 and part.read_benefit_pct > part.benefit_pct
    for rec in advice.recommendations:
        if rec.table == "lib.loans" and {"status", "returned_at"} & set(rec.reads):
            assert rec.hot and rec.benefit_pct > 0
    assert by_name["library.12"]["write_cost_added"] > 0


def test_advice_on_every_kind_with_a_verdict_for_every_statement(fresh_db: str,
                                                                 tmp_path: Path) -> None:
    queries = _library(fresh_db, tmp_path)
    advice = advise(queries=queries, dsn=fresh_db, budget_mb=100)
    assert advice.method == "build"
    _check_advice(advice)
    assert {r.method for r in advice.recommendations} >= {"btree", "gin"}


@pytest.mark.skipif(not HYPOPG.exists(), reason="postgresql-15-hypopg not installed")
def test_hypopg_gaps_are_built_on_a_scratch_copy(fresh_db15: str, tmp_path: Path) -> None:
    queries = _library(fresh_db15, tmp_path)
    advice = advise(queries=queries, dsn=fresh_db15, budget_mb=100)
    assert advice.method == "hypopg"
    _check_advice(advice)
    real = advice.evaluation["real_builds"]
    assert any("USING gin" in d for d in real) and any("USING gist" in d for d in real)
    assert any("lower(email)" in d for d in real)
    assert all("scratch copy" in advice.evaluation["notes"][d] for d in real)
    expression = next(r for r in advice.recommendations if r.columns == ["(lower(email))"])
    assert any("HypoPG keeps no statistics for expression indexes" in n for n in expression.notes)
    assert advice.not_evaluable == []
    with connect(fresh_db15) as conn:
        assert conn.execute("SELECT count(*) FROM pg_database "
                            "WHERE datname LIKE 'wb_scratch_%'").fetchone()[0] == 0


@pytest.mark.skipif(not HYPOPG.exists(), reason="postgresql-15-hypopg not installed")
def test_without_a_copy_gin_is_reported_not_evaluable(fresh_db15: str, tmp_path: Path) -> None:
    queries = _library(fresh_db15, tmp_path)
    with connect(fresh_db15):  # someone else is connected: PostgreSQL will not copy the database
        advice = advise(queries=queries, dsn=fresh_db15, budget_mb=100)
    failed = {n["ddl"]: n["reason"] for n in advice.not_evaluable}
    assert any("USING gin" in d for d in failed) and any("USING gist" in d for d in failed)
    assert all(r.startswith(NOT_EVALUABLE) for r in failed.values())
    by_name = {v["name"]: v for v in advice.statements}
    assert by_name["library.6"]["verdict"] == "not_evaluable"
    assert NOT_EVALUABLE in by_name["library.6"]["reason"]
    expression = next(r for r in advice.recommendations if r.columns == ["(lower(email))"])
    assert any("confirm with --validate" in n for n in expression.notes)
