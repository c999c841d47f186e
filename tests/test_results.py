"""The results catalog and comparisons with gates, on real run folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.config import workbench_home
from workbench.errors import WorkbenchError
from workbench.results import Gate, catalog, compare_results
from workbench.runs import run_workload


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory, server_dsn: str) -> Path:
    """Under one root: a fast run, and a run of the same script made slower by a sleep."""
    root = tmp_path_factory.mktemp("results")
    fast, slow = root / "fast.sql", root / "slow.sql"
    fast.write_text("SELECT pg_sleep(0.001);\n")  # SELECT 1 can log 0 µs: no ratio
    slow.write_text("SELECT pg_sleep(0.02);\n")
    for name, script in (("base", fast), ("new", slow)):
        run_workload(script, dsn=server_dsn, clients=2, jobs=2, duration=2, warmup=0,
                     sampling_rate=1, out=root / "runs" / name, progress=False)
    return root


def test_catalog_lists_runs_with_their_figures_and_rebuilds_its_index(two_runs: Path) -> None:
    frame = catalog(two_runs)
    assert list(frame["path"].map(lambda p: Path(p).name)) == ["base", "new"]
    assert (frame["kind"] == "run").all() and (frame["status"] == "complete").all()
    base, new = frame.iloc[0], frame.iloc[1]
    assert base["tps"] > 3 * new["tps"]  # the sleep shows in the figures the index holds
    index = workbench_home() / "catalog.json"
    assert index.exists()
    index.unlink()
    assert catalog(two_runs)[["path", "tps"]].equals(frame[["path", "tps"]])
    assert index.exists()
    assert catalog(two_runs, kind="experiment").empty


def test_compare_gates_fail_on_a_real_regression_and_pass_without_one(
        two_runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, new = two_runs / "runs" / "base", two_runs / "runs" / "new"
    result = compare_results(base, new, gates=["tps<-3%", "p95>+5%", "failed>0"])
    failed = {g["gate"] for g in result.failed}
    assert failed == {"tps<-3%", "p95>+5%"}  # slower and later; nothing failed
    assert result.metrics["tps"]["ci_pct"] is None  # one run each: no interval
    same = compare_results(base, base, gates=["tps<-3%", "p95>+5%"])
    assert same.failed == [] and same.metrics["tps"]["change_pct"] == 0
    code = main(["compare", str(base), str(new), "--fail-if", "tps<-3%", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 4 and doc["gates"][0]["failed"] is True
    assert main(["compare", str(base), str(base), "--fail-if", "tps<-3%"]) == 0


@pytest.mark.parametrize("text", ["p95 > 5", "p95>>5%", "tps<-3 %x", "", "5%>p95"])
def test_bad_gates_are_one_line_errors(text: str) -> None:
    with pytest.raises(WorkbenchError, match="is not METRIC>N% or METRIC<N%"):
        Gate.parse(text) if text != "p95 > 5" else Gate.parse("p95 >> 5")


def test_a_gate_on_a_metric_neither_has_is_refused(two_runs: Path) -> None:
    with pytest.raises(WorkbenchError, match="no metric 'p42'"):
        compare_results(two_runs / "runs" / "base", two_runs / "runs" / "new",
                        gates=["p42>+5%"])


def test_trend_plots_a_datasets_figures_across_results(two_runs: Path) -> None:
    from workbench import plots

    fig = plots.trend(catalog(two_runs), "tps")
    line = fig.axes[0].get_lines()[0]
    assert len(line.get_xdata()) == 2 and fig.axes[0].get_title() == "tps across results"
