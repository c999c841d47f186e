"""The importer's pure parts: statements to scripts, the distinct-count estimator, integer domains.

No server: a catalog of two tables is built from hand-written statistics.
"""

from __future__ import annotations

import random

import pytest

from workbench.importer.estimate import expected_estimate, solve
from workbench.importer.generate import position_sql, primes
from workbench.importer.models import (
    UNIT,
    array_literal,
    column_model,
    integer_domain,
    order_from,
)
from workbench.importer.source import ColumnStats, SourceColumn, SourceStatement, SourceTable
from workbench.importer.statements import (
    Catalog,
    NotParameterizable,
    parameterize,
    referenced_tables,
    repair,
)


def _numbers(values, kind):
    return [float(v) for v in values]


def _column(name, base="int8", category="N", stats=None, not_null=True):
    type_sql = {"int8": "bigint", "int4": "integer", "text": "text",
                "timestamptz": "timestamp with time zone"}[base]
    return SourceColumn(name, type_sql, base, category, False, not_null, stats=stats)


@pytest.fixture
def catalog() -> Catalog:
    ids = ColumnStats(0.0, 8, -1.0, histogram=[str(i) for i in range(1, 1002, 10)],
                      histogram_array="{" + ",".join(str(i) for i in range(1, 1002, 10)) + "}")
    status = ColumnStats(0.0, 8, 3.0, mcv=["done", "new", "paid"], mcv_array="{done,new,paid}",
                         mcf=[0.8, 0.15, 0.05])
    customer = ColumnStats(0.0, 8, -0.2, mcv=["7"], mcv_array="{7}", mcf=[0.1],
                           histogram=[str(i) for i in range(1, 202, 2)],
                           histogram_array="{" + ",".join(str(i) for i in range(1, 202, 2)) + "}")
    email = ColumnStats(0.0, 20, -1.0, histogram=[f"c{i}@x" for i in range(101)],
                        histogram_array="{" + ",".join(f"c{i}@x" for i in range(101)) + "}")
    created = ColumnStats(0.0, 8, -1.0, histogram=[str(1.7e9 + i * 1000) for i in range(101)],
                          histogram_array="{}", correlation=1.0)
    orders = SourceTable("shop", "orders", 1, 1000, 10, 81920, unique=[("id",)], columns=[
        _column("id", stats=ids), _column("status", "text", "S", status),
        _column("customer_id", stats=customer), _column("created_at", "timestamptz", "D", created),
        _column("total", "int4", stats=customer)])
    customers = SourceTable("shop", "customers", 2, 200, 2, 16384,
                            unique=[("id",), ("email",)], columns=[
                                _column("id", stats=ids), _column("email", "text", "S", email)])
    tables = {t.qualified: t for t in (orders, customers)}
    models = {t.qualified: {c.name: column_model(t, c, (c.name,) in t.unique, _numbers)
                            for c in t.columns} for t in tables.values()}
    return Catalog(tables, models, {k: f"n_{t.name}" for k, t in tables.items()})


def _plan(catalog: Catalog, text: str, types: list[str] | None = None):
    statement = SourceStatement(1, text, 10, 1.0, 0.1, 10)
    return parameterize(statement, catalog, "q01", lambda _: types or [])


def test_typed_literal_parameters_are_written_as_casts() -> None:
    assert repair("a >= timestamptz $1 + $2 * interval $3 AND d = date $4") == \
        "a >= $1::timestamptz + $2 * $3::interval AND d = $4::date"
    assert repair("x = $1 AND $2") == "x = $1 AND $2"  # no type name: left alone


def test_equality_draws_from_the_column_hot_values_by_u(catalog: Catalog) -> None:
    plan = _plan(catalog, "SELECT id FROM shop.orders WHERE status = $1 LIMIT $2")
    roles = {p.role: p for p in plan.placeholders}
    assert roles["draw"].sql == "synthetic.orders__status(:u1, :p1, :n_orders)"
    assert roles["draw"].source == [1] and roles["fixed"].sql == "10"
    assert "\\set u1 random(0, 999999)" in plan.sets
    assert plan.sql.endswith("LIMIT 10")
    assert plan.service == "shop" and plan.tables == ["shop.orders"]


def test_a_parameter_only_expression_is_one_value_of_the_column(catalog: Catalog) -> None:
    plan = _plan(catalog, "SELECT id FROM shop.customers WHERE email = $1 || $2 || $3")
    (draw,) = plan.placeholders
    assert draw.source == [1, 2, 3] and draw.column == "shop.customers.email"
    # unique email, no common values: u is not drawn
    assert plan.sets == ["\\set p1 random(0, :n_customers - 1)"]


def test_both_ends_of_a_range_come_from_one_bucket(catalog: Catalog) -> None:
    plan = _plan(catalog, "SELECT count(*) FROM shop.orders o WHERE o.created_at >= "
                          "timestamptz $1 + $2 * interval $3 AND o.created_at < $4::timestamptz")
    low, high = plan.placeholders
    assert (low.role, high.role) == ("range-low", "range-high")
    assert low.source == [1, 2, 3] and high.source == [4]
    assert "\\set lo1 :b1 * :n_orders / 100" in plan.sets
    assert ":hi1" in high.sql and f"({UNIT}," in high.sql


def test_in_lists_between_and_any(catalog: Catalog) -> None:
    plan = _plan(catalog, "SELECT 1 FROM shop.orders WHERE status IN ($1, $2) "
                          "AND total BETWEEN $3 AND $4 AND customer_id = ANY($5)")
    roles = [p.role for p in plan.placeholders]
    assert roles.count("draw") == 3 and roles.count("range-low") == 1
    assert plan.placeholders[-1].sql.startswith("ARRAY[synthetic.orders__customer_id(")


def test_writes_draw_values_and_unique_columns_get_new_ones(catalog: Catalog) -> None:
    plan = _plan(catalog, "INSERT INTO shop.customers (id, email) VALUES ($1, $2)")
    assert [p.role for p in plan.placeholders] == ["fresh", "fresh"]
    assert "\\set p1 :n_customers + random(0, 999999999)" in plan.sets
    plan = _plan(catalog, "UPDATE shop.orders SET status = $1, total = total - $2 WHERE id = $3",
                 ["text", "integer", "bigint"])
    assert [p.role for p in plan.placeholders] == ["draw", "neutral", "draw"]
    assert "total = total - 1" in plan.sql


def test_insert_select_resolves_columns_in_the_select_scope(catalog: Catalog) -> None:
    plan = _plan(catalog, "INSERT INTO shop.orders (customer_id, status) SELECT $1, $2 "
                          "FROM shop.customers WHERE id = $3")
    assert [p.column for p in plan.placeholders] == \
        ["shop.orders.customer_id", "shop.orders.status", "shop.customers.id"]


def test_unqualified_tables_are_qualified_and_ambiguous_columns_refused(catalog: Catalog
                                                                        ) -> None:
    plan = _plan(catalog, "SELECT o.id FROM orders o WHERE o.status = $1")
    assert "FROM shop.orders AS o" in plan.template
    with pytest.raises(NotParameterizable, match=r"\$1 is not compared with a column"):
        _plan(catalog, "SELECT 1 FROM shop.orders o JOIN shop.customers c ON c.id = o.id "
                       "WHERE id = $1")


@pytest.mark.parametrize(("text", "reason"), [
    ("SELECT 1 FROM shop.orders WHERE id + $1 > 3", r"\$1 is not compared with a column"),
    ("SELECT 1 FROM other.t WHERE id = $1", "reads other.t, which is not imported"),
    ("SELECT x.f($1) FROM shop.orders", "calls x.f, which is not in the imported schemas"),
    ("VACUUM shop.orders", "Vacuum is not a query"),
    ("SELECT $1 FROM shop.orders", r"\$1 \(unknown type\) only computes an output"),
])
def test_reasons_for_statements_left_out(catalog: Catalog, text: str, reason: str) -> None:
    with pytest.raises(NotParameterizable, match=reason):
        _plan(catalog, text)


def test_referenced_tables_only_for_queries(catalog: Catalog) -> None:
    assert referenced_tables("SELECT * FROM shop.orders JOIN customers USING (id)", catalog) == \
        ["shop.orders", "shop.customers"]
    assert referenced_tables("VACUUM shop.orders", catalog) == []
    assert referenced_tables("SELECT * FROM pg_class", catalog) == []
    assert referenced_tables("SELEC nonsense", catalog) is None


def test_the_script_lists_every_parameter_in_order(catalog: Catalog) -> None:
    plan = _plan(catalog, "SELECT id FROM shop.orders WHERE customer_id = $1 LIMIT $2")
    script = plan.script().splitlines()
    assert script[1] == "-- source: SELECT id FROM shop.orders WHERE customer_id = $1 LIMIT $2"
    assert script[2].startswith("-- $1: drawn from shop.orders.customer_id")
    assert script[3].startswith("-- $2: 10")
    assert script[-1].endswith("LIMIT 10;")


# -- models ----------------------------------------------------------------------------------------


def test_order_from_correlation() -> None:
    assert order_from(None) == 1 and order_from(0.999) == 0 and order_from(-1.0) == -1
    assert order_from(0.3) == 1 and order_from(0.9) == 3 and order_from(-0.9) == -3


@pytest.mark.parametrize("order", [0, -1, 1, 3, -4])
def test_positions_are_a_permutation_of_the_rows(order: int) -> None:
    """position_sql rendered in Python arithmetic: every row gets a distinct position."""
    rows, seed_offset = 1003, 17
    prime = primes(1)[0]
    text = position_sql(order, prime, 5).replace(
        "floor(workbench.u(5, 7, :seed) * :rows)::bigint", str(seed_offset))
    text = text.replace(":rows", str(rows)).replace("::bigint", "").replace("/", "//")
    text = text.replace("least", "min").replace("ceil(1003 // ", "-(-1003 // ")
    text = text.replace(".0)", ")")
    positions = sorted(eval(text, {"g": g, "min": min}) for g in range(1, rows + 1))  # noqa: S307
    assert positions == list(range(rows))


def test_array_literal_quotes_every_element() -> None:
    assert array_literal(["a", 'b"c', "d\\e", "x,y"]) == '{"a","b\\"c","d\\\\e","x,y"}'


def test_integer_domain_skips_common_values_and_counts_the_rest() -> None:
    stats = ColumnStats(0.0, 4, 40.0, mcv=["3", "4", "9"], mcv_array="{3,4,9}",
                        mcf=[0.2, 0.2, 0.1], histogram=["1", "5", "12"], histogram_array="")
    table = SourceTable("s", "t", 1, 1000, 1, 1, columns=[_column("v", "int4", stats=stats)])
    model = column_model(table, table.columns[0], False, _numbers)
    domain = model.domain
    assert domain is not None and domain.bounds == [1, 5, 12]
    # integers 1..12 without 3, 4, 9: buckets [1, 5) -> 1, 2 and [5, 12] -> 5..8, 10, 11, 12
    assert domain.available == [2, 7]
    others = [x for x in range(1, 13) if x not in (3, 4, 9)]
    for rank, value in enumerate(others):  # the k-th non-common integer, as integer_at finds it
        assert domain.bounds[0] + rank + sum(1 for t in domain.skips if t <= rank) == value
    assert integer_domain(model, stats, _numbers, 1000) is not None


def test_estimate_matches_a_simulated_analyze_sample() -> None:
    """The expected Haas-Stokes estimate against ANALYZE's formula on real random samples."""
    rng = random.Random(7)
    rows, sample, values = 60_000, 30_000, 5_000
    table = [rng.randrange(values) if rng.random() < 0.3 else -1 for _ in range(rows)]
    estimates = []
    for _ in range(5):
        seen: dict[int, int] = {}
        for v in rng.sample(table, sample):
            seen[v] = seen.get(v, 0) + 1
        d, f1 = len(seen), sum(1 for c in seen.values() if c == 1)
        estimates.append(sample * d / (sample - f1 + f1 * sample / rows))
    common = [0.7 * rows]  # the value -1
    expected = expected_estimate(common, [(values, rows / values)], 0.3, rows, sample)
    assert abs(expected - sum(estimates) / 5) / expected < 0.03
    # more slots, higher estimate: solve() finds the slots for a target estimate
    slots = solve(lambda d: expected_estimate(common, [(d, rows / d)], 0.3, rows, sample),
                  expected, 1, rows)
    assert abs(slots - values) / values < 0.01
