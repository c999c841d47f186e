"""Experiments end to end on a real server: fresh copies, interleaved arms, intervals, verdicts,
offline reload, plots and reports. The A/A and known-regression checks are in
test_experiment_method.py."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import nbformat
import pytest

from workbench import plots
from workbench.assertions import assert_faster, assert_latency_within, assert_plan_uses_index
from workbench.cli import main
from workbench.connect import connect
from workbench.copies import (
    COPY_PREFIX,
    clean_leftovers,
    ensure_template,
    fresh_copy,
    leftover_copies,
    make_copy,
    template_name,
)
from workbench.datasets import get_dataset
from workbench.errors import WorkbenchError
from workbench.experiments import experiment, load_experiment, schedule
from workbench.reports import (
    execute_notebook,
    find_secrets,
    inject_parameters,
    parse_params,
    render_report,
)
from workbench.runs import run_workload

SCALE = 0.2


def _databases(dsn: str) -> set[str]:
    with connect(dsn, database="postgres") as conn:
        return {r[0] for r in conn.execute("SELECT datname FROM pg_database")}


@pytest.fixture(scope="module")
def exp_dir(server_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("exp") / "shop-exp"
    experiment("shop", scale=SCALE, clients=2, jobs=2, duration=3, warmup=1, repeat=3,
               latency=False, dsn=server_dsn, out=out, progress=False)
    return out


def test_every_run_starts_from_a_fresh_copy_in_abba_order(exp_dir: Path, server_dsn: str) -> None:
    exp = load_experiment(exp_dir)
    assert exp.status == "complete" and exp.manifest["repeat"] == 3
    assert exp.comparison["run_order"] == ["throughput-before-1", "throughput-after-1",
                                           "throughput-after-2", "throughput-before-2",
                                           "throughput-before-3", "throughput-after-3"]
    databases = [r.manifest["database"].rsplit("/", 1)[1] for _, r in exp.all_runs()]
    assert all(d.startswith(COPY_PREFIX) for d in databases)
    assert len(set(databases)) == 6  # six runs, six copies
    # the copies are gone, the template stays, and no dataset database was created or touched
    left = _databases(server_dsn)
    assert not [d for d in left if d.startswith(COPY_PREFIX)]
    assert template_name("shop", SCALE, 42) in left
    assert exp.manifest["template"] == template_name("shop", SCALE, 42)
    with connect(server_dsn, database=exp.manifest["template"]) as conn:
        names = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes")}
    assert not [n for n in names if n.startswith("wb_")]  # the variant never reached the template


def test_comparison_has_intervals_verdicts_and_the_method(exp_dir: Path) -> None:
    exp = load_experiment(exp_dir)
    doc = exp.to_json()
    verdicts = {v["metric"]: v for v in doc["verdicts"]}
    assert set(verdicts) == {"tps", "p50", "p95", "p99"}
    for v in verdicts.values():
        assert v["verdict"] in ("faster", "slower", "no significant change")
        assert v["runs"] == [3, 3]
        low, high = v["ci_pct"]
        assert low <= v["change_pct"] <= high
    # the advisor's indexes make this workload several times faster: a real, large effect
    assert verdicts["tps"]["verdict"] == "faster" and verdicts["tps"]["change_pct"] > 50
    assert "Welch" in doc["method"] and "2%" in doc["method"]
    assert doc["evidence"] is None  # three runs per arm: not thin
    assert doc["latency"] is None  # latency=False: no fixed-rate phase
    # per-run values are what the interval was computed from
    runs = doc["throughput"]["runs"]
    assert [r["out"] for r in runs["before"]] == ["throughput-before-1", "throughput-before-2",
                                                  "throughput-before-3"]
    assert all(r["tps"] > 0 for arm in runs.values() for r in arm)
    assert doc["indexes"] and all(i["ddl"].startswith("CREATE INDEX CONCURRENTLY")
                                  for i in doc["indexes"])
    assert any(p["statement"] == "recent_orders" for p in doc["plans_changed"])


def test_plots_and_assertions_work_offline(exp_dir: Path) -> None:
    exp = load_experiment(exp_dir)
    figures = [
        plots.latency_cdf(exp.before.transactions, exp.after.transactions),
        plots.percentiles_by_script(exp.comparison["before"], exp.comparison["after"]),
        plots.timeline([(name, r.transactions, r.sampling_rate) for name, r in exp.all_runs()],
                       [t for t in exp.comparison["timeline"] if t["kind"] == "variant"]),
        plots.buffers_by_statement(exp.before.stats.frames["statements"],
                                   exp.after.stats.frames["statements"]),
        plots.buffers_by_table(exp.before.stats.frames["tables"], exp.after.stats.frames["tables"]),
        plots.plan_self_time(exp.plans_before.get("recent_orders").plan,
                             exp.plans_after.get("recent_orders").plan),
        plots.index_size_vs_benefit(exp.advice["recommendations"]),
        plots.waits_over_time(exp.before.waits),
        plots.verdicts(exp.comparison),
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


def test_timeline_counts_sampled_runs_at_full_rate(exp_dir: Path) -> None:
    exp = load_experiment(exp_dir)
    name, run = exp.all_runs()[1]
    half = run.transactions.iloc[::2]
    full_fig = plots.timeline([(name, run.transactions, 1.0)])
    half_fig = plots.timeline([(name, half, 0.5)])
    full = full_fig.axes[0].get_lines()[0].get_ydata()
    halved = half_fig.axes[0].get_lines()[0].get_ydata()
    assert sum(halved) == pytest.approx(sum(full), rel=0.05)


def test_copies_start_identical_whatever_an_earlier_run_wrote(server_dsn: str,
                                                              tmp_path: Path) -> None:
    template = ensure_template(get_dataset("shop"), scale=SCALE, seed=42, dsn=server_dsn,
                               progress=False)
    checkout = get_dataset("shop").path / "workload" / "checkout.sql"

    def state(dsn: str) -> tuple[int, int]:
        with connect(dsn) as conn:
            orders = conn.execute("SELECT count(*) FROM orders.orders").fetchone()[0]
            stock = conn.execute("SELECT sum(quantity) FROM catalog.inventory").fetchone()[0]
        return int(orders), int(stock)

    original = state(template.dsn)
    with fresh_copy(template) as copy:
        assert state(copy.dsn) == original
        run = run_workload(checkout, on=copy, clients=2, duration=1, warmup=0,
                           out=tmp_path / "writes", progress=False)
        assert run.summary["transactions"] > 0
        assert state(copy.dsn) != original  # the run wrote orders and took stock
    with fresh_copy(template) as again:
        assert state(again.dsn) == original


def test_copies_of_a_killed_process_are_found_and_dropped(server_dsn: str) -> None:
    template = ensure_template(get_dataset("shop"), scale=SCALE, seed=42, dsn=server_dsn,
                               progress=False)
    copy = make_copy(template)
    note = json.dumps({"workbench": "copy", "template": template.database, "pid": 2 ** 22 + 7,
                       "host": __import__("socket").gethostname(), "created_at": "x"})
    with connect(server_dsn, database="postgres") as conn:
        conn.execute(f"COMMENT ON DATABASE {copy.database} IS '{note}'")  # type: ignore[arg-type]
    ours = make_copy(template)  # this process is alive: its copy is not a leftover
    try:
        found = {c["name"]: c["orphaned"] for c in leftover_copies(server_dsn)}
        assert found[copy.database] is True and found[ours.database] is False
        assert clean_leftovers(server_dsn) == [copy.database]
        assert copy.database not in _databases(server_dsn)
    finally:
        from workbench.copies import drop_copy

        drop_copy(ours)


def _ctrl_c_while_waiting(dsn: str, database: str, statement: str) -> threading.Thread:
    """Hold a lock on ``database`` (an open COMMENT ON DATABASE) so that ``statement`` waits; send
    this process a Ctrl-C while it waits, then let go of the lock."""
    blocker = connect(dsn, database="postgres", autocommit=False)
    blocker.execute(f"COMMENT ON DATABASE {database} IS NULL")  # type: ignore[arg-type]

    def interrupt_then_release() -> None:
        with connect(dsn, database="postgres") as watcher:
            for _ in range(200):
                waiting = watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query LIKE %s", [statement + "%"]).fetchone()[0]
                if waiting:
                    break
                time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.5)
        blocker.rollback()
        blocker.close()

    thread = threading.Thread(target=interrupt_then_release, daemon=True)
    thread.start()
    return thread


def test_a_ctrl_c_during_the_drop_of_a_copy_still_drops_it(server_dsn: str) -> None:
    template = ensure_template(get_dataset("shop"), scale=SCALE, seed=42, dsn=server_dsn,
                               progress=False)
    with pytest.raises(KeyboardInterrupt), fresh_copy(template) as copy:
        helper = _ctrl_c_while_waiting(server_dsn, copy.database, "DROP DATABASE")
    helper.join(30)
    assert copy.database not in _databases(server_dsn)


def test_a_ctrl_c_while_a_copy_is_made_leaves_no_copy(server_dsn: str) -> None:
    template = ensure_template(get_dataset("shop"), scale=SCALE, seed=42, dsn=server_dsn,
                               progress=False)
    before = {d for d in _databases(server_dsn) if d.startswith(COPY_PREFIX)}
    helper = _ctrl_c_while_waiting(server_dsn, template.database, "CREATE DATABASE")
    with pytest.raises(KeyboardInterrupt):
        make_copy(template)
    helper.join(30)  # the lock is let go: nothing is made after the interrupt either
    assert {d for d in _databases(server_dsn) if d.startswith(COPY_PREFIX)} == before


def test_a_stale_template_is_reloaded_not_measured(server_dsn: str, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "tiny"
    shutil.copytree(get_dataset("events").path, folder)
    text = (folder / "dataset.toml").read_text().replace('name = "events"', 'name = "tinyev"')
    (folder / "dataset.toml").write_text(text)
    def oid(name: str) -> int:
        with connect(server_dsn, database="postgres") as conn:
            return conn.execute("SELECT oid FROM pg_database WHERE datname = %s", [name]
                                ).fetchone()[0]

    first = ensure_template(get_dataset(folder), scale=0.01, seed=1, dsn=server_dsn,
                            progress=False)
    loaded = oid(first.database)
    same = ensure_template(get_dataset(folder), scale=0.01, seed=1, dsn=server_dsn,
                           progress=False)
    assert oid(same.database) == loaded  # an unchanged dataset: the template is reused
    generator = next((folder / "generate").glob("*.sql"))
    generator.write_text(generator.read_text() + "\n-- changed\n")
    fresh = ensure_template(get_dataset(folder), scale=0.01, seed=1, dsn=server_dsn,
                            progress=False)
    assert fresh.database == first.database and oid(fresh.database) != loaded  # reloaded
    from workbench.databases import drop_database

    drop_database(first.database, server_dsn)


def test_a_failing_variant_leaves_nothing_and_says_what_was_kept(
        server_dsn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.sql"
    bad.write_text("CREATE INDEX fine_idx ON orders.orders (created_at);\n"
                   "CREATE INDEX broken_idx ON orders.orders (no_such_column);\n")
    out = tmp_path / "e"
    code = main(["experiment", "shop", "--scale", str(SCALE), "--indexes", str(bad),
                 "--duration", "1", "--warmup", "0", "--clients", "2", "--repeat", "1",
                 "--no-latency", "--out", str(out), "--dsn", server_dsn])
    err = capsys.readouterr().err
    assert code == 1
    assert "no_such_column" in err and f"saved in {out}" in err and "incomplete" in err
    exp = load_experiment(out)
    assert exp.status == "incomplete" and exp.comparison["withheld"]
    assert [r.out.name for _, r in exp.all_runs()] == ["throughput-before-1"]
    assert all(v["verdict"] == "withheld" for v in exp.comparison["verdicts"])
    # nothing half-done: no copy left (fine_idx was built on one), no index on the template
    assert not [d for d in _databases(server_dsn) if d.startswith(COPY_PREFIX)]
    with connect(server_dsn, database=template_name("shop", SCALE, 42)) as conn:
        assert conn.execute("SELECT count(*) FROM pg_indexes WHERE indexname LIKE %s",
                            ["%_idx"]).fetchone()[0] == 3  # the dataset's own three


def test_schedule_is_balanced() -> None:
    assert schedule(4) == [["before", "after"], ["after", "before"]] * 2
    random_order = schedule(6, "random", seed=3)
    assert random_order == schedule(6, "random", seed=3)  # seeded
    assert all(sorted(r) == ["after", "before"] for r in random_order)


@pytest.mark.parametrize(("argv", "message"), [
    (["--repeat", "0"], "must be a whole number >= 1"),
    (["--duration", "inf"], "not an integer"),
    (["--budget-mb", "nan"], "not a finite number"),
    (["--min-effect", "-1"], "must be >= 0"),
    (["--rate", "0"], "must be > 0"),
])
def test_bad_experiment_options_are_usage_errors(argv: list[str], message: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["experiment", "shop", *argv])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_aa_takes_no_variant() -> None:
    with pytest.raises(WorkbenchError, match="A/A experiment changes nothing"):
        experiment("shop", aa=True, settings={"work_mem": "1MB"}, scale=SCALE, progress=False)


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
    assert "95% interval" in html and "Welch" in html  # verdicts come with intervals and method
    assert "3 / 3" in html  # the runs per arm behind each verdict


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


def test_cli_experiment_json(server_dsn: str, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    indexes = tmp_path / "idx.sql"
    indexes.write_text("CREATE INDEX o_cust ON orders.orders (customer_id, created_at DESC);\n")
    code = main(["experiment", "shop", "--scale", str(SCALE), "--indexes", str(indexes),
                 "--duration", "1", "--warmup", "0", "--clients", "2", "--repeat", "1",
                 "--rate", "50", "--out", str(tmp_path / "e"), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {"out", "status", "indexes", "verdicts", "throughput", "latency", "method",
            "evidence", "change", "plans_changed"} <= set(doc)
    assert [i["name"] for i in doc["indexes"]] == ["o_cust"]
    assert doc["latency"]["rate"] == 50 and doc["latency"]["rate_source"] == "given (--rate)"
    # one run per arm gives no interval, so no verdict beyond "no significant change"
    assert {v["verdict"] for v in doc["verdicts"]} == {"no significant change"}
    assert all(v["ci_pct"] is None and "repeat" in v["why"] for v in doc["verdicts"])


def test_two_experiments_compare_run_by_run_with_intervals(exp_dir: Path) -> None:
    from workbench.results import compare_results

    result = compare_results(exp_dir, exp_dir, gates=["p95>+5%", "tps<-3%"])
    tps = result.metrics["tps"]
    assert tps["runs"] == [3, 3]  # the after arm's runs, not one mean
    assert tps["change_pct"] == 0 and tps["ci_pct"][0] < 0 < tps["ci_pct"][1]  # run-to-run spread
    assert tps["verdict"] == "no significant change" and result.failed == []
