"""Sweeps: throughput and latency against client count (and pool size, and scale), each point
measured from the same starting state, repeated, with intervals, and the knee marked.

Every run starts from a fresh copy of the dataset's template (as in experiments); the points of
one round run in a seeded random order, round after round, so drift spreads over all points. For
each point the frame gives the geometric mean over its runs of tps, p50, p95 and p99 with a 95%
t-interval, and the failed transactions. The knee is the smallest client count whose throughput
reaches 95% of the peak; the latency knee the smallest client count whose p99 exceeds
``p99_factor`` times its lowest.

>>> s = sweep("shop", clients=[1, 4, 16, 64], repeat=2, via="pgbouncer:transaction")  # doctest: +SKIP
>>> s.frame[["clients", "tps", "tps_low", "tps_high"]]                               # doctest: +SKIP
>>> s.knees                                                                           # doctest: +SKIP
[{'series': 'scale 1, pgbouncer:transaction(8)', 'throughput_knee': 16, ...}]
"""

from __future__ import annotations

import html
import itertools
import math
import os
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.connect import resolve_dsn
from workbench.copies import clean_leftovers, ensure_template, fresh_copy
from workbench.datasets import Dataset, get_dataset
from workbench.errors import Incomplete, WorkbenchError
from workbench.folders import (
    check_writable,
    read_json,
    read_manifest,
    result_folder,
    timestamp,
    write_json,
)
from workbench.intervals import mean_interval
from workbench.pooler import Route, check_protocol
from workbench.runs import Run, RunOptions, load_run, run_workload

KNEE_SHARE = 0.95
P99_FACTOR = 2.0
METRICS = ("tps", "p50", "p95", "p99")


@dataclass
class Sweep:
    """A finished (or loaded) sweep: one row per point, its runs, and the knees."""

    out: Path
    manifest: dict[str, Any]
    frame: pd.DataFrame
    knees: list[dict[str, Any]]
    runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        """complete or incomplete."""
        return str(self.manifest.get("status"))

    def run(self, label: str) -> Run:
        """One of the sweep's runs, by its label (e.g. ``c16-r1``)."""
        return load_run(self.out / "runs" / label)

    def to_json(self) -> dict[str, Any]:
        """The ``workbench sweep --json`` document."""
        return {"out": str(self.out), "status": self.status,
                "reason": self.manifest.get("reason"), "axis": self.manifest.get("axis"),
                "repeat": self.manifest.get("repeat"), "rate": self.manifest.get("rate"),
                "points": self.frame.to_dict("records"), "knees": self.knees}

    def __repr__(self) -> str:
        knees = "; ".join(f"{k['series']}: knee at {k['throughput_knee']}" for k in self.knees)
        return f"<Sweep {self.out} {self.status}: {len(self.frame)} points; {knees}>"

    def _repr_html_(self) -> str:
        table = self.frame.to_html(index=False, float_format=lambda v: f"{v:.3g}")
        knees = "".join(f"<li>{html.escape(k['series'])}: throughput knee at "
                        f"{k['throughput_knee']} clients, p99 knee at {k['p99_knee']}</li>"
                        for k in self.knees)
        return (f"<p><b>Sweep</b> {html.escape(str(self.out))} ({self.status})</p>"
                f"<ul>{knees}</ul>{table}")


def sweep(
    dataset: str | Path | Dataset = "shop", *, clients: list[int] | int = (1, 2, 4, 8, 16),
    pool_sizes: list[int] | None = None, scales: list[float] | None = None,
    via: str | None = None, pool_size: int | None = None, rate: float | None = None,
    repeat: int = 3, duration: float = 10, warmup: float = 2, protocol: str = "simple",
    connect_each_transaction: bool = False, seed: int = 42, dsn: str | None = None,
    out: str | Path | None = None, p99_factor: float = P99_FACTOR, progress: bool = True,
) -> Sweep:
    """Run a dataset's workload at each client count (× pool size × scale), ``repeat`` times.

    ``pool_sizes`` sweeps PgBouncer's pool size (``via`` defaults to pgbouncer:transaction);
    ``scales`` adds one curve per dataset scale; ``rate`` runs every point at a fixed offered
    load (latency against clients) instead of closed-loop.
    """
    ds = dataset if isinstance(dataset, Dataset) else get_dataset(dataset)
    client_list = _increasing("--clients", [clients] if isinstance(clients, int) else clients,
                              whole=True)
    sizes = _increasing("--pool-sizes", pool_sizes, whole=True) if pool_sizes else [pool_size]
    if pool_sizes and via is None:
        via = "pgbouncer:transaction"
    routes = [Route.parse(via, size) for size in sizes]
    for route in routes:
        check_protocol(route, protocol)
    scale_list = _increasing("--scales", scales, whole=False) if scales else [1.0]
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise WorkbenchError(f"--repeat must be a whole number >= 1, got {repeat!r}",
                             "e.g. --repeat 3")
    options = {c: RunOptions(clients=c, jobs=_jobs(c), duration=duration, warmup=warmup,
                             rate=rate, protocol=protocol, random_seed=seed,
                             connect_each_transaction=connect_each_transaction)
               for c in client_list}
    for opts in options.values():
        opts.validate()
    folder = Path(out) if out else Path("sweeps") / f"{ds.name}-{timestamp()}"
    check_writable(folder)
    clean_leftovers(resolve_dsn(dsn))
    templates = {s: ensure_template(ds, scale=s, seed=seed, dsn=dsn, progress=progress)
                 for s in scale_list}
    points = list(itertools.product(scale_list, routes, client_list))
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    planned: dict[str, tuple[float, Route, int, int]] = {}
    error: BaseException | None = None
    total = len(points) * repeat
    with result_folder(folder, kind="sweep") as staged:
        try:
            for round_no in range(1, repeat + 1):
                for scale, route, count in rng.sample(points, len(points)):
                    label = _label(scale, route, count, round_no, len(scale_list), len(routes))
                    planned[label] = (scale, route, count, round_no)
                    if progress:
                        print(f"sweep {ds.name}: {label} (run {len(records) + 1} of {total})",
                              file=sys.stderr, flush=True)
                    with fresh_copy(templates[scale]) as copy:
                        run = run_workload(on=route.apply(copy), options=options[count],
                                           out=staged.path / "runs" / label, progress=progress)
                    records.append(_record(run, label, scale, route, count, round_no))
                    if run.status != "complete":
                        raise Incomplete(f"run {label} is incomplete: {run.manifest.get('reason')}",
                                         "check the server and the pooler")
        except (Exception, KeyboardInterrupt) as exc:
            error = exc
            records += _finished_unrecorded(staged.path / "runs", planned, records)
            if not records:
                raise
        frame = summarize_points(pd.DataFrame(records))
        knees = find_knees(frame, p99_factor)
        write_json(staged.path / "sweep.json", {"runs": records, "points": frame.to_dict("records"),
                                                "knees": knees})
        staged.manifest.update(
            status="complete" if error is None else "incomplete",
            reason=None if error is None else (
                "interrupted" if isinstance(error, KeyboardInterrupt) else str(error)),
            dataset=ds.name, seed=seed, scales=scale_list, clients=client_list,
            routes=[r.label for r in routes], repeat=repeat, rate=rate, duration=duration,
            warmup=warmup, protocol=protocol, connect_each_transaction=connect_each_transaction,
            axis="pool_size" if pool_sizes else "clients", p99_factor=p99_factor)
    if error is not None:
        if isinstance(error, WorkbenchError):
            kind = Incomplete if isinstance(error, Incomplete) else WorkbenchError
            raise kind(f"{error.what}; the completed points are saved in {folder}, marked "
                       "incomplete", error.hint) from None
        raise error
    return load_sweep(folder)


def load_sweep(folder: str | Path) -> Sweep:
    """A saved sweep, with no database."""
    folder = Path(folder)
    manifest = read_manifest(folder, kind="sweep")
    doc = read_json(folder / "sweep.json")
    return Sweep(folder, manifest, pd.DataFrame(doc["points"]), doc["knees"], doc["runs"])


def summarize_points(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per point: the geometric mean of its runs' metrics with a 95% interval."""
    if runs.empty:
        return pd.DataFrame()
    rows = []
    for (scale, route, pool, count), part in runs.groupby(
            ["scale", "route", "pool_size", "clients"], sort=True, dropna=False):
        row: dict[str, Any] = {"scale": scale, "route": route, "pool_size": pool,
                               "clients": int(count), "runs": len(part)}
        for metric in METRICS:
            mean, low, high = mean_interval(part[metric].tolist())
            row[metric] = _round(mean)
            row[f"{metric}_low"], row[f"{metric}_high"] = _round(low), _round(high)
        row["failed"] = int(part["failed"].sum())
        for extra in ("cl_waiting_max", "maxwait_ms", "connection_ms"):
            if extra in part and part[extra].notna().any():
                row[extra] = _round(float(part[extra].max()))
        rows.append(row)
    return pd.DataFrame(rows)


def find_knees(points: pd.DataFrame, p99_factor: float = P99_FACTOR) -> list[dict[str, Any]]:
    """Per series (scale, route, pool size): the smallest client count reaching 95% of the peak
    throughput, and the smallest whose p99 exceeds ``p99_factor`` × the series' lowest p99.

    >>> frame = pd.DataFrame({"scale": 1, "route": "direct", "pool_size": None,
    ...     "clients": [1, 2, 4, 8], "tps": [100, 190, 250, 255], "p99": [2, 2, 3, 9]})
    >>> find_knees(frame)[0]["throughput_knee"], find_knees(frame)[0]["p99_knee"]
    (4, 8)
    """
    knees = []
    if points.empty:
        return knees
    for (scale, route, pool), part in points.groupby(["scale", "route", "pool_size"],
                                                     sort=True, dropna=False):
        part = part.sort_values("clients")
        peak = float(part["tps"].max())
        reaching = part[part["tps"] >= KNEE_SHARE * peak]
        lowest = float(part["p99"].min())
        climbed = part[part["p99"] > p99_factor * lowest]
        knees.append({
            "series": _series(scale, route, pool), "scale": scale, "route": route,
            "pool_size": None if pool is None or (isinstance(pool, float) and math.isnan(pool))
            else pool,
            "peak_tps": _round(peak), "peak_at": int(part.loc[part["tps"].idxmax(), "clients"]),
            "throughput_knee": int(reaching["clients"].min()) if len(reaching) else None,
            "p99_knee": int(climbed["clients"].min()) if len(climbed) else None,
            "p99_factor": p99_factor,
        })
    return knees


def _record(run: Run, label: str, scale: float, route: Route, count: int, round_no: int
            ) -> dict[str, Any]:
    lat = run.summary.get("latency_ms") or {}
    pool = run.summary.get("pool") or {}
    return {"label": label, "round": round_no, "scale": scale, "route": route.label,
            "pool_size": route.pool_size if route.kind == "pgbouncer" else None,
            "clients": count, "status": run.status, "tps": run.summary.get("tps"),
            "p50": lat.get("p50"), "p95": lat.get("p95"), "p99": lat.get("p99"),
            "failed": run.summary.get("failed") or 0,
            "cl_waiting_max": pool.get("cl_waiting_max"), "maxwait_ms": pool.get("maxwait_ms"),
            "connection_ms": run.summary.get("connection_ms")}


def _finished_unrecorded(runs: Path, planned: dict[str, tuple[float, Route, int, int]],
                         records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs saved just before an interruption, before they were recorded: they count too."""
    known = {r["label"] for r in records}
    found = []
    for label, (scale, route, count, round_no) in planned.items():
        if label not in known and (runs / label / "manifest.json").is_file():
            found.append(_record(load_run(runs / label), label, scale, route, count, round_no))
    return found


def _label(scale: float, route: Route, count: int, round_no: int, scales: int, routes: int
           ) -> str:
    parts = []
    if scales > 1:
        parts.append(f"s{scale:g}".replace(".", "p"))
    if routes > 1:
        parts.append(f"pool{route.pool_size}")
    parts.append(f"c{count}")
    return "-".join(parts) + f"-r{round_no}"


def _series(scale: float, route: str, pool: Any) -> str:
    return f"scale {scale:g}, {route}"


def _increasing(option: str, values: list[Any] | None, *, whole: bool) -> list[Any]:
    values = list(values or [])
    ok = bool(values) and all(
        not isinstance(v, bool) and isinstance(v, int | float) and math.isfinite(v) and v > 0
        and (not whole or float(v) == int(v)) for v in values)
    if ok and any(b <= a for a, b in itertools.pairwise(values)):
        ok = False
    if not ok:
        kind = "whole numbers >= 1" if whole else "numbers > 0"
        raise WorkbenchError(f"{option} must be increasing {kind}, got {values!r}",
                             f"e.g. {option} 1,4,16,64" if whole else f"e.g. {option} 0.1,0.5,1")
    return [int(v) for v in values] if whole else [float(v) for v in values]


def _jobs(clients: int) -> int:
    """pgbench threads: the most that divide the clients, up to the CPUs."""
    cpus = os.cpu_count() or 1
    return max(d for d in range(1, min(cpus, clients) + 1) if clients % d == 0)


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


def parse_list(text: str, *, whole: bool = True) -> list[Any]:
    """``1,4,16`` → [1, 4, 16] (the CLI's lists), with a one-line error for anything else.

    >>> parse_list("1, 4,16")
    [1, 4, 16]
    """
    try:
        values = [int(p) if whole else float(p) for p in text.split(",") if p.strip()]
    except ValueError:
        kind = "whole numbers" if whole else "numbers"
        raise WorkbenchError(f"{text!r} is not a comma-separated list of {kind}",
                             "e.g. 1,4,16,64") from None
    return values
