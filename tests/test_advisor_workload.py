"""Reading workload SQL: column uses by kind (a golden table), weights of a --queries file, and the
advisor modules' docstring examples."""

from __future__ import annotations

import doctest
import importlib

import pytest

from workbench.advisor.workload import read_queries, read_statement
from workbench.errors import WorkbenchError

# (sql, (table, column, use) triples that must be read, substrings of the unindexable notes)
CASES = [
    ("SELECT id FROM a.c WHERE lower(email) = :e",
     {("a.c", "(lower(email))", "equality"), ("a.c", "email", "expression_ref")}, []),
    ("SELECT c.id FROM a.c c WHERE lower(c.email) = 'Ann@example.com'",
     {("a.c", "(lower(email))", "equality")}, []),
    # the statement's own text, not sqlglot's DATE_TRUNC('DAY', ...), which the index would not match
    ("SELECT id FROM a.o o WHERE date_trunc('day', o.at) = '2024-01-01'",
     {("a.o", "(date_trunc('day', at))", "equality")}, []),
    ("SELECT id FROM a.e WHERE payload ->> 'kind' = 'click'",
     {("a.e", "(payload ->> 'kind')", "equality"), ("a.e", "payload", "expression_ref")}, []),
    ("SELECT id FROM a.o WHERE status = 'pending' ORDER BY created_at LIMIT 20",
     {("a.o", "status", "constant"), ("a.o", "status", "equality"),
      ("a.o", "created_at", "order_by")}, []),
    ("SELECT id FROM a.l WHERE NOT archived AND returned_at IS NULL AND due IS NOT NULL",
     {("a.l", "archived", "constant"), ("a.l", "returned_at", "is_null"),
      ("a.l", "due", "is_not_null")}, []),
    ("SELECT id FROM a.l WHERE active", {("a.l", "active", "constant")}, []),
    ("SELECT id FROM a.o WHERE status <> 'delivered'", {("a.o", "status", "constant_neq")}, []),
    ("SELECT id FROM a.t WHERE x = 1 OR y = 2", set(), ["OR of conditions"]),
    ("SELECT id FROM a.t WHERE x = y", set(), ["two columns of the same table"]),
    ("SELECT id FROM a.t WHERE x > y", set(), ["a comparison between columns"]),
    ("SELECT id FROM a.r WHERE name ILIKE '%piz%' AND code LIKE 'AB%' AND note LIKE '%late'",
     {("a.r", "name", "pattern"), ("a.r", "code", "like_prefix"), ("a.r", "note", "pattern")}, []),
    ("SELECT id FROM a.r WHERE name ~ 'x+y'", {("a.r", "name", "pattern")}, []),
    ("SELECT id FROM a.r WHERE tags && ARRAY['vegan'] AND tags @> ARRAY['x'] AND doc ? 'k'",
     {("a.r", "tags", "overlaps"), ("a.r", "tags", "contains"), ("a.r", "doc", "contains")}, []),
    ("SELECT id FROM a.r WHERE during <@ tstzrange(now(), now())",
     {("a.r", "during", "contained")}, []),
    ("SELECT id FROM a.p ORDER BY pos <-> point(1, 2) LIMIT 3", {("a.p", "pos", "distance")}, []),
    ("SELECT o.id FROM a.o o JOIN a.c c ON c.id = o.customer_id WHERE c.country = :cc",
     {("a.o", "customer_id", "join"), ("a.c", "id", "join"), ("a.c", "country", "equality")}, []),
    ("UPDATE a.o SET status = 'shipped', updated_at = now() WHERE id = $1 AND status = 'paid'",
     {("a.o", "id", "equality"), ("a.o", "status", "constant"), ("a.o", "status", "set"),
      ("a.o", "updated_at", "set")}, []),
]


@pytest.mark.parametrize(("sql", "expected", "unindexable"), CASES)
def test_column_uses(sql: str, expected: set[tuple[str, str, str]], unindexable: list[str]) -> None:
    stmt = read_statement("s", sql)
    assert stmt.error is None
    assert expected <= {(u.table, u.column, u.use) for u in stmt.uses}
    for text in unindexable:
        assert any(text in note for note in stmt.unindexable), stmt.unindexable
    if not unindexable:
        assert stmt.unindexable == []


def test_update_written_columns_and_expression_refs() -> None:
    upd = read_statement("u", "UPDATE a.o SET status = 'x', qty = qty - 1 WHERE id = 1")
    assert upd.written_columns() == {"status", "qty"}
    ins = read_statement("i", "INSERT INTO a.o (status, qty) VALUES ('x', 1)")
    assert ins.written_columns() == frozenset()  # an INSERT is not a HOT question
    expr = read_statement("e", "SELECT 1 FROM a.t WHERE (a + b) > 3").on("a.t", "range")
    assert [(u.column, u.refs) for u in expr] == [("(a + b)", ("a", "b"))]


def test_queries_file_weights() -> None:
    text = ("-- sign-in\nSELECT 1;\n-- weight: 40\nSELECT 2;\nSELECT 3;\n"
            "  --  Weight:0.25 (per minute)\nSELECT ';-- weight: 9';\n")
    assert read_queries(text, "q") == [
        ("q.1", "SELECT 1", 1.0), ("q.2", "SELECT 2", 40.0), ("q.3", "SELECT 3", 1.0),
        ("q.4", "SELECT ';-- weight: 9'", 0.25)]


@pytest.mark.parametrize("bad", ["0", "-3", "many", ""])
def test_bad_weight_comment_is_a_clear_error(bad: str) -> None:
    with pytest.raises(WorkbenchError, match="bad weight comment"):
        read_queries(f"-- weight: {bad}\nSELECT 1;")


@pytest.mark.parametrize("module", ["workload", "columns", "existing", "writes", "select"])
def test_docstring_examples_run(module: str) -> None:
    mod = importlib.import_module(f"workbench.advisor.{module}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_the_benchmark_workload_reads_cleanly() -> None:
    """bench/datasets/delivery is only loaded by `make bench`: its manifest and every statement
    must at least read here."""
    from pathlib import Path

    from workbench.datasets import get_dataset
    from workbench.plans.capture import workload_statements

    folder = Path(__file__).resolve().parents[1] / "bench" / "datasets" / "delivery"
    dataset = get_dataset(folder)
    assert {s.service for s in dataset.scripts} == {s.name for s in dataset.services}
    statements = [read_statement(n, s) for n, s, _ in workload_statements(folder, draws=1)]
    assert len(statements) == len(dataset.scripts) and not [s for s in statements if s.error]
    assert {s.kind for s in statements} == {"select", "insert", "update"}
