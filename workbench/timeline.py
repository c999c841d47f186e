"""A run's timeline: what pgbench, the statements, the sessions, the server and the host did,
interval by interval, on the run's own time axis (``t``: seconds since the measured pgbench
started; each row covers the ``dt`` seconds before its ``t``).

Frames (saved under the run folder's ``timeline/``, re-loadable with no database):

- ``progress``: pgbench's own per-second progress (tps, latency, stddev, lag, failures);
- ``statements``: per interval and statement, calls, total and mean execution time, rows,
  buffers and temp blocks (the top statements by total time, the rest as ``other``), named after
  the workload's scripts where pg_stat_statements' text matches one;
- ``sessions``: average sessions per state, wait event type and event, by query id;
- ``server``: checkpoints (requested, timed), buffers written by the checkpointer, the
  background writer and backends, WAL bytes/records/full-page images, temp files/bytes, commits,
  deadlocks, blocks read/hit, autovacuum workers, sessions waiting on a lock;
- ``host``: CPU user/system/iowait/steal, run queue, disk bytes and await, dirty/writeback memory;
- ``lock_waits`` and ``plans``: log_lock_waits messages and auto_explain's JSON plans from the
  server log.

What could not be observed is listed, with why, in ``meta["missing"]`` (the run's manifest).

>>> run = load_run("runs/shop-20261127-101500")              # doctest: +SKIP
>>> run.timeline.server[["t", "checkpoints_req", "wal_bytes"]]  # doctest: +SKIP
>>> top_statements(run)                                      # doctest: +SKIP
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.folders import read_json, write_json, write_text
from workbench.hostmetrics import HOST_COLUMNS, host_rates
from workbench.serverlog import LOCK_COLUMNS, lock_waits, logged_plans, select_entries
from workbench.watcher import MARKER, STATEMENT_COUNTERS, TimelineWatcher

if TYPE_CHECKING:
    from workbench.plans import Plan
    from workbench.runs import Run

TOP_STATEMENTS = 10
OTHER = "other"
SERVER_COUNTERS = ["checkpoints_timed", "checkpoints_req", "buffers_checkpoint", "buffers_clean",
                   "buffers_backend", "wal_bytes", "wal_records", "wal_fpi", "temp_files",
                   "temp_bytes", "xact_commit", "xact_rollback", "deadlocks", "blks_read",
                   "blks_hit"]
SERVER_COLUMNS = ["t", "dt", *SERVER_COUNTERS, "autovacuum_workers", "lock_waiting_sessions",
                  "active_sessions"]
STATEMENT_COLUMNS = ["t", "dt", "queryid", "statement", *STATEMENT_COUNTERS, "mean_ms"]
SESSION_COLUMNS = ["t", "source", "state", "wait_event_type", "wait_event", "queryid",
                   "sessions"]
PLAN_COLUMNS = ["t", "pid", "queryid", "statement", "duration_ms", "node"]
FRAMES = ("server", "statements", "sessions", "host", "lock_waits")


@dataclass
class Timeline:
    """A run's per-interval frames, the plans its log holds, and what is missing and why."""

    meta: dict[str, Any]
    progress: pd.DataFrame
    server: pd.DataFrame = field(default_factory=pd.DataFrame)
    statements: pd.DataFrame = field(default_factory=pd.DataFrame)
    sessions: pd.DataFrame = field(default_factory=pd.DataFrame)
    host: pd.DataFrame = field(default_factory=pd.DataFrame)
    lock_waits: pd.DataFrame = field(default_factory=pd.DataFrame)
    plan_documents: list[dict[str, Any]] = field(default_factory=list)

    @property
    def interval(self) -> float:
        """Seconds between samples (as used: a too-short one is widened, and said so)."""
        return float(self.meta.get("interval_used_s") or self.meta.get("interval_s") or 1.0)

    @property
    def missing(self) -> dict[str, str]:
        """What could not be observed, and why."""
        return dict(self.meta.get("missing") or {})

    @property
    def plans(self) -> pd.DataFrame:
        """The plans auto_explain logged during the run, one row each (``plan(i)`` parses one)."""
        rows = [(p["t"], p["pid"], p.get("queryid"), p.get("statement"), p["duration_ms"],
                 _root_label(p["plan"])) for p in self.plan_documents]
        return pd.DataFrame(rows, columns=PLAN_COLUMNS)

    def plan(self, index: int) -> Plan:
        """The ``index``-th logged plan as a :class:`workbench.plans.Plan`."""
        from workbench.plans import parse_plan

        return parse_plan(self.plan_documents[index]["plan"])

    def slowest_plan(self, queryid: int) -> Plan | None:
        """The slowest plan logged for a query id, or None."""
        found = [(p["duration_ms"], i) for i, p in enumerate(self.plan_documents)
                 if p.get("queryid") == queryid]
        return self.plan(max(found)[1]) if found else None

    def interval_of(self, seconds: float) -> int | None:
        """The row of ``server`` whose interval holds ``seconds`` (since the origin), or None.

        >>> Timeline({}, pd.DataFrame(), server=pd.DataFrame({"t": [1.0, 2.0], "dt": [1.0, 1.0]
        ...          })).interval_of(1.5)
        1
        """
        if self.server.empty:
            return None
        ends = self.server["t"].to_numpy(float)
        starts = ends - self.server["dt"].to_numpy(float)
        hits = np.flatnonzero((starts < seconds) & (seconds <= ends))
        return int(hits[0]) if hits.size else None

    def summary(self) -> str:
        """Which series the timeline holds and what is missing (names only: stable text)."""
        held = [name for name, frame in (("progress", self.progress), ("server", self.server),
                                         ("statements", self.statements),
                                         ("sessions", self.sessions), ("host", self.host))
                if not frame.empty]
        lines = [f"timeline: {', '.join(held) or 'nothing'}"]
        if self.missing:
            lines.append(f"missing: {', '.join(sorted(self.missing))}")
        return "\n".join(lines)

    def save(self, folder: Path) -> None:
        """Write the frames under ``folder`` (``timeline/`` of a run folder)."""
        folder.mkdir(parents=True, exist_ok=True)
        for name in FRAMES:
            write_text(folder / f"{name}.csv", getattr(self, name).to_csv(index=False))
        write_json(folder / "plans.json", self.plan_documents)

    @classmethod
    def load(cls, folder: Path, meta: dict[str, Any], progress: pd.DataFrame) -> Timeline:
        """Read what :meth:`save` wrote (no database)."""
        frames = {name: _read_csv(folder / f"{name}.csv") for name in FRAMES}
        plans = read_json(folder / "plans.json") if (folder / "plans.json").exists() else []
        return cls(meta, progress, plan_documents=list(plans), **frames)

    def _repr_html_(self) -> str:
        missing = "".join(f"<li>{html.escape(k)}: {html.escape(v)}</li>"
                          for k, v in self.missing.items())
        return (f"<p><b>Timeline</b> every {self.interval:g} s, {len(self.server)} intervals, "
                f"{len(self.plan_documents)} logged plan(s), {len(self.lock_waits)} lock wait "
                f"message(s)</p>" + (f"<p>missing:</p><ul>{missing}</ul>" if missing else ""))


def load_timeline(run_folder: Path, manifest: dict[str, Any], progress: pd.DataFrame
                  ) -> Timeline | None:
    """The timeline of a saved run, or None when the run was not watched."""
    folder = Path(run_folder) / "timeline"
    meta = manifest.get("timeline")
    if not folder.is_dir() or not isinstance(meta, dict):
        return None
    return Timeline.load(folder, meta, progress)


# -- building a timeline from a watcher's samples ----------------------------------------------


def build_timeline(watcher: TimelineWatcher, progress: pd.DataFrame,
                   statements: pd.DataFrame | None, top: int = TOP_STATEMENTS) -> Timeline:
    """The frames of a finished watcher (see :class:`~workbench.watcher.TimelineWatcher`)."""
    samples = watcher.samples
    ends = np.array([s.t for s in samples], dtype=float)
    activity = pd.DataFrame(watcher.activity, columns=["t", "state", "wait_event_type",
                                                       "wait_event", "queryid", "count"])
    activity["interval"] = np.searchsorted(ends, activity["t"].to_numpy(float), side="left")
    activity = activity[(activity["interval"] >= 1) & (activity["interval"] < len(ends))]
    names = statement_names(statements)
    timeline = Timeline(watcher.manifest(), progress,
                        server=_server_frame(samples, activity),
                        statements=_statement_frame(samples, names, top,
                                                    harness_statements(statements)),
                        sessions=_session_frame(watcher, activity),
                        host=_host_frame(samples))
    _read_log(watcher, timeline, statements)
    timeline.meta = watcher.manifest()
    return timeline


def _server_counters(raw: dict[str, Any]) -> dict[str, Any]:
    ck, bg = raw.get("checkpointer") or {}, raw.get("bgwriter") or {}
    wal, db = raw.get("wal") or {}, raw.get("database") or {}
    return {
        "checkpoints_timed": ck.get("num_timed", bg.get("checkpoints_timed")),
        "checkpoints_req": ck.get("num_requested", bg.get("checkpoints_req")),
        "buffers_checkpoint": ck.get("buffers_written", bg.get("buffers_checkpoint")),
        "buffers_clean": bg.get("buffers_clean"),
        "buffers_backend": bg.get("buffers_backend", raw.get("io_backend_writes")),
        "wal_bytes": raw.get("wal_lsn_bytes"), "wal_records": wal.get("wal_records"),
        "wal_fpi": wal.get("wal_fpi"),
        **{k: db.get(k) for k in ("temp_files", "temp_bytes", "xact_commit", "xact_rollback",
                                  "deadlocks", "blks_read", "blks_hit")},
    }


def _server_frame(samples: list[Any], activity: pd.DataFrame) -> pd.DataFrame:
    if len(samples) < 2:
        return pd.DataFrame(columns=SERVER_COLUMNS)
    counters = pd.DataFrame([_server_counters(s.server) for s in samples],
                            columns=SERVER_COUNTERS).astype("float64")
    later = counters.iloc[1:].reset_index(drop=True)
    delta = later - counters.iloc[:-1].reset_index(drop=True)
    delta = delta.where(~(delta < 0), later)  # a reset in between: what was counted since
    t = [s.t for s in samples]
    frame = pd.DataFrame({"t": t[1:], "dt": np.round(np.diff(t), 3)})
    frame = pd.concat([frame, delta], axis=1)
    frame["autovacuum_workers"] = [s.server.get("autovacuum_workers") for s in samples[1:]]
    per = activity.groupby("interval")
    samples_in = per["t"].nunique()
    lock = activity[activity["wait_event_type"] == "Lock"].groupby("interval")["count"].sum()
    active = activity[activity["state"] == "active"].groupby("interval")["count"].sum()
    index = pd.RangeIndex(1, len(samples))
    frame["lock_waiting_sessions"] = (lock.reindex(index, fill_value=0)
                                      / samples_in.reindex(index)).round(3).to_numpy()
    frame["active_sessions"] = (active.reindex(index, fill_value=0)
                                / samples_in.reindex(index)).round(3).to_numpy()
    return frame[SERVER_COLUMNS]


def harness_statements(statements: pd.DataFrame | None) -> set[int]:
    """Query ids of the timeline sampler's own statements (marked), which are not the workload.

    >>> harness_statements(pd.DataFrame({"queryid": [1, 2], "query": [
    ...     "SELECT 1", MARKER + " SELECT json_build_object($1, $2)"]}))
    {2}
    """
    if statements is None or statements.empty or "query" not in statements:
        return set()
    mask = statements["query"].astype(str).str.contains(MARKER, regex=False)
    return {int(q) for q in statements.loc[mask, "queryid"]}


def _statement_frame(samples: list[Any], names: dict[int, str], top: int,
                     harness: set[int]) -> pd.DataFrame:
    rows = []
    samples = [s for s in samples if s.statements is not None]  # read every few intervals
    for before, after in zip(samples, samples[1:], strict=False):
        previous = {r[0]: r for r in before.statements}
        for row in after.statements:
            if row[0] in harness:
                continue
            old = previous.get(row[0])
            values = [float(v or 0) for v in row[1:]]
            if old is not None:
                diff = [v - float(o or 0) for v, o in zip(values, old[1:], strict=True)]
                values = values if any(d < 0 for d in diff) else diff  # reset: counted since
            if values[0] > 0:
                rows.append((after.t, round(after.t - before.t, 3), int(row[0]), *values))
    columns = ["t", "dt", "queryid", *STATEMENT_COUNTERS]
    # Column by column: a frame built from rows of numbers goes through float64, and a 64-bit
    # query id does not survive that.
    frame = pd.DataFrame({c: pd.Series([r[i] for r in rows], dtype="int64" if c == "queryid"
                                       else "float64") for i, c in enumerate(columns)})
    if frame.empty:
        return pd.DataFrame(columns=STATEMENT_COLUMNS)
    totals = frame.groupby("queryid")["total_ms"].sum().sort_values(ascending=False)
    chosen = set(totals.index[:top])
    kept = frame[frame["queryid"].isin(chosen)].copy()
    kept["statement"] = [names.get(q, f"queryid {q}") for q in kept["queryid"]]
    rest = frame[~frame["queryid"].isin(chosen)]
    if not rest.empty:
        other = rest.groupby(["t", "dt"], as_index=False)[STATEMENT_COUNTERS].sum()
        other["queryid"] = pd.Series(pd.NA, index=other.index, dtype="Int64")
        other["statement"] = f"{OTHER} ({rest['queryid'].nunique()} statements)"
        kept["queryid"] = kept["queryid"].astype("Int64")
        kept = pd.concat([kept, other], ignore_index=True)
    kept["queryid"] = kept["queryid"].astype("Int64")
    kept["mean_ms"] = (kept["total_ms"] / kept["calls"].where(kept["calls"] > 0)).round(4)
    kept["total_ms"] = kept["total_ms"].round(3)
    return kept.sort_values(["t", "total_ms"], ascending=[True, False])[STATEMENT_COLUMNS] \
        .reset_index(drop=True)


def _session_frame(watcher: TimelineWatcher, activity: pd.DataFrame) -> pd.DataFrame:
    keys = ["state", "wait_event_type", "wait_event", "queryid"]
    frames = []
    seen = activity[activity["state"].notna()]
    if not seen.empty:
        samples_in = activity.groupby("interval")["t"].nunique()
        grouped = seen.groupby(["interval", *keys], as_index=False)["count"].sum()
        grouped["sessions"] = (grouped["count"] / grouped["interval"].map(samples_in)).round(3)
        grouped["source"] = "pg_stat_activity"
        frames.append(grouped)
    waits = _wait_sampling_rows(watcher)
    if not waits.empty:
        frames.append(waits)
    if not frames:
        return pd.DataFrame(columns=SESSION_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    for column in ("wait_event_type", "wait_event"):  # no wait event: missing, as CSV reads it
        text = out[column].astype("object")
        out[column] = text.where(text.notna() & (text.astype(str) != "")).astype(
            pd.StringDtype(na_value=np.nan))
    ends = [s.t for s in watcher.samples]
    out["t"] = [ends[i] for i in out["interval"]]
    return out.sort_values(["t", "source", "sessions"], ascending=[True, True, False])[
        SESSION_COLUMNS].reset_index(drop=True)


def _wait_sampling_rows(watcher: TimelineWatcher) -> pd.DataFrame:
    """pg_wait_sampling's profile, differenced per (pid, event, query) between samples, for the
    run's backends: average sessions waiting = samples x period / interval."""
    period = watcher._pgws_period_ms / 1000
    rows = []
    samples = watcher.samples
    for index in range(1, len(samples)):
        before = {tuple(r[:4]): r[4] for r in samples[index - 1].waits}
        dt = max(samples[index].t - samples[index - 1].t, 1e-9)
        counts: dict[tuple[Any, ...], float] = {}
        for pid, kind, event, queryid, count in samples[index].waits:
            if pid not in watcher.pids or kind is None:
                continue
            old = before.get((pid, kind, event, queryid), 0)
            delta = count - old if count >= old else count
            if delta:
                key = ("waiting", kind, event, int(queryid))
                counts[key] = counts.get(key, 0) + delta
        rows += [(index, *key, round(n * period / dt, 3)) for key, n in counts.items()]
    frame = pd.DataFrame(rows, columns=["interval", "state", "wait_event_type", "wait_event",
                                        "queryid", "sessions"])
    frame["source"] = "pg_wait_sampling"
    return frame


def _host_frame(samples: list[Any]) -> pd.DataFrame:
    readings = [(s.t, s.host) for s in samples if s.host is not None]
    rows = [{"t": t1, "dt": round(t1 - t0, 3), **host_rates(h0, h1)}
            for (t0, h0), (t1, h1) in zip(readings, readings[1:], strict=False)]
    # float throughout: an await with no I/O is NaN in memory as after a reload, not None
    return pd.DataFrame(rows, columns=["t", "dt", *HOST_COLUMNS]).astype("float64")


def _read_log(watcher: TimelineWatcher, timeline: Timeline, statements: pd.DataFrame | None
              ) -> None:
    if watcher.log is None:
        timeline.lock_waits = pd.DataFrame(columns=LOCK_COLUMNS)
        return
    try:
        entries = watcher.log.entries(watcher.log_timezone)
    except OSError as exc:
        watcher.missing["server_log"] = f"cannot read the server log {watcher.log.path}: " \
            f"{exc.strerror or exc}"
        timeline.lock_waits = pd.DataFrame(columns=LOCK_COLUMNS)
        return
    watcher.notes.extend(watcher.log.notes)
    if any(note.startswith("no line of the log") for note in watcher.log.notes):
        watcher.missing["server_log"] = f"{watcher.log.path}: {watcher.log.notes[-1]}"
    ours = select_entries(entries, database=watcher.database, pids=watcher.pids,
                          start=watcher.origin, end=(watcher.ended or watcher.origin) + 1.0)
    plans = attach_statements(logged_plans(ours), statements)
    for plan in plans:
        plan["t"] = round(plan.pop("at") - watcher.origin, 3)
    timeline.plan_documents = plans
    timeline.lock_waits = _named_relations(lock_waits(ours, watcher.origin), watcher)


def attach_statements(plans: list[dict[str, Any]], statements: pd.DataFrame | None
                      ) -> list[dict[str, Any]]:
    """Logged plans joined to the run's statements: by query id (auto_explain logs it from
    PostgreSQL 16 on, with log_verbose), else by the statement's shape (its text with constants
    and parameters folded, as :func:`workbench.stats.normalize_sql` does); ``statement`` is the
    workload's name for it."""
    from workbench.stats import normalize_sql

    names = statement_names(statements)
    shapes: dict[str, int] = {}
    if statements is not None and not statements.empty and "query" in statements:
        for queryid, text in zip(statements["queryid"], statements["query"], strict=True):
            shapes.setdefault(normalize_sql(str(text)), int(queryid))
    for plan in plans:
        if plan.get("queryid") is None and plan.get("query"):
            plan["queryid"] = shapes.get(normalize_sql(str(plan["query"])))
        plan["statement"] = names.get(plan["queryid"]) if plan["queryid"] is not None else None
    return plans


def _named_relations(frame: pd.DataFrame, watcher: TimelineWatcher) -> pd.DataFrame:
    """``relation 16396 of database 16384`` becomes ``relation public.orders`` for the run's
    database (looked up once the run is over)."""
    pattern = rf"^relation (\d+) of database {watcher.db_oid}$"
    oids = frame["object"].astype(str).str.extract(pattern)[0].dropna() if not frame.empty \
        else pd.Series(dtype=str)
    if oids.empty:
        return frame
    import psycopg

    try:
        with psycopg.connect(watcher.dsn, autocommit=True, connect_timeout=10) as conn:
            found = dict(conn.execute(
                "SELECT oid::text, oid::regclass::text FROM pg_class WHERE oid = ANY(%s::oid[])",
                [sorted(set(oids))]).fetchall())
    except psycopg.Error:
        return frame
    frame = frame.copy()
    frame["object"] = [f"relation {found[o]}" if isinstance(o, str) and o in found else obj
                       for o, obj in zip(frame["object"].astype(str).str.extract(pattern)[0],
                                         frame["object"], strict=True)]
    return frame


def statement_names(statements: pd.DataFrame | None, width: int = 60) -> dict[int, str]:
    """Query id -> a name: the workload statement's (``checkout.2``) where the run's
    pg_stat_statements delta was matched to a script, else its text, shortened.

    >>> statement_names(pd.DataFrame({"queryid": [1, 2], "query": ["SELECT 1", "SELECT 2"],
    ...                               "name": ["browse", None]}))
    {1: 'browse', 2: 'SELECT 2'}
    """
    if statements is None or statements.empty or "queryid" not in statements:
        return {}
    out: dict[int, str] = {}
    for row in statements.itertuples(index=False):
        queryid = int(row.queryid)
        name = getattr(row, "name", None)
        if isinstance(name, str) and name:
            out[queryid] = name
        elif queryid not in out:
            text = " ".join(str(getattr(row, "query", "") or "").split())
            out[queryid] = text if len(text) <= width else text[:width - 1] + "…"
    return out


# -- the top statements of a run --------------------------------------------------------------


def top_statements(run: Run, n: int = TOP_STATEMENTS) -> pd.DataFrame:
    """The statements that took the run's time: share of total execution time, calls, mean time
    and its change from the first to the second half of the run, shared blocks hit and read per
    call, temp blocks, and the slowest plan auto_explain logged for it (if any).

    From the run's pg_stat_statements delta (top-level statements) and its timeline.
    """
    stats = run.stats.frames.get("statements")
    columns = ["statement", "queryid", "share_pct", "calls", "total_ms", "mean_ms",
               "mean_first_half_ms", "mean_second_half_ms", "mean_change_pct",
               "shared_hit_per_call", "shared_read_per_call", "temp_blks_read",
               "temp_blks_written", "plan"]
    if stats is None or stats.empty:
        return pd.DataFrame(columns=columns)
    frame = stats[stats["toplevel"].astype(str).str.lower().isin(("true", "1"))] \
        if "toplevel" in stats else stats
    frame = frame[~frame["queryid"].isin(harness_statements(stats))]
    sums = frame.groupby("queryid")[["calls", "total_exec_time", "shared_blks_hit",
                                     "shared_blks_read", "temp_blks_read",
                                     "temp_blks_written"]].sum()
    sums = sums.sort_values("total_exec_time", ascending=False)
    total = float(sums["total_exec_time"].sum()) or 1.0
    names = statement_names(stats)
    halves = _halves(run.timeline)
    rows = []
    for queryid, row in sums.head(n).iterrows():
        calls = float(row["calls"]) or 1.0
        first, second = halves.get(int(queryid), (None, None))  # type: ignore[arg-type]
        change = round(100 * (second / first - 1), 1) if first and second else None
        plan = run.timeline.slowest_plan(int(queryid)) if run.timeline else None  # type: ignore[arg-type]
        rows.append((names.get(int(queryid), f"queryid {queryid}"), int(queryid),  # type: ignore[arg-type]
                     round(100 * float(row["total_exec_time"]) / total, 2), int(row["calls"]),
                     round(float(row["total_exec_time"]), 3),
                     round(float(row["total_exec_time"]) / calls, 4), first, second, change,
                     round(float(row["shared_blks_hit"]) / calls, 2),
                     round(float(row["shared_blks_read"]) / calls, 2),
                     int(row["temp_blks_read"]), int(row["temp_blks_written"]),
                     _plan_label(plan)))
    return pd.DataFrame(rows, columns=columns)


def _halves(timeline: Timeline | None) -> dict[int, tuple[float | None, float | None]]:
    """Mean execution time per query id in the first and the second half of the run."""
    if timeline is None or timeline.statements.empty:
        return {}
    frame = timeline.statements.dropna(subset=["queryid"])
    middle = float(timeline.statements["t"].max()) / 2
    out: dict[int, tuple[float | None, float | None]] = {}
    for queryid, part in frame.groupby("queryid"):
        means = []
        for half in (part[part["t"] <= middle], part[part["t"] > middle]):
            calls = float(half["calls"].sum())
            means.append(round(float(half["total_ms"].sum()) / calls, 4) if calls else None)
        out[int(queryid)] = (means[0], means[1])  # type: ignore[call-overload]
    return out


def _plan_label(plan: Plan | None) -> str | None:
    if plan is None:
        return None
    took = f", {plan.execution_ms:.1f} ms" if plan.execution_ms is not None else ""
    return f"{plan.root.label} (cost {plan.total_cost}{took})"


def _root_label(document: dict[str, Any]) -> str:
    node = document.get("Plan") or {}
    relation = node.get("Relation Name")
    return f"{node.get('Node Type')}" + (f" on {relation}" if relation else "")


def _read_csv(path: Path) -> pd.DataFrame:
    try:  # query ids are 64-bit: read as integers (with gaps), never through float64
        return pd.read_csv(path, dtype={"queryid": "Int64", "pid": "Int64"})
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return pd.DataFrame()


def to_json(timeline: Timeline) -> dict[str, Any]:
    """A JSON-able digest (for ``--json``): sources, missing, cost, sizes."""
    return json.loads(json.dumps({
        "interval_s": timeline.interval, "intervals": len(timeline.server),
        "sources": timeline.meta.get("sources"), "missing": timeline.missing,
        "cost": timeline.meta.get("cost"), "plans": len(timeline.plan_documents),
        "lock_wait_messages": len(timeline.lock_waits)}, default=str))
