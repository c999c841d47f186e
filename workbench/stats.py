"""Server statistics around a run: snapshots before and after, deltas as DataFrames, wait sampling.

Views (present ones only, columns as the server has them, so PostgreSQL 15 to 18 all work):
``pg_stat_statements`` (this database), ``pg_stat_user_tables`` + ``pg_statio_user_tables``,
``pg_stat_user_indexes`` + ``pg_statio_user_indexes``, ``pg_stat_database`` (this database),
``pg_stat_io`` (16+) or ``pg_stat_bgwriter`` (15), ``pg_stat_wal``.

>>> before = snapshot(conn)                     # doctest: +SKIP
>>> ... run the workload ...
>>> deltas = snapshot(conn).minus(before)       # doctest: +SKIP
>>> deltas.frames["tables"][["relation", "seq_scan", "heap_blks_read"]]  # doctest: +SKIP
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql

# name -> (query, key columns). "{pgss}" is replaced by the schema of pg_stat_statements.
_VIEWS: dict[str, tuple[str, tuple[str, ...]]] = {
    "statements": (
        "SELECT s.* FROM {pgss}.pg_stat_statements s "
        "WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
        ("userid", "dbid", "toplevel", "queryid"),
    ),
    "tables": (
        "SELECT t.schemaname || '.' || t.relname AS relation, t.*, io.heap_blks_read, "
        "io.heap_blks_hit, io.idx_blks_read, io.idx_blks_hit, io.toast_blks_read, "
        "io.toast_blks_hit, io.tidx_blks_read, io.tidx_blks_hit "
        "FROM pg_stat_user_tables t JOIN pg_statio_user_tables io USING (relid)",
        ("relid",),
    ),
    "indexes": (
        "SELECT i.schemaname || '.' || i.relname AS relation, i.indexrelname AS index, i.*, "
        "io.idx_blks_read, io.idx_blks_hit "
        "FROM pg_stat_user_indexes i JOIN pg_statio_user_indexes io USING (indexrelid)",
        ("indexrelid",),
    ),
    "database": ("SELECT * FROM pg_stat_database WHERE datname = current_database()", ("datid",)),
    "io": ("SELECT * FROM pg_stat_io", ("backend_type", "object", "context")),
    "bgwriter": ("SELECT * FROM pg_stat_bgwriter", ()),
    "checkpointer": ("SELECT * FROM pg_stat_checkpointer", ()),
    "wal": ("SELECT * FROM pg_stat_wal", ()),
}
# Counters of these names are not cumulative: carried from the later snapshot, not subtracted.
_GAUGES = {"n_live_tup", "n_dead_tup", "n_mod_since_analyze", "n_ins_since_vacuum",
           "numbackends", "min_exec_time", "max_exec_time", "mean_exec_time",
           "stddev_exec_time", "min_plan_time", "max_plan_time", "mean_plan_time",
           "stddev_plan_time", "op_bytes", "read_bytes_per_op"}


@dataclass
class Snapshot:
    """Statistics views at one moment (``taken`` is epoch seconds)."""

    taken: float
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)

    def minus(self, before: Snapshot) -> StatsDelta:
        """What happened between ``before`` and this snapshot.

        Counters reset by someone else in between (``pg_stat_reset()``, a statement evicted from
        pg_stat_statements) are not turned into negative numbers: the later value (what was
        counted since the reset, a lower bound) is kept and the reset is listed in ``resets``.
        """
        frames, resets = {}, []
        for name, after in self.frames.items():
            if name in before.frames:
                frames[name], reset = _delta(after, before.frames[name], _VIEWS[name][1])
                if reset:
                    resets.append(f"{name}: {reset}")
        return StatsDelta(self.taken - before.taken, frames, dict(self.missing), resets)


@dataclass
class StatsDelta:
    """Counter differences over an interval, one DataFrame per view."""

    seconds: float
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    resets: list[str] = field(default_factory=list)

    def save(self, folder: Path) -> None:
        """One CSV per view under ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, frame in self.frames.items():
            frame.to_csv(folder / f"{name}.csv", index=False)

    @classmethod
    def load(cls, folder: Path, seconds: float = 0.0) -> StatsDelta:
        """Read what :meth:`save` wrote."""
        frames = {p.stem: pd.read_csv(p) for p in sorted(Path(folder).glob("*.csv"))}
        return cls(seconds, frames)

    def buffers(self) -> dict[str, int]:
        """Shared blocks hit and read over the interval, from pg_stat_database."""
        db = self.frames.get("database")
        if db is None or db.empty:
            return {"shared_hit": 0, "shared_read": 0}
        return {"shared_hit": int(db["blks_hit"].sum()), "shared_read": int(db["blks_read"].sum())}


def pg_stat_statements_schema(conn: psycopg.Connection[Any]) -> str | None:
    """Schema holding the pg_stat_statements view in this database, or None."""
    row = conn.execute(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_stat_statements'"
    ).fetchone()
    return str(row[0]).strip('"') if row else None


def snapshot(conn: psycopg.Connection[Any]) -> Snapshot:
    """Read every available statistics view (a view the server lacks is noted in ``missing``)."""
    snap = Snapshot(time.time())
    pgss = pg_stat_statements_schema(conn)
    for name, (query, _keys) in _VIEWS.items():
        if name == "statements" and pgss is None:
            snap.missing[name] = "pg_stat_statements is not installed in this database"
            continue
        text = query.replace("{pgss}", sql.Identifier(pgss or "public").as_string(conn))
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(text)  # type: ignore[arg-type]  # fixed query text above
                columns = [d.name for d in cur.description or []]
                snap.frames[name] = pd.DataFrame(cur.fetchall(), columns=columns)
        except psycopg.Error as exc:
            snap.missing[name] = str(exc).splitlines()[0]
    return snap


def _delta(after: pd.DataFrame, before: pd.DataFrame, keys: tuple[str, ...]
           ) -> tuple[pd.DataFrame, str | None]:
    """after - before for cumulative counters (gauges carried), and a note when counters were
    reset in between (a ``stats_reset`` that moved, or a counter that went down)."""
    keys = tuple(k for k in keys if k in after.columns and k in before.columns)
    numeric = [c for c in after.columns if c not in keys and c not in _GAUGES
               and pd.api.types.is_numeric_dtype(after[c]) and c in before.columns
               and pd.api.types.is_numeric_dtype(before[c])]
    note = None
    if ("stats_reset" in after.columns and "stats_reset" in before.columns and len(after)
            and len(before) and not keys
            and str(after["stats_reset"].iloc[0]) != str(before["stats_reset"].iloc[0])):
        note = "counters were reset during the interval (stats_reset changed)"
    if not keys:
        out = after.copy()
        went_down = False
        for column in numeric:
            diff = after[column].astype("float64") - before[column].astype("float64")
            went_down |= bool((diff < 0).any())
            out[column] = diff.where(diff >= 0, after[column].astype("float64"))
        if went_down and note is None:
            note = "counters went down during the interval (reset): later values kept"
        return out.drop(columns=[c for c in out.columns if "reset" in c], errors="ignore"), note
    merged = after.merge(before[[*keys, *numeric]], on=list(keys), how="left",
                         suffixes=("", "__before"))
    later = merged[numeric].astype("float64")
    lowered = pd.Series(False, index=merged.index)
    for column in numeric:
        diff = later[column] - merged[f"{column}__before"].fillna(0)
        lowered |= diff < 0
        merged[column] = diff
    if lowered.any():
        # A row whose counters went down was reset (or evicted and re-created) in between: keep
        # what it counted since, and say so.
        merged.loc[lowered, numeric] = later.loc[lowered]
        note = f"{int(lowered.sum())} row(s) were reset during the interval: later values kept"
    merged = merged.drop(columns=[f"{c}__before" for c in numeric])
    if "calls" in merged.columns:
        merged = merged[merged["calls"] > 0]
    out = merged.drop(columns=[c for c in merged.columns if "reset" in c], errors="ignore")
    return out.reset_index(drop=True), note


# -- statements back to the workload -------------------------------------------------------------

_STRING = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w$:])-?\b\d+(?:\.\d+)?\b")
_PARAM = re.compile(r"\$\d+|(?<!:):[A-Za-z_]\w*")


def normalize_sql(text: str) -> str:
    """A statement's shape: constants, ``$n`` and ``:variables`` become ``?``, case and spacing
    folded, so script text and pg_stat_statements text can be matched.

    >>> normalize_sql("SELECT * FROM t WHERE a = :aid AND b = 'x'") == normalize_sql(
    ...     "select *  from t where a = $1 and b = $2")
    True
    """
    out = _STRING.sub("?", text)
    out = _PARAM.sub("?", out)
    out = _NUMBER.sub("?", out)
    out = re.sub(r"\s+", " ", out).strip().rstrip(";").strip().lower()
    return re.sub(r"\s*([(),=<>+*/-])\s*", r"\1", out)


def map_statements(statements: pd.DataFrame,
                   workload: list[tuple[str, int, str]]) -> pd.DataFrame:
    """Add ``script`` and ``statement`` (index within the script) columns to a pg_stat_statements
    delta, where its text matches a workload statement ``(script, index, sql)``."""
    shapes = {normalize_sql(text): (script, index) for script, index, text in workload}
    out = statements.copy()
    matched = [shapes.get(normalize_sql(str(q)), (None, None)) for q in out.get("query", [])]
    out["script"] = [m[0] for m in matched]
    out["statement"] = [m[1] for m in matched]
    return out


# -- wait events during a run --------------------------------------------------------------------

_ACTIVITY = """
SELECT coalesce(state, 'unknown'), coalesce(wait_event_type, ''), coalesce(wait_event, ''),
       count(*)
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
GROUP BY 1, 2, 3
"""
LOCK_WAITS_SQL = """
SELECT w.pid, w.query, b.pid, b.query, w.wait_event, extract(epoch FROM now() - w.query_start)
FROM pg_stat_activity w
JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS blocker(pid) ON true
JOIN pg_stat_activity b ON b.pid = blocker.pid
WHERE w.datname = current_database() AND w.wait_event_type = 'Lock'
"""


class Sampler:
    """A background thread that samples one connection every ``interval`` seconds until stopped;
    a connection lost mid-run ends it quietly, keeping what was sampled (``error`` says why).
    Subclasses say where to connect (:meth:`connect`) and what one sample is (:meth:`sample`).
    """

    name = "workbench-sampler"

    def __init__(self, dsn: str, interval: float = 1.0) -> None:
        self.dsn = dsn
        self.interval = interval
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._started = 0.0

    def start(self) -> Any:
        """Begin sampling."""
        self._started = time.time()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sampling and wait for the thread."""
        self._stop.set()
        self._thread.join(timeout=10)

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def connect(self) -> psycopg.Connection[Any]:
        """The sampling connection."""
        return psycopg.connect(self.dsn, autocommit=True, application_name="workbench-sampler",
                               connect_timeout=10)

    def sample(self, conn: psycopg.Connection[Any], t: float) -> None:
        """Take one sample at ``t`` seconds since the start."""
        raise NotImplementedError

    def _loop(self) -> None:
        try:
            with self.connect() as conn:
                while not self._stop.is_set():
                    self.sample(conn, round(time.time() - self._started, 3))
                    self._stop.wait(self.interval)
        except psycopg.Error as exc:  # the server went away mid-run: keep what was sampled
            self.error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__


class WaitSampler(Sampler):
    """Samples pg_stat_activity (states, wait events, who blocks whom) in a background thread.

    >>> with WaitSampler(dsn, interval=0.5) as sampler:   # doctest: +SKIP
    ...     run_the_workload()
    >>> sampler.frame().groupby("wait_event_type")["count"].sum()  # doctest: +SKIP
    """

    name = "workbench-waits"

    def __init__(self, dsn: str, interval: float = 1.0) -> None:
        super().__init__(dsn, interval)
        self.rows: list[tuple[Any, ...]] = []
        self.locks: list[tuple[Any, ...]] = []

    def sample(self, conn: psycopg.Connection[Any], t: float) -> None:
        """pg_stat_activity by state and wait event, and the lock waits with their blockers."""
        rows = conn.execute(_ACTIVITY).fetchall()
        self.rows += [(t, *row) for row in rows]
        if any(kind == "Lock" for _, kind, *_ in rows):  # pg_blocking_pids() only when needed
            self.locks += [(t, *row) for row in conn.execute(LOCK_WAITS_SQL).fetchall()]

    def frame(self) -> pd.DataFrame:
        """Samples as rows ``t, state, wait_event_type, wait_event, count`` (t: s since start)."""
        return pd.DataFrame(self.rows, columns=["t", "state", "wait_event_type", "wait_event",
                                                "count"])

    def lock_frame(self) -> pd.DataFrame:
        """Lock waits seen: ``t, pid, query, blocking_pid, blocking_query, wait_event, waited_s``."""
        return pd.DataFrame(self.locks, columns=["t", "pid", "query", "blocking_pid",
                                                 "blocking_query", "wait_event", "waited_s"])
