"""Rehearsing migrations under load: a fresh copy of the dataset, the workload running, the pending
migrations applied at a fixed point, then undone, while locks and latency are watched.

What it records: per-second throughput and latency (the run folder), lock waits sampled every
0.1 s from pg_stat_activity with the blocked and the blocking statement, how long each migration
statement ran (for a migration in one transaction its locks are held until the commit: that whole
span is reported as the lock hold), failed transactions, and whether the schema after the undo
equals the schema before (``pg_dump --schema-only``). An INVALID index left after the apply or the
undo (a concurrent build that failed) is reported as a failure, like a failed step.

>>> r = rehearse(Path("datasets/shop/migration-examples/dangerous"), "shop", duration=20)  # doctest: +SKIP
>>> r.summary["lock_waits"]["blocked_sessions"], r.summary["schema_restored"]             # doctest: +SKIP
(8, True)
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.datasets import get_dataset
from workbench.errors import WorkbenchError
from workbench.folders import read_manifest, result_folder, timestamp, write_json
from workbench.loader import load
from workbench.migrations.files import read_migrations
from workbench.migrations.history import (
    applied_versions,
    apply,
    history_rows,
    schema_snapshot,
    undo,
)
from workbench.runs import Run, RunOptions, load_run, run_workload
from workbench.stats import WaitSampler


@dataclass
class Rehearsal:
    """A rehearsal's run, its marks and its verdicts."""

    out: Path
    summary: dict[str, Any]
    run: Run
    locks: pd.DataFrame

    def to_json(self) -> dict[str, Any]:
        """The ``workbench migrate rehearse --json`` document."""
        return {"out": str(self.out), **self.summary}

    def timeline(self) -> Any:
        """Throughput and p95 per second with the migration and the undo marked."""
        from workbench.plots import timeline

        return timeline([("run", self.run.transactions)], self.summary["marks"])

    def dashboard(self) -> Any:
        """The run's dashboard (:func:`workbench.plots.dashboard`) with the apply and the undo
        shaded: what the server, the statements and the host did while the migration ran."""
        from workbench.plots import dashboard

        return dashboard(self.run, phases=self.summary["marks"],
                         title="Rehearsal under load: the migration's apply and undo (grey)")


def rehearse(
    folder: Path, dataset: str | Path, *, clients: int = 8, jobs: int | None = None,
    duration: float = 30, scale: float = 1.0, seed: int = 42, database: str | None = None,
    dsn: str | None = None, out: str | Path | None = None, apply_at: float | None = None,
    undo_at: float | None = None, progress: bool = True,
) -> Rehearsal:
    """Rehearse the pending migrations of ``folder`` on a fresh copy of ``dataset`` under load."""
    ds = get_dataset(dataset)
    migrations = read_migrations(Path(folder))
    if not migrations.versioned:
        raise WorkbenchError(f"{folder} holds no versioned migration", "add V<version>__*.sql files")
    apply_at = duration * 0.3 if apply_at is None else apply_at
    undo_at = duration * 0.65 if undo_at is None else undo_at
    if not 0 < apply_at < undo_at < duration:
        raise WorkbenchError("the migration must be applied, then undone, within the run",
                             "choose 0 < --apply-at < --undo-at < --duration")
    db = database or f"{ds.name}_rehearsal"
    target = load(ds.name, scale=scale, seed=seed, database=db, dsn=dsn, replace=True,
                  progress=progress).dsn
    before = schema_snapshot(target)
    folder_out = Path(out) if out else Path("rehearsals") / f"{ds.name}-{timestamp()}"
    with result_folder(folder_out, kind="rehearsal") as staged:
        outcome: dict[str, Any] = {}

        def workload() -> None:
            try:
                outcome["run"] = run_workload(
                    ds.name, dsn=target, options=RunOptions(clients=clients, jobs=jobs,
                                                             duration=duration, random_seed=seed),
                    out=staged.path / "run", progress=False, sample_waits=None)
            except BaseException as exc:  # noqa: BLE001 - reported below
                outcome["error"] = exc

        marks: list[dict[str, Any]] = []
        steps: dict[str, Any] = {}
        with WaitSampler(target, interval=0.1) as sampler:
            thread = threading.Thread(target=workload, name="workbench-rehearsal-load")
            started = time.time()
            thread.start()
            _sleep_until(started + apply_at)
            current = applied_versions(_rows(target))
            steps["apply"] = _step(lambda: apply(target, Path(folder)), "apply", marks)
            invalid = {"apply": invalid_indexes(target)}
            first = min(m.version for m in migrations.versioned if m.version not in current)
            _sleep_until(started + undo_at)
            steps["undo"] = _step(lambda: undo(target, Path(folder), target=".".join(
                map(str, first))), "undo", marks)
            invalid["undo"] = invalid_indexes(target)
            thread.join()
        if "error" in outcome:
            raise outcome["error"]
        run: Run = outcome["run"]
        after = schema_snapshot(target)
        locks = sampler.lock_frame()
        summary = _summary(run, locks, steps, marks, started, before == after, before, after)
        summary["invalid_indexes"] = invalid
        summary["failures"] = [f"{name} failed: {step['error']}" for name, step in steps.items()
                               if step["error"]] + [f"INVALID index {index} after the {name}"
                                                    for name, found in invalid.items()
                                                    for index in found]
        locks.to_csv(staged.path / "locks.csv", index=False)
        write_json(staged.path / "rehearsal.json", summary)
        staged.manifest.update(status="complete", dataset=ds.name, scale=scale, seed=seed,
                               migrations=str(folder), clients=clients, duration=duration)
    return load_rehearsal(folder_out)


def load_rehearsal(folder: str | Path) -> Rehearsal:
    """A saved rehearsal, with no database."""
    folder = Path(folder)
    read_manifest(folder, kind="rehearsal")
    summary = json.loads((folder / "rehearsal.json").read_text())
    try:
        locks = pd.read_csv(folder / "locks.csv")
    except pd.errors.EmptyDataError:
        locks = pd.DataFrame()
    return Rehearsal(folder, summary, load_run(folder / "run"), locks)


def invalid_indexes(dsn: str) -> list[str]:
    """INVALID indexes of the database (a failed concurrent build leaves one)."""
    from workbench.connect import connect

    with connect(dsn) as conn:
        return [r[0] for r in conn.execute(
            "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_index i JOIN pg_class c "
            "ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE NOT i.indisvalid ORDER BY 1")]


def _rows(dsn: str) -> list[dict[str, Any]]:
    from workbench.connect import connect

    with connect(dsn) as conn:
        return history_rows(conn)


def _step(action: Any, label: str, marks: list[dict[str, Any]]) -> dict[str, Any]:
    started = time.time()
    try:
        done = action()
        error = None
    except WorkbenchError as exc:
        done, error = [], str(exc)
    ended = time.time()
    marks.append({"label": label, "start": started, "end": ended})
    return {"started": started, "seconds": round(ended - started, 3), "error": error,
            "migrations": [d.to_json() for d in done],
            "lock_hold_s": round(ended - started, 3)}


def _summary(run: Run, locks: pd.DataFrame, steps: dict[str, Any], marks: list[dict[str, Any]],
             started: float, restored: bool, before: str, after: str) -> dict[str, Any]:
    waiting = locks[locks["query"].notna()] if not locks.empty else locks
    blocked = int(waiting["pid"].nunique()) if not waiting.empty else 0
    blocking = sorted({str(q)[:200] for q in waiting.get("blocking_query", [])}) if blocked else []
    diff = [ln for ln in after.splitlines() if ln not in set(before.splitlines())][:20]
    ours = [st["sql"][:60] for m in steps["apply"]["migrations"] for st in m["statements"]
            if not st["sql"].upper().startswith("SET ")]
    by_apply = waiting[waiting["blocking_query"].astype(str).map(
        lambda q: any(q.startswith(o) for o in ours))] if blocked and ours else waiting.iloc[0:0]
    return {
        "status": run.status, "tps": run.summary["tps"], "failed": run.summary["failed"],
        "latency_ms": run.summary["latency_ms"],
        "apply": steps["apply"], "undo": steps["undo"],
        "marks": marks,
        "lock_waits": {"samples": int(len(waiting)), "blocked_sessions": blocked,
                       "blocked_statements": sorted({str(q)[:200] for q in waiting.get("query", [])})
                       if blocked else [],
                       "blocking_statements": blocking,
                       "longest_wait_s": round(float(waiting["waited_s"].max()), 3) if blocked else 0.0,
                       "blocked_by_migration": {"sessions": int(by_apply["pid"].nunique()),
                                                "samples": int(len(by_apply))}},
        "schema_restored": restored, "schema_diff": diff,
        "started_at": started,
    }


def _sleep_until(moment: float) -> None:
    delay = moment - time.time()
    if delay > 0:
        time.sleep(delay)
