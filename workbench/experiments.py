"""Experiments a sceptic would accept: two arms from identical starting states, interleaved,
compared with honest intervals.

How one experiment runs:

1. The dataset is loaded once into a template database (:mod:`workbench.copies`); every measured
   run starts from a fresh file copy of it, so both arms see the same rows, pages, visibility map
   and planner statistics, and no run sees what an earlier one wrote.
2. The variant (indexes, SQL such as a migration, database settings) is applied to the "after"
   arm's copy only; then both arms get the same treatment: a CHECKPOINT, the same warm-up (left
   out of every figure), the measured run.
   One unrecorded burn-in run of the baseline comes first: on a freshly started or freshly loaded
   server the first run of a series was measured the slowest in 8 of 10 experiments (WAL segments
   created rather than recycled, caches filling), a one-time effect no arm should absorb.
3. Arms alternate in a balanced order (ABBA...) over ``repeat`` rounds, in two phases: throughput
   under closed-loop load (fixed clients), then latency at the same offered load in both arms
   (pgbench's Poisson schedule, ``-R``; latency counted from the scheduled start, lag apart). The
   rate is ``--rate`` or 70% of the slower arm's mean throughput, and is stated.
4. Every metric's change comes with a 95% interval from the runs (:mod:`workbench.intervals`) and a
   verdict: faster, slower or no significant change.

With ``aa=True`` both arms are the same state: the comparison must say "no significant change".

>>> exp = experiment("shop", indexes="auto", budget_mb=50, duration=20, repeat=3)  # doctest: +SKIP
>>> exp.comparison["verdicts"][0]                                                # doctest: +SKIP
{'comparison': 'throughput', 'metric': 'tps', 'change_pct': 31.2, 'ci_pct': [24.0, 38.9], ...}
>>> load_experiment(exp.out).runs["throughput"]["after"][0].summary["tps"]        # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import html
import math
import random
import shutil
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from workbench.connect import connect, resolve_dsn
from workbench.copies import clean_leftovers, ensure_template, fresh_copy, keep_copy
from workbench.datasets import Dataset, get_dataset
from workbench.errors import Incomplete, WorkbenchError
from workbench.folders import (
    check_writable,
    private_tempdir,
    read_json,
    read_manifest,
    read_text,
    result_folder,
    timestamp,
    write_json,
)
from workbench.indexes import BuiltIndex, IndexSpec, build_index
from workbench.intervals import METHOD, MIN_EFFECT_PCT, difference
from workbench.loader import split_statements
from workbench.plans.capture import PlanCapture, explain_workload, load_plans
from workbench.plans.diff import diff_plans
from workbench.pooler import Route, check_protocol
from workbench.runs import Run, RunOptions, load_run, run_workload
from workbench.target import Target

ARMS = ("before", "after")
BURN_IN_MAX_S = 10  # the burn-in run lasts as long as a measured one, at most this
PHASES = ("throughput", "latency")
RATE_SHARE = 0.7  # the latency phase's default rate: this share of the slower arm's throughput
THIN_EVIDENCE = 3  # fewer runs per arm than this: the report says the evidence is thin
LATENCY_METRICS = ("p50", "p95", "p99")


@dataclass
class Variant:
    """What the "after" arm changes on its copy: indexes, SQL statements, database settings."""

    indexes: list[str] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)
    route: Route | None = None  # how the arm's clients connect (direct, tcp, a pooler)

    @property
    def empty(self) -> bool:
        """True for an A/A experiment (nothing changes)."""
        return not (self.indexes or self.statements or self.settings or self.route)

    @property
    def changes_data(self) -> bool:
        """Whether the variant changes the copy (anything but the route)."""
        return bool(self.indexes or self.statements or self.settings)

    def describe(self) -> str:
        """One line for reports.

        >>> Variant(settings={"work_mem": "64kB"}).describe()
        'settings work_mem=64kB'
        """
        parts = []
        if self.indexes:
            parts.append(f"{len(self.indexes)} index(es)")
        if self.statements:
            parts.append(f"{len(self.statements)} SQL statement(s)")
        if self.settings:
            parts.append("settings " + ", ".join(f"{k}={v}" for k, v in self.settings.items()))
        if self.route:
            parts.append(f"clients via {self.route.label}")
        return "; ".join(parts) or "nothing (A/A: both arms are the same state)"

    def apply(self, copy: Target) -> list[BuiltIndex]:
        """Change a copy: build the indexes (timed, sized), run the statements, set the settings
        for the database (new sessions, such as pgbench's, pick them up)."""
        built = [build_index(copy.dsn, IndexSpec.from_ddl(ddl)) for ddl in self.indexes]
        with connect(copy.dsn) as conn:
            for statement in self.statements:
                try:
                    conn.execute(statement)  # type: ignore[arg-type]  # the user's variant SQL
                except psycopg.Error as exc:
                    raise WorkbenchError(
                        f"the variant's statement failed: {statement[:80]!r}: "
                        f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                        "fix the --sql file; nothing was changed outside the experiment's copy",
                    ) from None
            for name, value in self.settings.items():
                try:
                    conn.execute(sql.SQL("ALTER DATABASE {} SET {} = {}").format(
                        sql.Identifier(copy.database), sql.Identifier(name), sql.Literal(value)))
                except psycopg.Error as exc:
                    raise WorkbenchError(
                        f"setting {name}={value} failed: {str(exc).splitlines()[0]}",
                        "use a setting a database can carry (see ALTER DATABASE ... SET)",
                    ) from None
        return built


@dataclass
class Experiment:
    """A finished (or loaded) experiment."""

    out: Path
    manifest: dict[str, Any]
    comparison: dict[str, Any]
    runs: dict[str, dict[str, list[Run]]]
    plans_before: PlanCapture | None
    plans_after: PlanCapture | None
    advice: dict[str, Any] | None = None

    @property
    def status(self) -> str:
        """complete or incomplete."""
        return str(self.manifest.get("status"))

    @property
    def before(self) -> Run:
        """The first throughput run of the "before" arm."""
        return self.runs["throughput"]["before"][0]

    @property
    def after(self) -> Run:
        """The first throughput run of the "after" arm."""
        return self.runs["throughput"]["after"][0]

    def all_runs(self) -> list[tuple[str, Run]]:
        """(label, run) of every run in the order they ran."""
        order = self.comparison.get("run_order") or []
        found = {r.out.name: r for phase in self.runs.values() for arm in phase.values()
                 for r in arm}
        return [(name, found[name]) for name in order if name in found]

    def to_json(self) -> dict[str, Any]:
        """The ``workbench experiment --json`` document."""
        c = self.comparison
        return {"out": str(self.out), "status": self.status, "reason": self.manifest.get("reason"),
                "variant": c.get("variant"), "indexes": c.get("indexes", []),
                "repeats": c.get("repeats"), "order": c.get("order"), "method": c.get("method"),
                "evidence": c.get("evidence"), "verdicts": c.get("verdicts", []),
                "throughput": c.get("throughput"), "latency": c.get("latency"),
                "before": c.get("before"), "after": c.get("after"), "change": c.get("change"),
                "plans_changed": c.get("plans_changed", []),
                "kept_database": self.manifest.get("kept_database")}

    def __repr__(self) -> str:
        verdicts = "; ".join(f"{v['comparison']} {v['metric']} {v['verdict']}"
                             for v in self.comparison.get("verdicts", [])[:3])
        return f"<Experiment {self.out} {self.status}: {verdicts}>"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(v['comparison'])}</td><td>{html.escape(v['metric'])}</td>"
            f"<td>{signed(v['change_pct'])}</td><td>{interval(v['ci_pct'])}</td>"
            f"<td><b>{html.escape(v['verdict'])}</b></td></tr>"
            for v in self.comparison.get("verdicts", []))
        note = self.comparison.get("evidence") or ""
        return (f"<p><b>Experiment</b> {html.escape(str(self.out))} ({self.status}): "
                f"{html.escape(str(self.comparison.get('variant')))}; "
                f"{self.comparison.get('repeats')} runs per arm. {html.escape(note)}</p>"
                "<table><tr><th>comparison</th><th>metric</th><th>change</th><th>95% interval"
                f"</th><th>verdict</th></tr>{rows}</table>")


def experiment(
    dataset: str | Path | Dataset = "shop", *, indexes: str | Path | list[str] | None = "auto",
    sql_file: str | Path | None = None, statements: list[str] | None = None,
    settings: dict[str, str] | None = None, aa: bool = False,
    baseline: Variant | None = None, via: str | None = None, pool_size: int | None = None,
    budget_mb: float = 50.0, max_indexes: int | None = None, clients: int = 8,
    jobs: int | None = None,
    duration: float = 20, warmup: float = 5, repeat: int = 3, rate: float | None = None,
    protocol: str = "simple", connect_each_transaction: bool = False,
    latency: bool = True, order: str = "abba", min_effect_pct: float = MIN_EFFECT_PCT,
    scale: float = 1.0, seed: int = 42, dsn: str | None = None, out: str | Path | None = None,
    keep: bool = False, progress: bool = True,
) -> Experiment:
    """Compare a baseline with a variant of it (or with itself: ``aa=True``) and save one folder.

    The variant is ``indexes`` ("auto": the advisor's choice within ``budget_mb``; a SQL file of
    CREATE INDEX statements; or a list of them), plus any ``statements`` / ``sql_file`` and
    database ``settings``, and ``via`` (with ``pool_size``): the after arm's clients go through
    a pooler, e.g. ``pgbouncer:transaction``. ``baseline`` is applied to both arms first (e.g.
    the indexes already in production, so the variant is measured against the tuned state).
    ``keep`` keeps the last "after" copy as a database of its own.
    """
    ds = dataset if isinstance(dataset, Dataset) else get_dataset(dataset)
    _check_options(repeat, min_effect_pct, rate, order)
    options = RunOptions(clients=clients, jobs=jobs, duration=duration, warmup=warmup,
                         random_seed=seed, protocol=protocol,
                         connect_each_transaction=connect_each_transaction)
    options.validate()
    folder = Path(out) if out else Path("experiments") / f"{ds.name}-{timestamp()}"
    check_writable(folder)
    extra = list(statements or []) + (_read_sql(Path(sql_file)) if sql_file else [])
    if aa and (extra or settings or via or (indexes not in (None, "auto"))):
        raise WorkbenchError("an A/A experiment changes nothing: --aa takes no variant",
                             "drop --indexes / --sql / --set / --via, or drop --aa")
    route = Route.parse(via, pool_size) if via or pool_size else None
    base = baseline or Variant()
    for chosen in (route, base.route):
        if chosen:
            check_protocol(chosen, protocol)
    automatic = not (aa or extra or settings or route)
    given = _given_indexes(indexes, automatic)  # read (and checked) before anything is loaded
    clean_leftovers(resolve_dsn(dsn))
    template = ensure_template(ds, scale=scale, seed=seed, dsn=dsn, progress=progress)
    ddls, advice_doc = (given, None) if given is not None else \
        _advised(ds, template, budget_mb, max_indexes)
    variant = Variant(ddls, extra, dict(settings or {}), route)
    if variant.empty and not aa:
        raise WorkbenchError("no index to try: the advisor recommended none within the budget"
                             if indexes == "auto" else "the variant changes nothing",
                             "raise --budget-mb, pass --indexes FILE, --sql FILE or --set, or "
                             "run an A/A check with --aa")
    measure = _Measurement(ds, template, variant, options, repeat, order, seed, rate, latency,
                           keep, progress, base)
    with result_folder(folder, kind="experiment") as staged:
        error = measure.all(staged.path)
        comparison = compare(measure, min_effect_pct)
        if advice_doc:
            write_json(staged.path / "advice.json", advice_doc)
        write_json(staged.path / "comparison.json", comparison)
        first = measure.first_run()
        staged.manifest.update(
            status="complete" if comparison["complete"] else "incomplete",
            reason=comparison.get("withheld"), dataset=ds.name, scale=scale, seed=seed,
            template=template.database, variant=variant.describe(),
            baseline=measure.baseline.describe() if not measure.baseline.empty else None,
            variant_detail={"indexes": variant.indexes, "statements": variant.statements,
                            "settings": variant.settings},
            aa=aa, budget_mb=budget_mb, repeat=repeat, order=order, rate=comparison.get("rate"),
            min_effect_pct=min_effect_pct, run_options=options.__dict__,
            kept_database=measure.kept,
            server_version=first.manifest.get("server_version") if first else None,
            settings=first.manifest.get("settings") if first else None,
        )
    if error is not None:
        if isinstance(error, WorkbenchError):
            kind = Incomplete if isinstance(error, Incomplete) else WorkbenchError
            raise kind(f"{error.what}; what was measured is saved in {folder}, marked "
                       "incomplete", error.hint) from None
        raise error
    return load_experiment(folder)


class _Measurement:
    """The measured part of an experiment: the schedule of runs, each from a fresh copy."""

    def __init__(self, ds: Dataset, template: Target, variant: Variant, options: RunOptions,
                 repeat: int, order: str, seed: int, rate: float | None, latency: bool,
                 keep: bool, progress: bool, baseline: Variant) -> None:
        self.ds, self.template, self.variant, self.options = ds, template, variant, options
        self.baseline = baseline
        self.schedule = schedule(repeat, order, seed)
        self.rate_given, self.latency, self.keep, self.progress = rate, latency, keep, progress
        self.runs: dict[str, dict[str, list[Run]]] = {p: {a: [] for a in ARMS} for p in PHASES}
        self.plans: dict[str, PlanCapture] = {}
        self.built: list[BuiltIndex] = []
        self.timeline: list[dict[str, Any]] = []
        self.run_order: list[str] = []
        self.rate: float | None = rate
        self.rate_source = "given (--rate)" if rate else None
        self.kept: str | None = None
        self.error: BaseException | None = None
        self.total = len(self.schedule) * 2 * (2 if latency else 1)

    def all(self, folder: Path) -> BaseException | None:
        """Run every phase; an error or interruption stops it and is returned (what was measured
        until then is kept)."""
        try:
            self.burn_in()
            self.phase("throughput", folder)
            if self.latency:
                if self.rate is None:
                    self.rate, self.rate_source = self.default_rate()
                self.phase("latency", folder)
        except (Exception, KeyboardInterrupt) as exc:
            self.error = exc
            self.recover(folder)
            if not any(self.runs[p][a] for p in PHASES for a in ARMS):
                raise
        return self.error

    def recover(self, folder: Path) -> None:
        """A run saved just before an interruption, before it was recorded, counts too."""
        for path in sorted((folder / "runs").glob("*/manifest.json")):
            label = path.parent.name
            if label not in self.run_order:
                phase, arm, _ = label.split("-")
                run = load_run(path.parent)
                self.runs[phase][arm].append(run)
                self.run_order.append(label)

    def burn_in(self) -> None:
        """One run of the baseline, from a fresh copy, measured by nobody: it takes the one-time
        costs of a series (new WAL segments, cold caches) so that the first recorded run does not."""
        self.say("burn-in run (not recorded)")
        started = time.time()
        scratch = private_tempdir("wb-burn-in-")
        try:
            with fresh_copy(self.template) as copy:
                self.prepare(copy, "before", "burn-in")
                route = self.baseline.route
                options = RunOptions(**{**self.options.__dict__,
                                        "duration": min(self.options.duration, BURN_IN_MAX_S)})
                run_workload(on=route.apply(copy) if route else copy, options=options,
                             out=scratch / "run", progress=False)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        self.timeline.append({"kind": "burn-in", "label": "burn-in (not recorded)",
                              "start": started, "end": time.time()})

    def default_rate(self) -> tuple[float, str]:
        means = {arm: statistics.fmean(r.summary["tps"] for r in self.runs["throughput"][arm])
                 for arm in ARMS}
        slower = min(means.values())
        return max(1.0, float(round(RATE_SHARE * slower))), \
            f"{RATE_SHARE:.0%} of the slower arm's mean throughput ({slower:.0f} tps)"

    def phase(self, phase: str, folder: Path) -> None:
        opts = RunOptions(**{**self.options.__dict__,
                             "rate": self.rate if phase == "latency" else None})
        last_round = len(self.schedule)
        for round_no, arms in enumerate(self.schedule, start=1):
            for arm in arms:
                label = f"{phase}-{arm}-{round_no}"
                self.say(f"{label} (run {len(self.run_order) + 1} of {self.total})")
                keep = self.keep and phase == "throughput" and arm == "after" \
                    and round_no == last_round
                with fresh_copy(self.template, keep=keep) as copy:
                    self.prepare(copy, arm, label)
                    route = (self.variant.route if arm == "after" else None) or self.baseline.route
                    run = run_workload(on=route.apply(copy) if route else copy, options=opts,
                                       out=folder / "runs" / label, progress=self.progress)
                    self.runs[phase][arm].append(run)
                    self.run_order.append(label)
                    self.timeline.append(_span(label, run))
                    if run.status != "complete":
                        raise Incomplete(f"run {label} is incomplete: {run.manifest.get('reason')}",
                                         "check the server; the experiment stopped there")
                    if phase == "throughput" and arm not in self.plans:
                        self.say(f"plans of the {arm} arm")
                        capture = explain_workload(self.ds.path, dsn=copy.dsn)
                        capture.save(folder / f"plans-{arm}")
                        self.plans[arm] = capture
                    if keep:
                        self.kept = keep_copy(copy, f"{self.ds.name}_after_{timestamp()}")

    def prepare(self, copy: Target, arm: str, label: str) -> None:
        """The baseline on both copies, the variant on the "after" copy, then the same settling
        for both arms."""
        if self.baseline.changes_data:
            self.baseline.apply(copy)
        if arm == "after" and self.variant.changes_data:
            started = time.time()
            built = self.variant.apply(copy)
            self.timeline.append({"kind": "variant", "label": f"variant {label}",
                                  "start": started, "end": time.time()})
            self.built = self.built or built
        with connect(copy.dsn) as conn, contextlib.suppress(psycopg.Error):
            conn.execute("CHECKPOINT")  # the same clean start: no dirty pages from the build

    def first_run(self) -> Run | None:
        for phase in PHASES:
            for arm in ARMS:
                if self.runs[phase][arm]:
                    return self.runs[phase][arm][0]
        return None

    def say(self, text: str) -> None:
        if self.progress:
            print(f"experiment {self.ds.name}: {text}", file=sys.stderr, flush=True)


def schedule(repeat: int, order: str = "abba", seed: int = 42) -> list[list[str]]:
    """The order of arms, round by round: ABBA... (balanced) or a seeded random order per round.

    >>> schedule(3)
    [['before', 'after'], ['after', 'before'], ['before', 'after']]
    """
    if order == "abba":
        return [list(ARMS) if r % 2 == 0 else list(reversed(ARMS)) for r in range(repeat)]
    rng = random.Random(seed)
    return [rng.sample(list(ARMS), 2) for _ in range(repeat)]


def compare(measure: _Measurement, min_effect_pct: float = MIN_EFFECT_PCT) -> dict[str, Any]:
    """The comparison document: per-phase differences with intervals, verdicts, plan changes."""
    runs = measure.runs
    incomplete = measure.error is not None or any(
        r.status != "complete" for p in PHASES for a in ARMS for r in runs[p][a])
    repeats = min((len(runs["throughput"][a]) for a in ARMS), default=0)
    out: dict[str, Any] = {
        "method": METHOD.format(min_effect=min_effect_pct), "min_effect_pct": min_effect_pct,
        "variant": measure.variant.describe(),
        "baseline": None if measure.baseline.empty else measure.baseline.describe(),
        "repeats": repeats, "order": measure.schedule,
        "run_order": measure.run_order, "complete": not incomplete,
        "evidence": (f"{repeats} run(s) per arm; run at least {THIN_EVIDENCE} per arm "
                     "(--repeat) for intervals worth acting on")
        if repeats < THIN_EVIDENCE else None,
        "rate": measure.rate, "rate_source": measure.rate_source,
        "throughput": _phase_comparison(runs["throughput"], "throughput", min_effect_pct),
        "latency": _phase_comparison(runs["latency"], "latency", min_effect_pct)
        if any(runs["latency"].values()) else None,
        "indexes": [b.to_json() for b in measure.built],
        "timeline": measure.timeline,
        "before": arm_summary(runs["throughput"]["before"]),
        "after": arm_summary(runs["throughput"]["after"]),
    }
    if out["latency"]:
        out["latency"]["rate"] = measure.rate
        out["latency"]["rate_source"] = measure.rate_source
    verdicts = [v for phase in ("throughput", "latency") if out[phase]
                for v in out[phase]["verdicts"]]
    if incomplete:
        out["withheld"] = _why_incomplete(measure)
        for v in verdicts:
            v["verdict"] = "withheld"
    out["verdicts"] = verdicts
    t = out["throughput"]["metrics"]
    out["change"] = {"tps_pct": t["tps"]["change_pct"], "p95_pct": t["p95"]["change_pct"],
                     "shared_read_pct": t["shared_read_per_tx"]["change_pct"]}
    out["plans_changed"] = _plans_changed(measure.plans.get("before"), measure.plans.get("after"))
    return out


def _phase_comparison(runs: dict[str, list[Run]], phase: str, min_effect: float
                      ) -> dict[str, Any]:
    def values(arm: str, get: Any) -> list[float]:
        return [v for r in runs[arm] if (v := get(r)) is not None]

    metrics: dict[str, Any] = {}
    if phase == "throughput":
        metrics["tps"] = difference(values("before", _tps), values("after", _tps),
                                    higher_is_better=True, min_effect_pct=min_effect)
    for key in LATENCY_METRICS:
        metrics[key] = difference(values("before", _latency(key)), values("after", _latency(key)),
                                  higher_is_better=False, min_effect_pct=min_effect)
    connection = lambda run: run.summary.get("connection_ms")  # noqa: E731 - with -C only
    if values("before", connection) or values("after", connection):
        metrics["connection_ms"] = difference(values("before", connection),
                                              values("after", connection),
                                              higher_is_better=False, min_effect_pct=min_effect)
    reads = difference(values("before", _reads), values("after", _reads), higher_is_better=False,
                       min_effect_pct=min_effect)
    metrics["shared_read_per_tx"] = {**reads, "verdict": None}
    names = sorted({s for arm in ARMS for r in runs[arm] for s in r.summary.get("scripts", {})})
    scripts = {}
    for name in names:
        entry = {key: difference(values("before", _latency(key, name)),
                                 values("after", _latency(key, name)),
                                 higher_is_better=False, min_effect_pct=min_effect)
                 for key in ("p50", "p95")}
        if phase == "throughput":
            entry["tps"] = difference(values("before", _tps_of(name)),
                                      values("after", _tps_of(name)),
                                      higher_is_better=True, min_effect_pct=min_effect)
        scripts[name] = entry
    label = "throughput" if phase == "throughput" else "latency at a fixed rate"
    verdicts = [{"comparison": label, "metric": key, **{k: m[k] for k in
                ("change_pct", "ci_pct", "runs", "verdict", "why")}}
                for key, m in metrics.items() if m.get("verdict") is not None]
    doc: dict[str, Any] = {
        "metrics": metrics, "scripts": scripts, "verdicts": verdicts,
        "runs": {arm: [_run_row(r) for r in runs[arm]] for arm in ARMS},
        "routes": {arm: sorted({r.manifest.get("route") or "direct" for r in runs[arm]})
                   for arm in ARMS},
    }
    if phase == "latency":
        doc["sustained"] = {arm: all(r.summary.get("sustained", True) for r in runs[arm])
                            for arm in ARMS}
    return doc


def _tps(run: Run) -> float | None:
    return run.summary.get("tps")


def _tps_of(script: str) -> Any:
    return lambda run: (run.summary.get("scripts", {}).get(script) or {}).get("tps")


def _latency(key: str, script: str | None = None) -> Any:
    def get(run: Run) -> float | None:
        block = run.summary if script is None else run.summary.get("scripts", {}).get(script) or {}
        return (block.get("latency_ms") or {}).get(key)

    return get


def _reads(run: Run) -> float | None:
    tx = run.summary.get("transactions") or 0
    return run.stats.buffers()["shared_read"] / tx if tx else None


def _run_row(run: Run) -> dict[str, Any]:
    lat = run.summary.get("latency_ms") or {}
    return {"out": run.out.name, "status": run.status, "tps": run.summary.get("tps"),
            "p50": lat.get("p50"), "p95": lat.get("p95"), "p99": lat.get("p99"),
            "failed": run.summary.get("failed"), "sample": run.summary.get("sample"),
            "pool": run.summary.get("pool"), "connection_ms": run.summary.get("connection_ms")}


def arm_summary(runs: list[Run]) -> dict[str, Any]:
    """One arm's runs as one summary: the mean over runs of each figure (counts summed)."""
    if not runs:
        return {}

    def mean(values: list[Any]) -> float | None:
        found = [float(v) for v in values if v is not None]
        return round(statistics.fmean(found), 3) if found else None

    def block(items: list[dict[str, Any]]) -> dict[str, Any]:
        keys = sorted({k for i in items for k in (i.get("latency_ms") or {})})
        return {"transactions": sum(i.get("transactions") or 0 for i in items),
                "failed": sum(i.get("failed") or 0 for i in items),
                "tps": mean([i.get("tps") for i in items]),
                "latency_ms": {k: mean([(i.get("latency_ms") or {}).get(k) for i in items])
                               for k in keys}}

    summary = block([r.summary for r in runs])
    names = sorted({s for r in runs for s in r.summary.get("scripts", {})})
    summary["scripts"] = {n: block([r.summary["scripts"][n] for r in runs
                                    if n in r.summary.get("scripts", {})]) for n in names}
    reads = [v for r in runs if (v := _reads(r)) is not None]
    summary["shared_read_per_tx"] = round(statistics.fmean(reads), 3) if reads else None
    summary["runs"] = len(runs)
    return summary


def _plans_changed(before: PlanCapture | None, after: PlanCapture | None) -> list[dict[str, str]]:
    changed = []
    if before and after:
        for stmt in before.statements:
            other = next((s for s in after.statements if s.name == stmt.name), None)
            if stmt.plan and other and other.plan:
                d = diff_plans(stmt.plan, other.plan)
                if not d.verdict.startswith("same plan shape"):
                    changed.append({"statement": stmt.name, "verdict": d.verdict})
    return changed


def _why_incomplete(measure: _Measurement) -> str:
    if isinstance(measure.error, KeyboardInterrupt):
        return "interrupted: the runs after the interruption are missing"
    if measure.error is not None:
        return str(measure.error)
    bad = [r.out.name for p in PHASES for a in ARMS for r in measure.runs[p][a]
           if r.status != "complete"]
    return f"incomplete runs: {', '.join(bad)}"


def load_experiment(folder: str | Path) -> Experiment:
    """A saved experiment, with no database."""
    folder = Path(folder)
    manifest = read_manifest(folder, kind="experiment")
    comparison = read_json(folder / "comparison.json")
    runs: dict[str, dict[str, list[Run]]] = {p: {a: [] for a in ARMS} for p in PHASES}
    for name in comparison.get("run_order", []):
        phase, arm, _ = name.split("-")
        runs[phase][arm].append(load_run(folder / "runs" / name))
    advice = read_json(folder / "advice.json") if (folder / "advice.json").exists() else None
    plans = {k: load_plans(folder / f"plans-{k}") if (folder / f"plans-{k}").exists() else None
             for k in ARMS}
    return Experiment(folder, manifest, comparison, runs, plans["before"], plans["after"], advice)


def _check_options(repeat: Any, min_effect_pct: Any, rate: Any, order: str) -> None:
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise WorkbenchError(f"--repeat must be a whole number >= 1, got {repeat!r}",
                             "e.g. --repeat 3")
    if not isinstance(min_effect_pct, int | float) or not math.isfinite(min_effect_pct) \
            or min_effect_pct < 0:
        raise WorkbenchError(f"--min-effect must be a percentage >= 0, got {min_effect_pct!r}",
                             "e.g. --min-effect 2")
    if rate is not None and (not isinstance(rate, int | float) or not math.isfinite(rate)
                             or rate <= 0):
        raise WorkbenchError(f"--rate must be a number > 0, got {rate!r}",
                             "leave it out to use 70% of the slower arm's throughput")
    if order not in ("abba", "random"):
        raise WorkbenchError(f"unknown --order {order!r}", "use abba or random")


def _given_indexes(indexes: str | Path | list[str] | None, automatic: bool) -> list[str] | None:
    """The DDL of the indexes to try when they are given (a list or a file); None when the
    advisor is to choose them."""
    if isinstance(indexes, list):
        return [IndexSpec.from_ddl(d).ddl for d in indexes]
    if indexes is None or (indexes == "auto" and not automatic):
        return []
    if str(indexes) != "auto":
        return [IndexSpec.from_ddl(d).ddl for d in _read_sql(Path(indexes))]
    return None


def _advised(ds: Dataset, template: Target, budget_mb: float, max_indexes: int | None
             ) -> tuple[list[str], dict[str, Any]]:
    """The advisor's indexes, chosen on a fresh copy of the template, and its advice."""
    from workbench.advisor.advise import advise

    with fresh_copy(template) as copy:
        advice = advise(ds.path, dsn=copy.dsn, budget_mb=budget_mb, max_indexes=max_indexes)
    return [r.ddl for r in advice.recommendations], advice.to_json()


def _read_sql(path: Path) -> list[str]:
    text = read_text(path, "SQL file")
    statements = [s for s in split_statements(text) if s.strip()]
    if not statements:
        raise WorkbenchError(f"{path} holds no SQL statement", "pass a SQL file of statements")
    return statements


def _span(label: str, run: Run) -> dict[str, Any]:
    start = run.manifest.get("started_at")
    end = run.manifest.get("ended_at")
    import datetime as dt

    def epoch(text: Any) -> float:
        return dt.datetime.fromisoformat(str(text)).timestamp() if text else 0.0

    return {"kind": "run", "label": label, "start": epoch(start), "end": epoch(end)}


def signed(pct: float | None) -> str:
    """+12.5% / -3.0% / n/a."""
    return "n/a" if pct is None else f"{pct:+.1f}%"


def interval(ci: list[float] | None) -> str:
    """[-3.1%, +4.0%] / no interval; bounds beyond +999% are shown as >+999%.

    >>> interval([-99.5, 52344.7])
    '[-99.5%, >+999%]'
    """
    if not ci:
        return "no interval"
    return "[" + ", ".join(">+999%" if c > 999 else f"{c:+.1f}%" for c in ci) + "]"
