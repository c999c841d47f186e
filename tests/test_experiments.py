"""Experiments end to end (short runs), offline reload, plots from the folder, reports."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from workbench import plots
from workbench.assertions import assert_faster, assert_latency_within, assert_plan_uses_index
from workbench.cli import main
from workbench.connect import connect
from workbench.databases import drop_database
from workbench.errors import WorkbenchError
from workbench.experiments import experiment, load_experiment, welch
from workbench.indexes import invalid_indexes
from workbench.reports import (
    execute_notebook,
    find_secrets,
    inject_parameters,
    parse_params,
    render_report,
)


@pytest.fixture(scope="module")
def exp_dir(server_dsn: str, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("exp") / "shop-exp"
    try:
        experiment("shop", scale=0.2, clients=2, jobs=2, duration=3, repeat=2,
                   database="wbtest_exp_shop", dsn=server_dsn, out=out, progress=False)
        yield out
    finally:
        drop_database("wbtest_exp_shop", server_dsn)


def test_experiment_folder_comparison_and_restored_state(exp_dir: Path, server_dsn: str) -> None:
    exp = load_experiment(exp_dir)
    assert exp.manifest["status"] == "complete" and exp.manifest["repeat"] == 2
    assert [r.out.name for r in exp.runs["before"]] == ["before", "before-2"]
    assert [r.out.name for r in exp.runs["after"]] == ["after", "after-2"]
    doc = exp.to_json()
    assert set(doc["change"]) == {"tps_pct", "p95_pct", "shared_read_pct"}
    assert doc["change"]["tps_pct"] > 0 and doc["change"]["p95_pct"] < 0
    assert doc["indexes"] and all(i["ddl"].startswith("CREATE INDEX CONCURRENTLY")
                                  for i in doc["indexes"])
    assert any(p["statement"] == "recent_orders" for p in doc["plans_changed"])
    assert doc["significance"]["samples"][0] >= 2
    assert [t["kind"] for t in exp.comparison["timeline"]] == ["run", "build", "run", "build", "run"] \
        or [t["kind"] for t in exp.comparison["timeline"]][:3] == ["run", "build", "run"]
    with connect(server_dsn, database="wbtest_exp_shop") as conn:
        names = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes")}
        assert not [n for n in names if n.startswith("wb_")]  # the original state is back
        assert invalid_indexes(conn) == []


def test_plots_and_assertions_work_offline(exp_dir: Path) -> None:
    exp = load_experiment(exp_dir)
    figures = [
        plots.latency_cdf(exp.before.transactions, exp.after.transactions),
        plots.percentiles_by_script(exp.comparison["before"], exp.comparison["after"]),
        plots.timeline([(r.out.name, r.transactions) for r in exp.runs["before"] + exp.runs["after"]],
                       [t for t in exp.comparison["timeline"] if t["kind"] == "build"]),
        plots.buffers_by_statement(exp.before.stats.frames["statements"],
                                   exp.after.stats.frames["statements"]),
        plots.buffers_by_table(exp.before.stats.frames["tables"], exp.after.stats.frames["tables"]),
        plots.plan_self_time(exp.plans_before.get("recent_orders").plan,
                             exp.plans_after.get("recent_orders").plan),
        plots.index_size_vs_benefit(exp.advice["recommendations"]),
        plots.waits_over_time(exp.before.waits),
    ]
    for fig in figures:
        assert fig.axes[0].get_title() or fig.get_suptitle()
        assert fig.axes[0].get_xlabel() or fig.axes[0].get_ylabel()
    cdf = figures[0].axes[0]
    assert [line.get_color() for line in cdf.get_lines()[:2]] == [plots.BEFORE_COLOR, plots.AFTER_COLOR]
    assert "log" in cdf.get_xlabel()
    assert plots.latency_summary(exp.before.transactions, exp.after.transactions).startswith(
        "p50: faster after")
    assert_faster(exp.comparison["before"], exp.comparison["after"], "tps")
    assert_plan_uses_index(exp.plans_after.get("recent_orders").plan, "orders.orders")
    with pytest.raises(AssertionError):
        assert_plan_uses_index(exp.plans_before.get("recent_orders").plan, "orders.orders")
    with pytest.raises(AssertionError):
        assert_latency_within(exp.comparison["after"], exp.comparison["before"], factor=1.0)


def test_report_of_an_experiment_is_self_contained_and_secret_free(
        exp_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_DSN_SECRET_PROBE", "postgresql://u:Pr0beSecret@h/db")
    out = tmp_path / "report.html"
    assert main(["report", str(exp_dir), "--html", str(out), "--no-input"]) == 0
    html = out.read_text()
    assert html.count("data:image/png;base64") >= 6
    assert "Pr0beSecret" not in html and find_secrets(html) == []
    assert "PostgreSQL 18" in html and "CPUs" in html  # where it was measured
    assert "assert_faster" not in html  # --no-input hides the code


def test_report_scrubs_a_password_printed_by_a_notebook(tmp_path: Path, server_dsn: str) -> None:
    from workbench.server import EmbeddedServer

    password = EmbeddedServer().password_path.read_text().strip()
    port = server_dsn.split("port=")[1].split()[0]
    dsn = f"postgresql://postgres:{password}@127.0.0.1:{port}/postgres"
    book = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("dsn = None", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("import workbench\nprint(dsn)\nwith workbench.connect(dsn) as c:\n"
                                  "    print(c.execute('select 41 + 1').fetchone()[0])"),
        nbformat.v4.new_code_cell("%matplotlib inline\nfrom matplotlib.figure import Figure\n"
                                  "fig = Figure(); fig.add_subplot().plot([1, 2]); fig"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    path = tmp_path / "tiny.ipynb"
    nbformat.write(book, path)
    out = render_report(path, {"dsn": dsn}, tmp_path / "tiny.html")
    html = out.read_text()
    assert password not in html and "42" in html
    assert "postgres:***@127.0.0.1" in html and "data:image/png;base64" in html
    assert "show/hide code" in html


def test_a_notebook_in_another_folder_uses_the_callers_state_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The kernel runs in the notebook's folder; a relative WORKBENCH_HOME must not start a second
    # embedded server there (as `make demo` once did in notebooks/.workbench).
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WORKBENCH_HOME", "state")
    folder = tmp_path / "books"
    folder.mkdir()
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from workbench.config import workbench_home\nprint(workbench_home())")],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    nbformat.write(book, folder / "where.ipynb")
    done = execute_notebook(folder / "where.ipynb")
    assert done.cells[0].outputs[0]["text"].strip() == str(tmp_path / "state")
    assert not (folder / "state").exists()


def test_parameters_injection_and_parsing() -> None:
    book = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("a = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("print(a)"),
    ])
    inject_parameters(book, parse_params(["a=2", "name=shop", "n=None"]))
    assert book.cells[2].metadata["tags"] == ["injected-parameters"]
    assert book.cells[2].source.splitlines()[1:] == ["a = 2", "name = 'shop'", "n = None"]
    with pytest.raises(WorkbenchError, match="not NAME=VALUE"):
        parse_params(["oops"])


def test_welch_significance() -> None:
    assert welch([1, 2, 3], [1, 2]) is None
    same = welch([10.0, 11.0, 9.0, 10.0], [10.0, 11.0, 9.0, 10.0])
    assert same["p_value"] == 1.0
    apart = welch([10.0, 11.0, 9.0, 10.5], [50.0, 52.0, 49.0, 51.0])
    assert apart["p_value"] < 0.001 and apart["t"] > 0


def test_cli_experiment_json(server_dsn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    indexes = tmp_path / "idx.sql"
    indexes.write_text("CREATE INDEX o_cust ON orders.orders (customer_id, created_at DESC);\n")
    try:
        code = main(["experiment", "shop", "--scale", "0.02", "--database", "wbtest_exp_cli",
                     "--indexes", str(indexes), "--duration", "1", "--clients", "2",
                     "--out", str(tmp_path / "e"), "--json"])
        doc = json.loads(capsys.readouterr().out)
    finally:
        drop_database("wbtest_exp_cli", server_dsn)
    assert code == 0
    assert {"out", "indexes", "before", "after", "change", "plans_changed"} <= set(doc)
    assert [i["name"] for i in doc["indexes"]] == ["o_cust"]
