"""The server's log during a run: auto_explain's JSON plans and log_lock_waits messages.

The embedded server logs to ``WORKBENCH_HOME/pg<major>/server.log`` (stderr format, prefix
``'%m [%p] %q%u@%d '``); another server's log is read when its path is given. Only what was
written during the run is read (from the size the file had when the run started), and only the
entries of the run's database (by the ``user@db`` of the prefix when the prefix has it, else by
the run's backend pids) inside the run's time window.

>>> log = LogWindow.open(Path("server.log"))          # doctest: +SKIP
>>> entries = log.entries()                            # doctest: +SKIP
>>> plans = logged_plans(entries); waits = lock_waits(entries)   # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from workbench.dsn import parse

MAX_READ_BYTES = 256 * 1024 * 1024  # a run's share of the log read at most (plans at 0 ms grow it)
_PREFIX = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)(?: (?P<tz>[A-Za-z][\w/+-]*|[+-]\d\d(?::?\d\d)?))?"
    r" \[(?P<pid>\d+)\] (?:(?P<user>[^\s@]*)@(?P<db>\S*) )?"
    r"(?P<level>DEBUG\d|[A-Z]+):  (?P<message>.*)$")
_DURATION_PLAN = re.compile(r"^duration: (?P<ms>[\d.]+) ms  plan:\s*(?P<rest>.*)$", re.S)
_LOCK = re.compile(
    r"^process (?P<pid>\d+) (?P<event>still waiting for|acquired|avoided deadlock for|"
    r"detected deadlock while waiting for) (?P<mode>\w+) on (?P<object>.+?)"
    r"(?: by rearranging queue order)? after (?P<ms>[\d.]+) ms")
_HOLDERS = re.compile(r"Process(?:es)? holding the lock: (?P<holders>[\d, ]+)\. Wait queue: "
                      r"(?P<queue>[\d, ]*)\.")
LOCK_EVENTS = {"still waiting for": "waiting", "acquired": "acquired",
               "avoided deadlock for": "avoided deadlock",
               "detected deadlock while waiting for": "deadlock"}
LOCK_COLUMNS = ["t", "logged_at", "pid", "event", "mode", "object", "waited_ms", "holders",
                "wait_queue", "statement"]


@dataclass
class LogEntry:
    """One log message with its continuation lines (a plan's JSON spans many)."""

    at: float  # epoch seconds
    pid: int
    level: str
    message: str
    user: str | None = None
    database: str | None = None
    detail: str | None = None
    statement: str | None = None


@dataclass
class LogWindow:
    """A log file from the size it had at ``start``: what a run wrote to it."""

    path: Path
    offset: int = 0
    notes: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, path: Path) -> LogWindow:
        """Remember where the file ends now; raises OSError when it cannot be read."""
        with open(path, "rb") as handle:
            handle.seek(0, 2)
            return cls(Path(path), handle.tell())

    def read(self) -> str:
        """What was appended since :meth:`open` (from the start when the file was truncated or
        replaced in between), at most :data:`MAX_READ_BYTES`."""
        with open(self.path, "rb") as handle:
            handle.seek(0, 2)
            end = handle.tell()
            start = self.offset if end >= self.offset else 0
            if start != self.offset:
                self.notes.append("the log was truncated or rotated during the run: read from "
                                  "its start")
            handle.seek(start)
            data = handle.read(MAX_READ_BYTES)
            if end - start > MAX_READ_BYTES:
                self.notes.append(f"only the first {MAX_READ_BYTES // 2**20} MB the run wrote "
                                  "to the log were read")
        return data.decode("utf-8", errors="replace")

    def entries(self, timezone: str = "UTC") -> list[LogEntry]:
        """The messages written since :meth:`open` (a log in another format is noted)."""
        text = self.read()
        entries = parse_log(text, timezone)
        why = unreadable(text, entries)
        if why:
            self.notes.append(why)
        return entries


def unreadable(text: str, entries: list[LogEntry]) -> str | None:
    """Why a log that has lines gave no entry: its lines are in another format.

    >>> unreadable("Nov 27 10:00:00 db postgres[12]: [3-1] LOG:  hello", [])[:44]
    'no line of the log starts as log_line_prefix'
    """
    if entries or not text.strip():
        return None
    return ("no line of the log starts as log_line_prefix '%m [%p] ' or '%m [%p] %q%u@%d ' "
            "writes it (stderr format): nothing could be read from it")


def parse_log(text: str, timezone: str = "UTC") -> list[LogEntry]:
    """Log entries of stderr-format text; DETAIL and STATEMENT lines are attached to the
    message of the same process before them. ``timezone`` is the server's log_timezone, used
    when the timestamps carry an abbreviation rather than an offset.

    >>> e = parse_log("2026-11-27 00:17:10.291 UTC [13358] app@shop LOG:  hello\\n"
    ...               "2026-11-27 00:17:10.291 UTC [13358] app@shop STATEMENT:  SELECT 1\\n")
    >>> e[0].database, e[0].pid, e[0].message, e[0].statement
    ('shop', 13358, 'hello', 'SELECT 1')
    """
    zone = _zone(timezone)
    records: list[tuple[re.Match[str], list[str]]] = []
    for line in text.splitlines():
        m = _PREFIX.match(line)
        if m is not None:
            records.append((m, [m["message"]]))
        elif records:  # a continuation line: PostgreSQL starts it with a tab
            records[-1][1].append(line[1:] if line.startswith("\t") else line)
    entries: list[LogEntry] = []
    last_of_pid: dict[int, LogEntry] = {}
    for m, lines in records:
        pid, level, message = int(m["pid"]), m["level"], "\n".join(lines)
        parent = last_of_pid.get(pid)
        if level in ("DETAIL", "STATEMENT") and parent is not None:
            setattr(parent, level.lower(), message)
            continue
        if level in ("HINT", "CONTEXT", "QUERY") and parent is not None:
            continue
        entry = LogEntry(_epoch(m["ts"], m["tz"], zone), pid, level, message, m["user"], m["db"])
        entries.append(entry)
        last_of_pid[pid] = entry
    return entries


def select_entries(entries: Iterable[LogEntry], *, database: str | None, pids: set[int],
                   start: float, end: float) -> list[LogEntry]:
    """The entries of one run: inside [start, end] (epoch), of ``database`` when the log prefix
    names databases, else of the run's backend ``pids``."""
    out = []
    for entry in entries:
        if not start <= entry.at <= end:
            continue
        if entry.database is not None:
            if database is not None and entry.database != database:
                continue
        elif pids and entry.pid not in pids:
            continue
        out.append(entry)
    return out


def logged_plans(entries: Iterable[LogEntry]) -> list[dict[str, Any]]:
    """auto_explain's JSON plans: ``{"at", "pid", "duration_ms", "queryid", "query", "plan"}``
    (``plan`` the raw document, for :func:`workbench.plans.parse_plan`). Plans logged in text
    format, or cut short, are skipped."""
    plans = []
    for entry in entries:
        m = _DURATION_PLAN.match(entry.message)
        if entry.level != "LOG" or m is None:
            continue
        try:
            doc = json.loads(m["rest"])
        except ValueError:
            continue
        if not isinstance(doc, dict) or "Plan" not in doc:
            continue
        queryid = doc.get("Query Identifier")
        plans.append({"at": entry.at, "pid": entry.pid, "duration_ms": float(m["ms"]),
                      "queryid": int(queryid) if queryid is not None else None,
                      "query": doc.get("Query Text"), "plan": doc})
    return plans


def lock_waits(entries: Iterable[LogEntry], origin: float = 0.0) -> pd.DataFrame:
    """log_lock_waits messages as rows: who waited (pid), for which lock (mode, object), how
    long (waited_ms), on whom (holders) and the wait queue, with the waiting statement. ``t`` is
    seconds since ``origin``."""
    rows = []
    for entry in entries:
        m = _LOCK.match(entry.message)
        if entry.level != "LOG" or m is None:
            continue
        holders = _HOLDERS.search(entry.detail or "")
        rows.append((round(entry.at - origin, 3), _iso(entry.at), int(m["pid"]),
                     LOCK_EVENTS[m["event"]], m["mode"], m["object"], float(m["ms"]),
                     holders["holders"].replace(" ", "") if holders else None,
                     holders["queue"].replace(" ", "") if holders else None, entry.statement))
    return pd.DataFrame(rows, columns=LOCK_COLUMNS)


def embedded_log(dsn: str, home: Path | None = None) -> Path | None:
    """The log of the embedded server ``dsn`` points at (its socket folder, or 127.0.0.1 and
    its port), or None when it is another server."""
    from workbench.config import workbench_home

    params = parse(dsn)
    host, port = params.get("host", ""), params.get("port", "")
    for state_path in sorted((home or workbench_home()).glob("pg*/server.json")):
        try:
            state = json.loads(state_path.read_text())
        except (OSError, ValueError):
            continue
        if str(state.get("port")) != port:
            continue
        if host == state.get("socket_dir") or host in ("127.0.0.1", "localhost"):
            return state_path.parent / "server.log"
    return None


def _zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def _epoch(stamp: str, tz: str | None, zone: dt.tzinfo) -> float:
    moment = dt.datetime.fromisoformat(stamp)
    if tz and re.fullmatch(r"[+-]\d\d(?::?\d\d)?", tz):
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        return moment.replace(tzinfo=dt.timezone(sign * offset)).timestamp()
    if tz in ("UTC", "GMT", "Z"):
        return moment.replace(tzinfo=dt.UTC).timestamp()
    return moment.replace(tzinfo=zone).timestamp()


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="milliseconds")
