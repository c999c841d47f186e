"""The results catalog: every run, experiment and sweep folder, indexed from its manifest, and
comparisons of two of them with gates for CI.

The index lives in ``WORKBENCH_HOME/catalog.json`` (rebuilt when missing, refreshed for folders
whose manifest changed); the folders themselves stay the one source of truth.

>>> catalog(dataset="shop")[["kind", "path", "tps", "p95"]]                 # doctest: +SKIP
>>> compare_results("runs/shop-a", "runs/shop-b", gates=["p95>+5%"]).failed  # doctest: +SKIP
[]
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.config import workbench_home
from workbench.errors import WorkbenchError
from workbench.folders import MANIFEST, read_json, read_manifest
from workbench.intervals import MIN_EFFECT_PCT, difference

ROOTS = ("runs", "experiments", "sweeps", "rehearsals")
KINDS = ("run", "experiment", "sweep", "rehearsal")
COLUMNS = ["kind", "path", "dataset", "scale", "status", "created_at", "route", "tps", "p50",
           "p95", "p99", "failed", "repeats", "variant", "verdict", "server_version"]
HIGHER_IS_BETTER = {"tps"}


def catalog(root: str | Path = ".", *, dataset: str | None = None, kind: str | None = None
            ) -> pd.DataFrame:
    """Every result folder under ``root``'s runs/, experiments/, sweeps/ and rehearsals/, newest
    last, with its key figures (a run's own; an experiment's after arm and throughput verdict; a
    sweep's peak)."""
    if kind is not None and kind not in KINDS:
        raise WorkbenchError(f"unknown kind {kind!r}", f"use one of {', '.join(KINDS)}")
    index_path = workbench_home() / "catalog.json"
    try:
        index = json.loads(index_path.read_text())
    except (OSError, ValueError):
        index = {}
    rows, fresh = [], {}
    base = Path(root)
    for top in ROOTS:
        for manifest in sorted((base / top).glob(f"*/{MANIFEST}")):
            folder = manifest.parent
            key = str(folder.resolve())
            stamp = manifest.stat().st_mtime
            cached = index.get(key)
            row = cached["row"] if cached and cached.get("mtime") == stamp else _row(folder)
            if row is None:
                continue
            fresh[key] = {"mtime": stamp, "row": row}
            rows.append(row)
    if fresh != index:
        index_path.write_text(json.dumps(fresh, indent=1, default=str))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    if dataset:
        frame = frame[frame["dataset"] == dataset]
    if kind:
        frame = frame[frame["kind"] == kind]
    return frame.sort_values("created_at", kind="stable").reset_index(drop=True)


def _row(folder: Path) -> dict[str, Any] | None:
    try:
        manifest = read_manifest(folder)
    except WorkbenchError:
        return None
    kind = manifest.get("kind")
    row: dict[str, Any] = {c: None for c in COLUMNS}
    row.update(kind=kind, path=str(folder), dataset=manifest.get("dataset"),
               scale=manifest.get("scale"), status=manifest.get("status"),
               created_at=manifest.get("created_at"), route=manifest.get("route"),
               server_version=manifest.get("server_version"))
    try:
        if kind == "run":
            summary = read_json(folder / "summary.json")
            lat = summary.get("latency_ms") or {}
            row.update(tps=summary.get("tps"), p50=lat.get("p50"), p95=lat.get("p95"),
                       p99=lat.get("p99"), failed=summary.get("failed"), repeats=1)
        elif kind == "experiment":
            comparison = read_json(folder / "comparison.json")
            after = comparison.get("after") or {}
            lat = after.get("latency_ms") or {}
            tps = next((v for v in comparison.get("verdicts", []) if v["metric"] == "tps"), {})
            row.update(tps=after.get("tps"), p50=lat.get("p50"), p95=lat.get("p95"),
                       p99=lat.get("p99"), failed=after.get("failed"),
                       repeats=comparison.get("repeats"), variant=comparison.get("variant"),
                       verdict=f"tps {tps.get('verdict')} ({tps.get('change_pct')}%)"
                       if tps else None)
        elif kind == "sweep":
            doc = read_json(folder / "sweep.json")
            knees = doc.get("knees") or []
            row.update(tps=max((k.get("peak_tps") or 0 for k in knees), default=None),
                       repeats=manifest.get("repeat"),
                       verdict="; ".join(f"{k['series']}: knee at {k['throughput_knee']}"
                                         for k in knees))
    except WorkbenchError:
        row["status"] = "damaged"
    return row


# -- comparing two results, with gates ------------------------------------------------------------

_GATE = re.compile(r"^\s*(?P<metric>[A-Za-z_][\w.]*)\s*(?P<op>[<>])\s*(?P<value>[+-]?\d+(?:\.\d+)?)"
                   r"\s*(?P<pct>%?)\s*$")


@dataclass
class Gate:
    """``metric>+5%``: fail when the metric rises by more than 5%; ``tps<-3%``: when it falls by
    more than 3%; ``failed>0``: an absolute bound on the new value.

    >>> Gate.parse("p95>+5%")
    Gate(metric='p95', op='>', value=5.0, relative=True, text='p95>+5%')
    """

    metric: str
    op: str
    value: float
    relative: bool
    text: str

    @classmethod
    def parse(cls, text: str) -> Gate:
        """Read one --fail-if expression."""
        match = _GATE.match(text)
        if not match:
            raise WorkbenchError(f"--fail-if {text!r} is not METRIC>N% or METRIC<N%",
                                 "e.g. --fail-if 'p95>+5%' --fail-if 'tps<-3%' --fail-if "
                                 "'failed>0'")
        return cls(match["metric"], match["op"], float(match["value"]), bool(match["pct"]),
                   text.strip())


@dataclass
class Comparison:
    """Two results side by side: per metric the change (with an interval when both have
    repeats) and the gates that failed."""

    base: str
    new: str
    metrics: dict[str, dict[str, Any]]
    gates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed(self) -> list[dict[str, Any]]:
        """The gates that failed."""
        return [g for g in self.gates if g["failed"]]

    def to_json(self) -> dict[str, Any]:
        """The ``workbench compare --json`` document."""
        return asdict(self)


def compare_results(base: str | Path, new: str | Path, *, gates: list[str] | None = None,
                    min_effect_pct: float = MIN_EFFECT_PCT) -> Comparison:
    """Compare two runs, two experiments (their after arms, run by run) or a run and an
    experiment. A relative gate fails when the change crosses it and, where the results have
    repeats, the 95% interval excludes zero (a significant change); an absolute gate on the new
    value alone."""
    parsed = [Gate.parse(g) for g in gates or []]
    a, b = _values(Path(base)), _values(Path(new))
    metrics: dict[str, dict[str, Any]] = {}
    for name in sorted(set(a) & set(b)):
        if name == "failed":
            metrics[name] = {"base": sum(a[name]), "new": sum(b[name]), "change_pct": None,
                             "ci_pct": None, "verdict": None}
            continue
        d = difference(a[name], b[name], higher_is_better=name.split(".")[-1] in HIGHER_IS_BETTER,
                       min_effect_pct=min_effect_pct)
        metrics[name] = {"base": _mean(a[name]), "new": _mean(b[name]), **d}
    results = []
    for gate in parsed:
        found = metrics.get(gate.metric)
        if found is None:
            raise WorkbenchError(f"--fail-if {gate.text}: no metric {gate.metric!r} in both",
                                 f"use one of {', '.join(sorted(metrics))}")
        results.append(_judge(gate, found))
    return Comparison(str(base), str(new), metrics, results)


def _judge(gate: Gate, found: dict[str, Any]) -> dict[str, Any]:
    if not gate.relative:
        value = found["new"]
        failed = value is not None and (value > gate.value if gate.op == ">" else value < gate.value)
        return {"gate": gate.text, "value": value, "failed": bool(failed),
                "why": f"new value {value}"}
    change, ci = found.get("change_pct"), found.get("ci_pct")
    crossed = change is not None and (change > gate.value if gate.op == ">" else change < gate.value)
    significant = ci is None or (ci[0] > 0 if gate.op == ">" else ci[1] < 0)
    interval = f", 95% interval [{ci[0]:+.1f}%, {ci[1]:+.1f}%]" if ci else " (no interval: one run each)"
    return {"gate": gate.text, "value": change, "failed": bool(crossed and significant),
            "why": f"change {change:+.1f}%{interval}" if change is not None else "no value"}


def _values(folder: Path) -> dict[str, list[float]]:
    """Per metric, the per-run values of a run (one) or an experiment's after arm (its runs)."""
    manifest = read_manifest(folder)
    kind = manifest.get("kind")
    if kind == "run":
        summaries = [read_json(folder / "summary.json")]
    elif kind == "experiment":
        doc = read_json(folder / "comparison.json")
        names = [n for n in doc.get("run_order", []) if n.startswith("throughput-after-")]
        summaries = [read_json(folder / "runs" / n / "summary.json") for n in names]
    else:
        raise WorkbenchError(f"{folder} holds a {kind!r}: compare runs or experiments",
                             "pass two run or experiment folders")
    values: dict[str, list[float]] = {}
    for summary in summaries:
        _add(values, "", summary)
        for script, block in (summary.get("scripts") or {}).items():
            _add(values, f"{script}.", block)
    return values


def _add(values: dict[str, list[float]], prefix: str, block: dict[str, Any]) -> None:
    if block.get("tps") is not None:
        values.setdefault(f"{prefix}tps", []).append(float(block["tps"]))
    for key in ("p50", "p95", "p99"):
        value = (block.get("latency_ms") or {}).get(key)
        if value is not None:
            values.setdefault(f"{prefix}{key}", []).append(float(value))
    if not prefix:
        values.setdefault("failed", []).append(float(block.get("failed") or 0))


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None
