"""Before/after experiments: baseline run and plans, indexes built, the same run again, compared.

With ``repeat=N`` the states alternate (before, after, before, after, ...) so a difference can be
told from noise: the comparison reports each state's runs, their spread, and Welch's t-test on
per-second throughput samples (a simple significance figure, two-sided p from the normal
approximation). The original state is restored afterwards unless ``keep``: every index built is
dropped, and a failed or interrupted build leaves no INVALID index (see :mod:`workbench.indexes`).

>>> exp = experiment("shop", indexes="auto", budget_mb=50, clients=8, duration=20)  # doctest: +SKIP
>>> exp.comparison["change"]                                                       # doctest: +SKIP
{'tps_pct': 212.4, 'p95_pct': -81.3, 'shared_read_pct': -64.0}
>>> load_experiment(exp.out).after.summary["tps"]                                   # doctest: +SKIP
"""

from __future__ import annotations

import html
import json
import math
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.connect import connect, dataset_database, resolve_dsn
from workbench.databases import exists, read_marker
from workbench.datasets import get_dataset
from workbench.errors import WorkbenchError
from workbench.folders import read_manifest, result_folder, timestamp, write_json
from workbench.indexes import BuiltIndex, IndexSpec, build_index, drop_index
from workbench.loader import load, split_statements
from workbench.plans.capture import PlanCapture, explain_workload, load_plans
from workbench.plans.diff import diff_plans
from workbench.runs import Run, RunOptions, load_run, run_workload


@dataclass
class Experiment:
    """A finished (or loaded) experiment."""

    out: Path
    manifest: dict[str, Any]
    comparison: dict[str, Any]
    before: Run
    after: Run
    plans_before: PlanCapture | None
    plans_after: PlanCapture | None
    advice: dict[str, Any] | None = None
    runs: dict[str, list[Run]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The ``workbench experiment --json`` document."""
        c = self.comparison
        return {"out": str(self.out), "indexes": c["indexes"], "before": c["before"],
                "after": c["after"], "change": c["change"], "plans_changed": c["plans_changed"],
                "significance": c.get("significance"), "repeats": c.get("repeats")}

    def _repr_html_(self) -> str:
        change = self.comparison["change"]
        items = "".join(f"<li><code>{html.escape(i['ddl'])}</code> ({i['size_bytes'] / 1e6:.1f} MB, "
                        f"built in {i['seconds']:.1f} s)</li>" for i in self.comparison["indexes"])
        plans = "".join(f"<li>{html.escape(p['statement'])}: {html.escape(p['verdict'])}</li>"
                        for p in self.comparison["plans_changed"])
        return (f"<p><b>Experiment</b> {html.escape(str(self.out))}: throughput "
                f"{signed(change['tps_pct'])}, p95 latency {signed(change['p95_pct'])}, shared reads "
                f"per transaction {signed(change['shared_read_pct'])}</p><ul>{items}</ul>"
                f"<ul>{plans}</ul>")


def experiment(
    dataset: str | Path = "shop", *, indexes: str | Path = "auto", budget_mb: float = 50.0,
    max_indexes: int | None = None, clients: int = 8, jobs: int | None = None,
    duration: float = 20, warmup: float = 0.0, repeat: int = 1, scale: float = 1.0,
    seed: int = 42, database: str | None = None, dsn: str | None = None,
    out: str | Path | None = None, keep: bool = False, allow_destructive: bool = False,
    progress: bool = True,
) -> Experiment:
    """Run a before/after index experiment on a dataset and save it in one folder."""
    if repeat < 1:
        raise WorkbenchError("--repeat must be at least 1", "e.g. --repeat 3")
    ds = get_dataset(dataset)
    db = dataset_database(dsn, database, ds.name)
    target = ensure_loaded(ds.name, db, dsn, scale, seed, progress, allow_destructive)
    folder = Path(out) if out else Path("experiments") / f"{ds.name}-{timestamp()}"
    options = RunOptions(clients=clients, jobs=jobs, duration=duration, warmup=warmup,
                         random_seed=seed)
    advice_doc = None
    if str(indexes) == "auto":
        from workbench.advisor.advise import advise

        advice = advise(ds.name, dsn=target, budget_mb=budget_mb, max_indexes=max_indexes,
                        allow_destructive=allow_destructive)
        advice_doc = advice.to_json()
        ddls = [r.ddl for r in advice.recommendations]
    else:
        ddls = _read_index_file(Path(indexes))
    specs = [IndexSpec.from_ddl(d) for d in ddls]
    if not specs:
        raise WorkbenchError("no index to try: the advisor recommended none within the budget"
                             if str(indexes) == "auto" else f"{indexes} holds no CREATE INDEX",
                             "raise --budget-mb, or pass --indexes FILE")
    timeline: list[dict[str, Any]] = []
    runs: dict[str, list[Run]] = {"before": [], "after": []}
    built: list[BuiltIndex] = []
    record: list[BuiltIndex] = []  # the first round's builds: times and sizes for the report
    with result_folder(folder, kind="experiment") as staged:
        try:
            plans_before = plans_after = None
            for round_no in range(1, repeat + 1):
                suffix = "" if round_no == 1 else f"-{round_no}"
                run = _run(ds.name, target, options, staged.path / f"before{suffix}", progress)
                runs["before"].append(run)
                timeline.append(_span("run", f"before{suffix}", run))
                if plans_before is None:
                    plans_before = explain_workload(ds.name, dsn=target)
                    plans_before.save(staged.path / "plans-before")
                started = time.time()
                built = [build_index(target, spec, allow_destructive=allow_destructive)
                         for spec in specs]
                timeline.append({"kind": "build", "label": f"build{suffix}", "start": started,
                                 "end": time.time()})
                record = record or list(built)
                if plans_after is None:
                    plans_after = explain_workload(ds.name, dsn=target)
                    plans_after.save(staged.path / "plans-after")
                run = _run(ds.name, target, options, staged.path / f"after{suffix}", progress)
                runs["after"].append(run)
                timeline.append(_span("run", f"after{suffix}", run))
                if round_no < repeat:
                    _drop(target, built, allow_destructive)
                    built = []
        finally:
            if not keep:
                _drop(target, built, allow_destructive)
        comparison = compare(runs, plans_before, plans_after, record, timeline)
        if advice_doc:
            write_json(staged.path / "advice.json", advice_doc)
        write_json(staged.path / "comparison.json", comparison)
        staged.manifest.update(
            status="complete", dataset=ds.name, scale=scale, seed=seed, database=db,
            indexes_source=str(indexes), budget_mb=budget_mb, repeat=repeat, kept=keep,
            run_options=options.__dict__,
            server_version=runs["before"][0].manifest.get("server_version"),
            settings=runs["before"][0].manifest.get("settings"),
        )
    return load_experiment(folder)


def load_experiment(folder: str | Path) -> Experiment:
    """A saved experiment, with no database."""
    folder = Path(folder)
    manifest = read_manifest(folder, kind="experiment")
    comparison = json.loads((folder / "comparison.json").read_text())
    runs = {state: [load_run(p) for p in sorted(folder.glob(f"{state}*"), key=_round_key)]
            for state in ("before", "after")}
    advice = json.loads((folder / "advice.json").read_text()) if (folder / "advice.json").exists() \
        else None
    plans = {k: load_plans(folder / f"plans-{k}") if (folder / f"plans-{k}").exists() else None
             for k in ("before", "after")}
    return Experiment(folder, manifest, comparison, runs["before"][0], runs["after"][0],
                      plans["before"], plans["after"], advice, runs)


def compare(runs: dict[str, list[Run]], plans_before: PlanCapture | None,
            plans_after: PlanCapture | None, built: list[BuiltIndex],
            timeline: list[dict[str, Any]]) -> dict[str, Any]:
    """Before vs after: summaries, changes, spread over repeats, significance, plan verdicts."""
    state = {k: _pooled(v) for k, v in runs.items()}
    before, after = state["before"], state["after"]
    change = {
        "tps_pct": _pct(before["tps"], after["tps"]),
        "p95_pct": _pct(before["latency_ms"]["p95"], after["latency_ms"]["p95"]),
        "shared_read_pct": _pct(before["shared_read_per_tx"], after["shared_read_per_tx"]),
    }
    plans_changed = []
    if plans_before and plans_after:
        for stmt in plans_before.statements:
            other = next((s for s in plans_after.statements if s.name == stmt.name), None)
            if stmt.plan and other and other.plan:
                d = diff_plans(stmt.plan, other.plan)
                if not d.verdict.startswith("same plan shape"):
                    plans_changed.append({"statement": stmt.name, "verdict": d.verdict})
    return {
        "before": before, "after": after, "change": change, "plans_changed": plans_changed,
        "repeats": {k: [{"out": r.out.name, "tps": r.summary["tps"],
                         "p95": r.summary["latency_ms"]["p95"]} for r in v] for k, v in runs.items()},
        "spread": {k: _spread(v) for k, v in runs.items()},
        "significance": welch(_tps_samples(runs["before"]), _tps_samples(runs["after"])),
        "timeline": timeline,
        "indexes": [b.to_json() for b in built],
    }


def welch(a: list[float], b: list[float]) -> dict[str, Any] | None:
    """Welch's t-test (two-sided p from the normal approximation; fine for dozens of samples)."""
    if len(a) < 3 or len(b) < 3:
        return None
    va, vb = statistics.variance(a), statistics.variance(b)
    se = math.sqrt(va / len(a) + vb / len(b))
    if se == 0:
        return {"t": None, "p_value": 0.0 if statistics.mean(a) != statistics.mean(b) else 1.0,
                "samples": [len(a), len(b)], "test": "welch (per-second throughput)"}
    t = (statistics.mean(b) - statistics.mean(a)) / se
    p = math.erfc(abs(t) / math.sqrt(2))
    return {"t": round(t, 2), "p_value": float(f"{p:.3g}"), "samples": [len(a), len(b)],
            "test": "welch (per-second throughput)"}


def _pooled(runs: list[Run]) -> dict[str, Any]:
    frame = pd.concat([r.transactions for r in runs], ignore_index=True)
    seconds = sum(r.summary.get("measured_s") or 0 for r in runs)
    from workbench.txlog import summarize

    summary = summarize(frame, max(seconds, 1e-9))
    reads = sum(r.stats.buffers()["shared_read"] for r in runs)
    hits = sum(r.stats.buffers()["shared_hit"] for r in runs)
    tx = max(summary["transactions"], 1)
    summary["shared_read_per_tx"] = round(reads / tx, 3)
    summary["shared_hit_per_tx"] = round(hits / tx, 3)
    return summary


def _spread(runs: list[Run]) -> dict[str, Any]:
    tps = [r.summary["tps"] or 0.0 for r in runs]
    p95 = [r.summary["latency_ms"]["p95"] or 0.0 for r in runs]
    return {"tps_min": min(tps), "tps_max": max(tps),
            "tps_stdev": round(statistics.stdev(tps), 3) if len(tps) > 1 else None,
            "p95_min": min(p95), "p95_max": max(p95)}


def _tps_samples(runs: list[Run]) -> list[float]:
    samples: list[float] = []
    for run in runs:
        progress = run.progress
        if not progress.empty:
            skip = 1 if len(progress) >= 4 else 0  # the first second warms up, on longer runs
            samples += [float(v) for v in progress["tps"].iloc[skip:]]
    return samples


def ensure_loaded(name: str, db: str | None, dsn: str | None, scale: float, seed: int,
                   progress: bool, allow_destructive: bool) -> str:
    """The DSN of ``db`` holding the dataset at this scale and seed, loading it when it does not.

    >>> ensure_loaded("shop", "shop", None, 0.2, 42)      # doctest: +SKIP
    """
    assert db is not None
    if exists(db, dsn):
        with connect(dsn, database=db) as conn:
            marker = read_marker(conn) or {}
        same = (marker.get("dataset") == name and marker.get("load_status") == "complete"
                and float(marker.get("scale", -1)) == float(scale) and marker.get("seed") == seed)
        if same:
            return resolve_dsn(dsn, db)
    return load(name, scale=scale, seed=seed, database=db, dsn=dsn, replace=True,
                allow_destructive=allow_destructive, progress=progress).dsn


def _run(name: str, dsn: str, options: RunOptions, out: Path, progress: bool) -> Run:
    return run_workload(name, dsn=dsn, options=RunOptions(**options.__dict__), out=out,
                        progress=progress)


def _span(kind: str, label: str, run: Run) -> dict[str, Any]:
    frame = run.transactions
    start = float(frame["start"].min()) if not frame.empty else 0.0
    end = float(frame["end"].max()) if not frame.empty else 0.0
    return {"kind": kind, "label": label, "start": start, "end": end}


def _drop(dsn: str, built: list[BuiltIndex], allow_destructive: bool) -> None:
    for index in built:
        drop_index(dsn, index.schema, index.name, allow_destructive=allow_destructive)


def _read_index_file(path: Path) -> list[str]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise WorkbenchError(f"cannot read {path}: {exc.strerror}",
                             "pass --indexes auto or a SQL file of CREATE INDEX statements") from None
    return [s for s in split_statements(text) if s.strip()]


def _pct(before: float | None, after: float | None) -> float | None:
    if before is None or after is None:
        return None
    if before == 0:
        return 0.0 if after == 0 else None  # from nothing: no percentage means anything
    return round(100.0 * (after - before) / before, 1)


def signed(pct: float | None) -> str:
    """+12.5% / -3.0% / n/a."""
    return "n/a" if pct is None else f"{pct:+.1f}%"


def _round_key(path: Path) -> int:
    tail = path.name.split("-")[-1]
    return int(tail) if tail.isdigit() else 1
