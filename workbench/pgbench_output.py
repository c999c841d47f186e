"""What pgbench prints, parsed: the summary (stdout) and the ``-P`` progress lines (stderr).

Handles PostgreSQL 15 to 18: the per-script blocks of 15-17 (`` - N transactions (x% of total,
tps = Y)``) and of 18 (`` - N transactions (x% of total)`` followed by processed/failed/latency
lines), the failures/retries/skipped fields, ``-r`` statement lines (split on whitespace, not fixed
columns) and "Run was aborted". Lines it does not know are kept in ``unknown``, never fatal.

>>> summary = parse_summary(stdout_text)          # doctest: +SKIP
>>> summary.tps, summary.scripts[0].name          # doctest: +SKIP
(812.4, 'browse_hot_products')
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

_NUM = r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"


@dataclass
class StatementLatency:
    """One ``-r`` line: average latency of a statement (or meta-command) of a script."""

    latency_ms: float
    failures: int | None
    retries: int | None
    text: str


@dataclass
class ScriptSummary:
    """One script's block of the summary."""

    number: int
    name: str
    weight: int | None = None
    transactions: int | None = None
    share_pct: float | None = None
    tps: float | None = None
    failed: int | None = None
    latency_avg_ms: float | None = None
    latency_stddev_ms: float | None = None
    statements: list[StatementLatency] = field(default_factory=list)


@dataclass
class Summary:
    """pgbench's end-of-run report."""

    version: str | None = None
    server_version: str | None = None
    transaction_type: str | None = None
    scaling_factor: int | None = None
    query_mode: str | None = None
    clients: int | None = None
    threads: int | None = None
    max_tries: int | None = None
    duration_s: float | None = None
    transactions_per_client: int | None = None
    processed: int | None = None
    target: int | None = None
    failed: int = 0
    serialization_failures: int = 0
    deadlock_failures: int = 0
    retried: int = 0
    retries: int = 0
    skipped: int = 0
    above_latency_limit: int = 0
    latency_avg_ms: float | None = None
    latency_stddev_ms: float | None = None
    lag_avg_ms: float | None = None
    lag_max_ms: float | None = None
    initial_connection_ms: float | None = None
    average_connection_ms: float | None = None
    tps: float | None = None
    aborted: bool = False
    scripts: list[ScriptSummary] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form."""
        return asdict(self)


_FIELDS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"^transaction type: (.*)$"), lambda s, m: setattr(s, "transaction_type", m[1])),
    (re.compile(r"^scaling factor: (\d+)$"), lambda s, m: setattr(s, "scaling_factor", int(m[1]))),
    (re.compile(r"^query mode: (\w+)$"), lambda s, m: setattr(s, "query_mode", m[1])),
    (re.compile(r"^number of clients: (\d+)$"), lambda s, m: setattr(s, "clients", int(m[1]))),
    (re.compile(r"^number of threads: (\d+)$"), lambda s, m: setattr(s, "threads", int(m[1]))),
    (re.compile(r"^maximum number of tries: (\d+)$"), lambda s, m: setattr(s, "max_tries", int(m[1]))),
    (re.compile(rf"^duration: ({_NUM}) s$"), lambda s, m: setattr(s, "duration_s", float(m[1]))),
    (re.compile(r"^number of transactions per client: (\d+)$"),
     lambda s, m: setattr(s, "transactions_per_client", int(m[1]))),
    (re.compile(r"^number of transactions actually processed: (\d+)(?:/(\d+))?$"),
     lambda s, m: (setattr(s, "processed", int(m[1])),
                   setattr(s, "target", int(m[2]) if m[2] else None))),
    (re.compile(r"^number of failed transactions: (\d+)"), lambda s, m: setattr(s, "failed", int(m[1]))),
    (re.compile(r"^number of serialization failures: (\d+)"),
     lambda s, m: setattr(s, "serialization_failures", int(m[1]))),
    (re.compile(r"^number of deadlock failures: (\d+)"),
     lambda s, m: setattr(s, "deadlock_failures", int(m[1]))),
    (re.compile(r"^number of transactions retried: (\d+)"), lambda s, m: setattr(s, "retried", int(m[1]))),
    (re.compile(r"^total number of retries: (\d+)"), lambda s, m: setattr(s, "retries", int(m[1]))),
    (re.compile(r"^number of transactions skipped: (\d+)"), lambda s, m: setattr(s, "skipped", int(m[1]))),
    (re.compile(r"^number of transactions above the .* latency limit: (\d+)"),
     lambda s, m: setattr(s, "above_latency_limit", int(m[1]))),
    (re.compile(rf"^latency average = ({_NUM}) ms"), lambda s, m: setattr(s, "latency_avg_ms", float(m[1]))),
    (re.compile(rf"^latency stddev = ({_NUM}) ms"),
     lambda s, m: setattr(s, "latency_stddev_ms", float(m[1]))),
    (re.compile(rf"^rate limit schedule lag: avg ({_NUM}) \(max ({_NUM})\) ms"),
     lambda s, m: (setattr(s, "lag_avg_ms", float(m[1])), setattr(s, "lag_max_ms", float(m[2])))),
    (re.compile(rf"^initial connection time = ({_NUM}) ms"),
     lambda s, m: setattr(s, "initial_connection_ms", float(m[1]))),
    (re.compile(rf"^average connection time = ({_NUM}) ms"),
     lambda s, m: setattr(s, "average_connection_ms", float(m[1]))),
    (re.compile(rf"^tps = ({_NUM})"), lambda s, m: setattr(s, "tps", float(m[1]))),
]
# "pgbench (18.6)", "pgbench (15.18 (Debian 15.18-0+deb12u1), server 18.6)"
_BANNER = re.compile(r"^pgbench \((\d+(?:\.\d+)?)(?: \([^)]*\))?(?:, server (\d+(?:\.\d+)?))?")
_SCRIPT = re.compile(r"^(?:SQL script|script) (\d+): (.*)$")
_S_WEIGHT = re.compile(r"^ - weight: (\d+)")
_S_TX_OLD = re.compile(rf"^ - (\d+) transactions \(({_NUM})% of total, tps = ({_NUM})\)")
_S_TX_18 = re.compile(rf"^ - (\d+) transactions \(({_NUM})% of total\)")
_S_PROCESSED = re.compile(rf"^ - number of transactions actually processed: (\d+) \(tps = ({_NUM})\)")
_S_FAILED = re.compile(r"^ - number of failed transactions: (\d+)")
_S_LAT = re.compile(rf"^ - latency average = ({_NUM}) ms")
_S_STDDEV = re.compile(rf"^ - latency stddev = ({_NUM}) ms")
_STATEMENT = re.compile(rf"^\s+({_NUM})\s+")


def parse_summary(text: str) -> Summary:
    """Parse pgbench's stdout."""
    summary = Summary()
    script: ScriptSummary | None = None
    in_statements = False
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip():
            continue
        if m := _BANNER.match(line):
            summary.version, summary.server_version = m[1], m[2]
            continue
        if "Run was aborted" in line:
            summary.aborted = True
            continue
        if m := _SCRIPT.match(line):
            script = ScriptSummary(int(m[1]), Path(m[2].strip()).stem)
            summary.scripts.append(script)
            in_statements = False
            continue
        if "statement latencies in milliseconds" in line:
            in_statements = True
            continue
        if script is not None and _script_line(script, line):
            continue
        if in_statements and script is not None and _STATEMENT.match(line):
            script.statements.append(_statement(line))
            continue
        if not any(_apply(pattern, action, summary, line) for pattern, action in _FIELDS):
            summary.unknown.append(line)
    return summary


def _apply(pattern: re.Pattern[str], action: Any, summary: Summary, line: str) -> bool:
    m = pattern.match(line)
    if m:
        action(summary, m)
    return m is not None


def _script_line(script: ScriptSummary, line: str) -> bool:
    if m := _S_WEIGHT.match(line):
        script.weight = int(m[1])
    elif m := _S_TX_OLD.match(line):
        script.transactions, script.share_pct, script.tps = int(m[1]), float(m[2]), float(m[3])
    elif m := _S_TX_18.match(line):
        script.transactions, script.share_pct = int(m[1]), float(m[2])
    elif m := _S_PROCESSED.match(line):
        script.transactions, script.tps = int(m[1]), float(m[2])
    elif m := _S_FAILED.match(line):
        script.failed = int(m[1])
    elif m := _S_LAT.match(line):
        script.latency_avg_ms = float(m[1])
    elif m := _S_STDDEV.match(line):
        script.latency_stddev_ms = float(m[1])
    elif line.startswith(" - ") and ("number of" in line or "latency" in line):
        pass  # other per-script counters (retried, skipped, serialization/deadlock): in the log
    else:
        return False
    return True


_STATEMENT_PARTS = re.compile(rf"^\s*({_NUM})(?:\s+(\d+))?(?:\s+(\d+))?\s+(\S.*)$")


def _statement(line: str) -> StatementLatency:
    """``-r`` line: latency, then failures and retries when shown (15+), then the text."""
    m = _STATEMENT_PARTS.match(line)
    assert m is not None  # guarded by _STATEMENT
    return StatementLatency(float(m[1]), int(m[2]) if m[2] else None,
                            int(m[3]) if m[3] else None, m[4].strip())


@dataclass
class Progress:
    """One ``-P`` line."""

    t: float
    tps: float
    latency_ms: float
    stddev_ms: float | None
    failed: int
    lag_ms: float | None
    skipped: int
    retried: int


_PROGRESS = re.compile(
    rf"^progress: ({_NUM}) s, ({_NUM}) tps, lat ({_NUM}) ms stddev ({_NUM}|NaN)"
    rf"(?:, (\d+) failed)?(?:, lag ({_NUM}) ms)?(?:, (\d+) skipped)?(?:, (\d+) retried)?"
)


def parse_progress(line: str) -> Progress | None:
    """A progress line (with or without --progress-timestamp), or None for any other line.

    >>> parse_progress("progress: 5.0 s, 1234.5 tps, lat 8.123 ms stddev 2.345, 0 failed").tps
    1234.5
    """
    m = _PROGRESS.match(line.strip())
    if not m:
        return None
    return Progress(
        t=float(m[1]), tps=float(m[2]), latency_ms=float(m[3]),
        stddev_ms=None if m[4] == "NaN" else float(m[4]), failed=int(m[5] or 0),
        lag_ms=float(m[6]) if m[6] else None, skipped=int(m[7] or 0), retried=int(m[8] or 0),
    )
