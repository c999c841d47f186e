"""The IPython extension in a real kernel: tests/notebooks/sql-and-explain.ipynb executed on a
loaded shop database, its outputs checked; parameter binding cases; errors as one line."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from workbench.connect import connect
from workbench.errors import WorkbenchError
from workbench.magics import bind_parameters
from workbench.plans.viewer import SCRIPT_ID

NOTEBOOK = Path(__file__).parent / "notebooks" / "sql-and-explain.ipynb"


@pytest.fixture(scope="module")
def shop_db(server_dsn: str) -> Iterator[str]:
    from workbench.databases import drop_database
    from workbench.loader import load

    name = f"wbtest_magics_{uuid.uuid4().hex[:8]}"
    load("shop", scale=0.1, seed=42, database=name, dsn=server_dsn, progress=False)
    yield name
    drop_database(name, server_dsn)


@pytest.fixture(scope="module")
def executed(shop_db: str) -> dict[str, Any]:
    """The notebook's code cells by their first line, after a run on ``shop_db``."""
    from workbench.reports import execute_notebook

    nb = execute_notebook(NOTEBOOK, {"database": shop_db}, timeout=300)
    return {c.source.splitlines()[0] + ("" if c.source.count("\n") < 1 else
                                        " | " + c.source.splitlines()[1]): c
            for c in nb.cells if c.cell_type == "code"}


def _cell(executed: dict[str, Any], start: str) -> Any:
    found = [c for key, c in executed.items() if key.startswith(start)]
    assert len(found) == 1, (start, list(executed))
    return found[0]


def _text(cell: Any) -> str:
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif "data" in out:
            parts.append(out.data.get("text/plain", ""))
    return "\n".join(parts)


def _html(cell: Any) -> str:
    return "".join(o.data.get("text/html", "") for o in cell.outputs if "data" in o)


def test_status_line_names_server_database_dataset_and_scale(executed: dict[str, Any],
                                                             shop_db: str) -> None:
    line = _text(_cell(executed, "%workbench"))
    assert "embedded PostgreSQL 18" in line and "127.0.0.1:" in line
    assert f"database {shop_db} | dataset shop, scale 0.1, seed 42" in line


def test_sql_cell_binds_python_variables_as_parameters(executed: dict[str, Any],
                                                        server_dsn: str, shop_db: str) -> None:
    with connect(server_dsn, database=shop_db) as conn:
        email = conn.execute("SELECT email FROM accounts.customers WHERE id = 17").fetchone()[0]
        customers = conn.execute("SELECT count(*) FROM accounts.customers").fetchone()[0]
    rows = _text(_cell(executed, "%%sql | SELECT id, email")).splitlines()
    assert rows[1].split() == ["0", "17", email]
    # Formatted into the SQL, this value would match every customer; bound, it matches none.
    assert customers > 0
    assert _text(_cell(executed, "%%sql | SELECT count(*) AS matched")).split() == ["matched", "0", "0"]


def test_sql_cell_caps_the_rows_and_says_so(executed: dict[str, Any]) -> None:
    cell = _cell(executed, "%%sql --limit 5")
    text = _text(cell)
    assert "showing the first 5 rows" in text
    assert [line.split() for line in text.splitlines()[-5:]] == [
        [str(i), str(i + 1), str((i + 1) % 2)] for i in range(5)]  # and % is the operator


def test_explain_cell_shows_the_viewer_with_hints(executed: dict[str, Any]) -> None:
    cell = _cell(executed, "%%explain | SELECT * FROM orders.orders")
    html = _html(cell)
    assert 'class="wb-plan"' in html and "wb-plan-data" in html
    assert "seq-scan-filter" in html and "Seq Scan on orders.orders" in _text(cell)
    # The value went to the server as a parameter (psycopg sends a small int as int2): a value
    # formatted into the text would read (orders.customer_id = 17).
    assert "(orders.customer_id = '17'::smallint)" in html
    # The viewer's script is on the page once: with %load_ext, not again with the plans.
    everything = "".join(_html(c) for c in executed.values())
    assert everything.count(f'<script id="{SCRIPT_ID}">') == 1
    assert f'<script id="{SCRIPT_ID}">' in _html(_cell(executed, "%load_ext workbench"))


def test_explain_analyzes_writes_and_rolls_them_back(executed: dict[str, Any], server_dsn: str,
                                                      shop_db: str) -> None:
    assert _text(_cell(executed, "%%sql | SELECT note IS DISTINCT")).split() == [
        "rolled_back", "0", "True"]
    assert _text(_cell(executed, "print(update_plan")).split() == ["True", "False"]
    with connect(server_dsn, database=shop_db) as conn:
        assert conn.execute("SELECT note FROM orders.orders WHERE id = 1").fetchone()[0] \
            != "changed by explain"
        assert conn.execute("SELECT count(*) FROM orders.orders WHERE id = 2").fetchone()[0] == 1


def test_errors_show_as_the_clis_one_line(executed: dict[str, Any]) -> None:
    errors = [o for o in _cell(executed, "%%sql | SELECT * FROM no_such_table").outputs
              if o.output_type == "error"]
    assert len(errors) == 1
    assert errors[0].traceback == ['workbench: error: the server refused the SQL: relation '
                                   '"no_such_table" does not exist (fix the statement)']


@pytest.mark.parametrize("sql, namespace, query, params", [
    ("SELECT :a", {"a": 1}, "SELECT %(a)s", {"a": 1}),
    ("SELECT :a, :a", {"a": 1}, "SELECT %(a)s, %(a)s", {"a": 1}),
    ("SELECT x::int, ':a', \":a\"", {}, "SELECT x::int, ':a', \":a\"", {}),
    ("SELECT 1 -- :a\n/* :a */", {}, "SELECT 1 -- :a\n/* :a */", {}),
    ("SELECT $$ :a $$, $t$ :a $t$", {}, "SELECT $$ :a $$, $t$ :a $t$", {}),
    ("SELECT E'it\\'s :a', 'it''s :a'", {}, "SELECT E'it\\'s :a', 'it''s :a'", {}),
    ("SELECT 5 % 2, '100%', :p", {"p": "x%"}, "SELECT 5 %% 2, '100%%', %(p)s", {"p": "x%"}),
    ("SELECT ARRAY[1,2][1:2]", {}, "SELECT ARRAY[1,2][1:2]", {}),
    ("SELECT 5 % 2, '100%'", {}, "SELECT 5 % 2, '100%'", {}),
])
def test_bind_parameters(sql: str, namespace: dict[str, Any], query: str,
                         params: dict[str, Any]) -> None:
    assert bind_parameters(sql, namespace) == (query, params)


@pytest.mark.parametrize("sql, message", [
    ("SELECT :missing", "no Python variable named 'missing'"),
    ("SELECT {{value}}", "templates would paste values"),
])
def test_bind_parameters_refuses(sql: str, message: str) -> None:
    with pytest.raises(WorkbenchError, match=message):
        bind_parameters(sql, {"value": 1})


def test_render_traceback_is_the_cli_line() -> None:
    err = WorkbenchError("no dataset 'shp'", "one of: shop, events")
    assert err._render_traceback_() == ["workbench: error: no dataset 'shp' (one of: shop, events)"]
