"""Watching a run: one background thread that samples the server and the host at a fixed interval
on the run's own time axis, and reads the server log afterwards. Its result is a
:class:`~workbench.timeline.Timeline`.

Every ``interval`` seconds (default 1) one sample reads, on one connection:

- ``pg_stat_statements(false)`` (no query texts: cheap) summed by query id, this database,
  top-level statements only (nested ones are inside their caller's time); every few intervals
  when one read takes more than :data:`STATEMENTS_SHARE` of an interval (the function returns
  every statement the server holds: 6 ms for 8,900 of them, measured here), and at the end;
- checkpoints requested and timed, buffers written by the checkpointer, the background writer
  and backends (``pg_stat_checkpointer``/``pg_stat_io`` on 17+, ``pg_stat_bgwriter`` before),
  WAL records and full-page images (``pg_stat_wal``), WAL bytes (the insert LSN: exact and
  immediate), temp files and bytes, commits, deadlocks and blocks of ``pg_stat_database``,
  autovacuum workers at work;
- ``pg_wait_sampling_profile`` when the extension is installed (wait events sampled inside the
  server every 10 ms, by query id);
- the host from /proc when the server runs on this machine.

Sessions by state and wait event (an active session history, by query id) come from
``pg_stat_activity``: :data:`ASH_PER_INTERVAL` samples per interval without pg_wait_sampling, one
with it. What every sample cost is measured and kept (``cost`` in the manifest).

Backends publish most cumulative statistics (``pg_stat_database``, ``pg_stat_wal``,
``pg_stat_io``) at most once a second, so those per-interval figures are lumpy at 1 s; totals are
exact. pg_stat_statements, the checkpointer's counters and WAL bytes are current at every sample.

>>> watcher = TimelineWatcher(dsn, database="shop", interval=1.0).start()   # doctest: +SKIP
>>> # ... the measured pgbench runs ...  (skipped: needs a server)
>>> watcher.stop(); timeline = watcher.finish(progress, statements)         # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql

from workbench.dsn import parse
from workbench.errors import WorkbenchError
from workbench.hostmetrics import HostReading, host_available, read_host
from workbench.serverlog import LogWindow, embedded_log
from workbench.stats import LOCK_WAITS_SQL

DEFAULT_INTERVAL = 1.0
ASH_PER_INTERVAL = 10  # pg_stat_activity samples per interval when pg_wait_sampling is absent
ASH_MIN_PERIOD = 0.05  # ... but never more often than this
SAMPLE_SHARE = 0.5  # a sample may take at most this share of the interval
# A read of pg_stat_statements may take at most this share of an interval; a longer one (a server
# holding thousands of statements: the function returns them all, of every database) is made
# every few intervals instead, so watching a run stays a small share of one core.
STATEMENTS_SHARE = 0.01
APPLICATION = "workbench-timeline"
_OWN_APPS = ("workbench-timeline", "workbench-sampler")
LOOPBACK = ("", "localhost", "127.0.0.1", "::1")
MARKER = "/* workbench-timeline */"  # on every sampling statement: never counted as workload

_ACTIVITY = MARKER + """
SELECT coalesce(state, 'unknown'), coalesce(wait_event_type, ''), coalesce(wait_event, ''),
       coalesce(query_id, 0), count(*), array_agg(pid)
FROM pg_stat_activity
WHERE datid = %(db)s AND backend_type = 'client backend' AND pid <> pg_backend_pid()
  AND coalesce(application_name, '') <> ALL(%(own)s)
GROUP BY 1, 2, 3, 4
"""
_LOCK_WAITS = MARKER + LOCK_WAITS_SQL
_STATEMENTS = MARKER + """
SELECT queryid, sum(calls)::int8, sum(total_exec_time)::float8, sum(rows)::int8,
       sum(shared_blks_hit)::int8, sum(shared_blks_read)::int8, sum(temp_blks_read)::int8,
       sum(temp_blks_written)::int8
FROM {schema}.pg_stat_statements(false)
WHERE dbid = %(db)s {toplevel}
GROUP BY queryid
"""
STATEMENT_COUNTERS = ["calls", "total_ms", "rows", "shared_blks_hit", "shared_blks_read",
                      "temp_blks_read", "temp_blks_written"]


def check_interval(value: Any, option: str = "--timeline-interval") -> None:
    """A sampling interval must be a finite number of seconds > 0.

    >>> check_interval(0)
    Traceback (most recent call last):
    workbench.errors.WorkbenchError: --timeline-interval must be a number of seconds > 0, got 0 (e.g. --timeline-interval 1, or --no-timeline to watch nothing)
    """
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or value <= 0:
        raise WorkbenchError(f"{option} must be a number of seconds > 0, got {value!r}",
                             f"e.g. {option} 1, or --no-timeline to watch nothing")


def is_local(dsn: str) -> bool:
    """Whether a DSN reaches a server on this machine (a Unix socket or a loopback address).

    >>> is_local("host=/tmp/sock port=5432"), is_local("host=db.example.invalid")
    (True, False)
    """
    host = parse(dsn).get("host", "")
    return all(h.startswith("/") or h in LOOPBACK for h in host.split(","))


@dataclass
class Sample:
    """One full sample: cumulative counters at ``t`` seconds since the origin."""

    t: float
    server: dict[str, Any] = field(default_factory=dict)
    statements: list[tuple[Any, ...]] | None = field(default_factory=list)  # None: not read
    waits: list[tuple[Any, ...]] = field(default_factory=list)
    host: HostReading | None = None


class TimelineWatcher:
    """Samples a run's server (and host) in a background thread; :meth:`finish` builds the
    :class:`~workbench.timeline.Timeline`. ``dsn`` is a direct connection to the run's database
    (never through a pooler); ``server_log`` the log's path for a server that is not the
    embedded one; ``plans_over_ms`` lowers auto_explain's threshold for the run's own sessions
    (through PGOPTIONS, see :meth:`client_env`); ``direct`` says the clients connect to the
    server itself (a pooler carries no startup options)."""

    def __init__(self, dsn: str, *, interval: float = DEFAULT_INTERVAL,
                 server_log: str | os.PathLike[str] | None = None,
                 plans_over_ms: float | None = None, direct: bool = True,
                 lock_waits: bool = False) -> None:
        check_interval(interval)
        self.dsn, self.asked, self.interval = dsn, float(interval), float(interval)
        self.server_log, self.plans_over_ms, self.direct = server_log, plans_over_ms, direct
        self.samples: list[Sample] = []
        self.activity: list[tuple[Any, ...]] = []  # (t, state, type, event, queryid, count)
        self.pids: set[int] = set()
        self.lock_waits = lock_waits
        self.locks: list[tuple[Any, ...]] = []  # (t, pid, query, blocking pid, query, event, s)
        self.missing: dict[str, str] = {}
        self.sources: dict[str, str] = {}
        self.notes: list[str] = []
        self.error: str | None = None
        self.origin = 0.0
        self.ended = 0.0
        self.ash_per = 1
        self.statements_every = 1  # read pg_stat_statements every this many full samples
        self.busy: list[float] = []  # seconds each sample took
        self._cpu: dict[str, float] = {}  # CPU seconds of the sampler: its thread, its backend
        self.log: LogWindow | None = None
        self.log_timezone = "UTC"
        self.database = ""
        self.db_oid = 0
        self.plans_lowered = False
        self._conn: psycopg.Connection[Any] | None = None
        self._pgss: str | None = None
        self._statements_sql = ""
        self._pgws: str | None = None
        self._pgws_period_ms = 10.0
        self._server_sql = ""
        self._host = False
        self._prepared = self._stopped = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="workbench-timeline",
                                        daemon=True)

    # -- life cycle -------------------------------------------------------------------------------

    def prepare(self) -> TimelineWatcher:
        """Connect, probe what the server offers and fit the interval: the slow part of starting
        (a tenth of a second or more), which a run does before its warm-up so that the measured
        pgbench follows the warm-up at once. A server that cannot be reached leaves the
        timeline empty, with the reason."""
        if self._prepared:
            return self
        self._prepared = True
        try:
            self._conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=10,
                                         application_name=APPLICATION)
            self._probe(self._conn)
            self._fit_interval()
        except BaseException as exc:
            if self._conn is not None:
                with contextlib.suppress(psycopg.Error):
                    self._conn.close()
                self._conn = None
            if not isinstance(exc, psycopg.Error):
                raise
            self.error = _first_line(exc)
            self.missing["server"] = f"the server could not be sampled: {self.error}"
        return self

    def start(self) -> TimelineWatcher:
        """Prepare (unless done), open the server log's window, take the first sample (the
        origin) and start the thread."""
        self.prepare()
        self.origin = time.time()
        if self._conn is None:
            return self
        self._open_log()
        self._full_sample(0.0)
        self._cpu = {"backend_start": self._backend_cpu() or 0.0}
        self._thread.start()
        return self

    def stop(self) -> None:
        """Take the last sample, stop the thread and close the session; a second call does
        nothing."""
        if self._stopped:
            return
        self._stopped = True
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self.ended = time.time()
        backend = self._backend_cpu()
        if backend is not None and "backend_start" in self._cpu:
            self._cpu["backend"] = backend - self._cpu["backend_start"]
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()

    def client_env(self, env: dict[str, str]) -> dict[str, str]:
        """pgbench's environment with auto_explain's threshold lowered to ``plans_over_ms`` for
        its sessions only (PGOPTIONS), when that was possible; the server's setting stands
        everywhere else."""
        if not self.plans_lowered:
            return env
        options = f"-c auto_explain.log_min_duration={self.plans_over_ms:g}ms " \
                  "-c auto_explain.log_verbose=on"
        return {**env, "PGOPTIONS": f"{env.get('PGOPTIONS', '')} {options}".strip()}

    def finish(self, progress: Any, statements: Any = None, top: int = 10) -> Any:
        """The :class:`~workbench.timeline.Timeline`: per-interval frames from the samples,
        statements named from the run's pg_stat_statements delta (``statements``, mapped to the
        workload's scripts), plans and lock waits from the log."""
        from workbench.timeline import build_timeline

        return build_timeline(self, progress, statements, top=top)

    def waits_frame(self) -> pd.DataFrame:
        """The run's sessions by state and wait event at each full sample (once an interval), as
        :meth:`workbench.stats.WaitSampler.frame` gives them: ``t, state, wait_event_type,
        wait_event, count``. The timeline's own samples stand in for a second sampler."""
        full = {s.t for s in self.samples}
        rows = [r for r in self.activity if r[0] in full and r[1] is not None]
        frame = pd.DataFrame(rows, columns=["t", "state", "wait_event_type", "wait_event",
                                            "queryid", "count"])
        return frame.groupby(["t", "state", "wait_event_type", "wait_event"], as_index=False,
                             sort=False)["count"].sum()

    def lock_frame(self) -> pd.DataFrame:
        """Lock waits seen at the full samples, with their blockers (``lock_waits``): the columns
        of :meth:`workbench.stats.WaitSampler.lock_frame`."""
        return pd.DataFrame(self.locks, columns=["t", "pid", "query", "blocking_pid",
                                                 "blocking_query", "wait_event", "waited_s"])

    def manifest(self) -> dict[str, Any]:
        """What the manifest records about the timeline: interval asked and used, sources, what
        is missing and why, and what watching cost."""
        busy = sorted(self.busy)
        wall = max(self.ended - self.origin, 1e-9) if self.ended else None
        cpu = self._cpu.get("thread", 0.0) + self._cpu.get("backend", 0.0)
        return {
            "interval_s": self.asked, "interval_used_s": self.interval,
            "ash_samples_per_interval": self.ash_per, "origin": self.origin,
            "sources": dict(self.sources), "missing": dict(self.missing), "notes": self.notes,
            "plans_over_ms": self.plans_over_ms if self.plans_lowered else None,
            "error": self.error,
            "cost": {"samples": len(busy),
                     "sample_ms_mean": round(1000 * sum(busy) / len(busy), 3) if busy else None,
                     "sample_ms_max": round(1000 * busy[-1], 3) if busy else None,
                     "busy_pct": round(100 * sum(busy) / wall, 3) if wall else None,
                     "sampler_cpu_s": round(self._cpu.get("thread", 0.0), 3),
                     "backend_cpu_s": round(self._cpu["backend"], 3)
                     if "backend" in self._cpu else None,
                     "cpu_pct_of_one_core": round(100 * cpu / wall, 3) if wall else None},
        }

    # -- probing ----------------------------------------------------------------------------------

    def _probe(self, conn: psycopg.Connection[Any]) -> None:
        row = conn.execute(
            "SELECT current_database(), (SELECT oid FROM pg_database WHERE datname = "
            "current_database()), current_setting('log_timezone'), "
            "current_setting('shared_preload_libraries'), "
            "to_regclass('pg_catalog.pg_stat_checkpointer') IS NOT NULL, "
            "to_regclass('pg_catalog.pg_stat_io') IS NOT NULL").fetchone()
        assert row is not None
        self.database, self.db_oid, self.log_timezone = str(row[0]), int(row[1]), str(row[2])
        preload = {p.strip() for p in str(row[3]).split(",")}
        self._server_sql = _server_query(checkpointer=bool(row[4]), io=bool(row[5]))
        self.sources["server"] = "pg_stat_checkpointer, pg_stat_bgwriter, pg_stat_io, " \
            "pg_stat_wal, pg_stat_database" if row[4] else \
            "pg_stat_bgwriter, pg_stat_wal, pg_stat_database"
        self._probe_statements(conn)
        self._probe_wait_sampling(conn, "pg_wait_sampling" in preload)
        self._probe_plans(conn, "auto_explain" in preload)
        reason = host_available() if is_local(self.dsn) else \
            "the server is not on this machine: its host cannot be observed from here"
        if reason:
            self.missing["host"] = reason
        else:
            self._host = True
            self.sources["host"] = "/proc (stat, diskstats, meminfo)"

    def _probe_statements(self, conn: psycopg.Connection[Any]) -> None:
        from workbench.stats import pg_stat_statements_schema

        self._pgss = pg_stat_statements_schema(conn)
        if self._pgss is None:
            self.missing["statements"] = "pg_stat_statements is not installed in this database " \
                "(CREATE EXTENSION pg_stat_statements; it must be in shared_preload_libraries)"
            return
        toplevel = bool(conn.execute(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = %s::regclass "
            "AND attname = 'toplevel'", [f'"{self._pgss}".pg_stat_statements']).fetchone()[0])
        self._statements_sql = _STATEMENTS.format(
            schema=sql.Identifier(self._pgss).as_string(conn),
            toplevel="AND toplevel" if toplevel else "")
        self.sources["statements"] = "pg_stat_statements(false), top-level statements"
        try:  # the sampler's own statements are not the workload's: not counted at all ...
            conn.execute("SET pg_stat_statements.track = 'none'")
        except psycopg.Error as exc:  # ... or, without the right to say so, left out by marker
            self.notes.append("the sampler's statements are counted by pg_stat_statements "
                              f"(cannot turn tracking off for its session: {_first_line(exc)}); "
                              f"they are left out by their marker {MARKER}")

    def _probe_wait_sampling(self, conn: psycopg.Connection[Any], preloaded: bool) -> None:
        self._pgws = _extension_schema(conn, "pg_wait_sampling")
        if self._pgws is None and preloaded:
            self._pgws = _install_wait_sampling(conn)
        if self._pgws is not None:
            with contextlib.suppress(psycopg.Error, ValueError, TypeError):
                self._pgws_period_ms = float(conn.execute(
                    "SELECT current_setting('pg_wait_sampling.profile_period')").fetchone()[0])
            self.sources["sessions"] = (
                f"pg_wait_sampling (waits sampled every {self._pgws_period_ms:g} ms in the "
                "server, by query id) and pg_stat_activity once an interval (states)")
            return
        why = "pg_wait_sampling is not in shared_preload_libraries" if not preloaded else \
            "pg_wait_sampling is preloaded but not installed in this database (CREATE EXTENSION " \
            "pg_wait_sampling)"
        self.missing["pg_wait_sampling"] = f"{why}: sessions sampled from pg_stat_activity instead"

    def _probe_plans(self, conn: psycopg.Connection[Any], preloaded: bool) -> None:
        if self.plans_over_ms is None:
            return
        if not preloaded:
            self.missing["plans_threshold"] = "auto_explain is not in shared_preload_libraries: " \
                "no plans are logged"
        elif not self.direct:
            self.missing["plans_threshold"] = "the clients go through a pooler, which passes no " \
                "startup options: auto_explain's threshold was not lowered"
        else:
            try:
                with conn.transaction():
                    conn.execute(sql.SQL("SET LOCAL auto_explain.log_min_duration = {}").format(
                        sql.Literal(f"{self.plans_over_ms:g}ms")))
                    raise _RollBack
            except _RollBack:
                self.plans_lowered = True
            except psycopg.Error as exc:
                self.missing["plans_threshold"] = "auto_explain's threshold cannot be lowered " \
                    f"for the run's sessions: {_first_line(exc)}"

    def _open_log(self) -> None:
        path = Path(self.server_log) if self.server_log else embedded_log(self.dsn)
        if path is None:
            self.missing["server_log"] = "not the embedded server and no server log given " \
                "(--server-log PATH): no plans or lock waits from the log"
            return
        try:
            self.log = LogWindow.open(path)
        except OSError as exc:
            self.missing["server_log"] = f"cannot read the server log {path}: " \
                f"{exc.strerror or exc}"
            return
        self.sources["log"] = str(path)

    def _fit_interval(self) -> None:
        """Widen an interval shorter than what the server can serve (a sample must take at most
        :data:`SAMPLE_SHARE` of it), and choose how many activity samples fit in one."""
        took = min(self._timed(lambda: self._full_sample(0.0, keep=False)) for _ in range(3))
        floor = math.ceil(took / SAMPLE_SHARE * 100) / 100
        if self.interval < floor:
            self.notes.append(f"an interval of {self.asked:g} s is below what the server can serve "
                              f"(one sample takes {1000 * took:.1f} ms): sampled every {floor:g} s")
            self.missing["interval"] = self.notes[-1]
            self.interval = floor
        if self._pgss is not None:
            read = min(self._timed(self._read_statements) for _ in range(3))
            self.statements_every = max(1, math.ceil(read / (STATEMENTS_SHARE * self.interval)))
            if self.statements_every > 1:
                self.notes.append(
                    f"pg_stat_statements is read every {self.statements_every} intervals: one "
                    f"read takes {1000 * read:.1f} ms (it returns every statement the server "
                    "holds, of every database), more than 1% of an interval")
                self.sources["statements"] += f", every {self.statements_every} intervals"
        if self._pgws is None:
            ash = min(self._timed(self._activity_sample) for _ in range(3))
            period = max(ASH_MIN_PERIOD, ash / SAMPLE_SHARE)
            self.ash_per = max(1, min(ASH_PER_INTERVAL, int(self.interval / period)))
            self.sources["sessions"] = f"pg_stat_activity, {self.ash_per} samples per interval"
        self.activity.clear()
        self.pids.clear()

    # -- sampling ---------------------------------------------------------------------------------

    def _loop(self) -> None:
        tick, step = 1, self.interval / self.ash_per
        cpu = time.thread_time()
        try:
            while True:
                stopping = self._stop.wait(max(0.0, self.origin + tick * step - time.time()))
                full = stopping or tick % self.ash_per == 0
                started = time.perf_counter()
                t = round(time.time() - self.origin, 3)
                if full:
                    self._full_sample(t, last=stopping)
                else:
                    self._activity_sample(t)
                self.busy.append(time.perf_counter() - started)
                if stopping:
                    break
                # A sample that overran skips the ticks it covered (rows then span longer: dt).
                tick = max(tick + 1, int((time.time() - self.origin) / step) + 1)
        except psycopg.Error as exc:  # the server went away: keep what was sampled
            self.error = _first_line(exc)
            self.missing["samples"] = f"sampling stopped early: {self.error}"
        self._cpu["thread"] = time.thread_time() - cpu

    def _backend_cpu(self) -> float | None:
        """CPU seconds the sampler's own backend used so far (server on this machine only)."""
        if self._conn is None or not self._host:
            return None
        try:
            stat = Path(f"/proc/{self._conn.info.backend_pid}/stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError, psycopg.Error):
            return None

    def _full_sample(self, t: float, keep: bool = True, last: bool = False) -> None:
        conn = self._conn
        assert conn is not None
        sample = Sample(t)
        server = conn.execute(self._server_sql, {"db": self.db_oid}).fetchone()  # type: ignore[arg-type]
        sample.server = dict(server[0]) if server and server[0] else {}
        if self._pgss is not None:  # None: not read this time (every few intervals)
            due = last or len(self.samples) % self.statements_every == 0
            sample.statements = self._read_statements() if due else None
        if self._pgws is not None:
            sample.waits = conn.execute(sql.SQL(
                MARKER + " SELECT pid, event_type, event, coalesce(queryid, 0), count "
                "FROM {}.pg_wait_sampling_profile").format(sql.Identifier(self._pgws))).fetchall()
        if self._host:
            sample.host = read_host()
        rows = self._activity_sample(t, keep)
        if keep and self.lock_waits and any(kind == "Lock" for _, kind, *_ in rows):
            # Who blocks whom, only when someone waits on a lock: pg_blocking_pids() takes every
            # lock-manager partition lock, a cost no run without lock waits should pay.
            self.locks += [(t, *row) for row in conn.execute(_LOCK_WAITS).fetchall()]
        if keep:
            self.samples.append(sample)

    def _read_statements(self) -> list[tuple[Any, ...]]:
        assert self._conn is not None and self._pgss is not None
        return self._conn.execute(self._statements_sql, {"db": self.db_oid}  # type: ignore[arg-type]
                                  ).fetchall()

    def _activity_sample(self, t: float = 0.0, keep: bool = True) -> list[tuple[Any, ...]]:
        assert self._conn is not None
        rows = self._conn.execute(_ACTIVITY, {"db": self.db_oid, "own": list(_OWN_APPS)}
                                  ).fetchall()
        if keep:
            for state, kind, event, queryid, count, pids in rows:
                self.activity.append((t, state, kind, event, int(queryid), int(count)))
                self.pids.update(pids)
            if not rows:
                self.activity.append((t, None, None, None, 0, 0))  # a sample that saw no one
        return rows

    @staticmethod
    def _timed(action: Any) -> float:
        started = time.perf_counter()
        action()
        return time.perf_counter() - started


class _RollBack(Exception):
    """Leaves a probing transaction without keeping what it set."""


def _server_query(*, checkpointer: bool, io: bool) -> str:
    parts = [
        "'wal_lsn_bytes', pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN "
        "pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END, '0/0')::float8",
        "'wal', (SELECT row_to_json(w) FROM pg_stat_wal w)",
        "'bgwriter', (SELECT row_to_json(b) FROM pg_stat_bgwriter b)",
        "'database', (SELECT row_to_json(d) FROM pg_stat_database d WHERE datid = %(db)s)",
        "'autovacuum_workers', (SELECT count(*) FROM pg_stat_activity "
        "WHERE backend_type = 'autovacuum worker')",
    ]
    if checkpointer:
        parts.append("'checkpointer', (SELECT row_to_json(c) FROM pg_stat_checkpointer c)")
    if io:
        parts.append("'io_backend_writes', (SELECT sum(writes) FROM pg_stat_io "
                     "WHERE object = 'relation' AND backend_type NOT IN "
                     "('checkpointer', 'background writer'))")
    return f"{MARKER} SELECT json_build_object({', '.join(parts)})"


def _extension_schema(conn: psycopg.Connection[Any], name: str) -> str | None:
    row = conn.execute("SELECT extnamespace::regnamespace::text FROM pg_extension "
                       "WHERE extname = %s", [name]).fetchone()
    return str(row[0]).strip('"') if row else None


def _install_wait_sampling(conn: psycopg.Connection[Any]) -> str | None:
    """CREATE EXTENSION pg_wait_sampling in the workbench's own schema, on a database the
    workbench created only (never on one it was given)."""
    from workbench.databases import META_SCHEMA, read_marker

    if read_marker(conn) is None:
        return None
    try:
        with conn.transaction():
            conn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS pg_wait_sampling SCHEMA {}")
                         .format(sql.Identifier(META_SCHEMA)))
    except psycopg.Error:
        return None
    return _extension_schema(conn, "pg_wait_sampling")


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
