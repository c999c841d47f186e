"""pgbench's per-transaction logs (``-l``) as one DataFrame, and latency percentiles.

Each thread writes ``<prefix>.<pid>`` (thread 0) or ``<prefix>.<pid>.<n>``; a line is
``client_id transaction_no time script_no time_epoch time_us [schedule_lag] [retries]``, where
``time`` is the latency in microseconds or ``skipped`` / ``failed`` / ``serialization`` /
``deadlock``, ``schedule_lag`` is present with ``-R`` and ``retries`` when ``--max-tries`` is not 1.
The timestamp is when the transaction ended. Columns are counted per file, not assumed.

Percentiles use linear interpolation between closest ranks (numpy's default "linear" method) over
the latencies of successful transactions.

>>> frame = read_logs(Path("runs/x/logs"), script_names=["browse", "checkout"],
...                   has_lag=False, has_retries=False)            # doctest: +SKIP
>>> latency_percentiles(frame)["p95"]                            # doctest: +SKIP
12.43
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import WorkbenchError

COLUMNS = ["client", "txn", "script", "script_no", "start", "end", "latency_ms", "lag_ms",
           "retries", "status"]
PERCENTILES = {"p50": 50, "p90": 90, "p95": 95, "p99": 99, "p999": 99.9}
FAILED_STATUSES = ("failed", "serialization", "deadlock")


def log_files(folder: Path, prefix: str = "pgbench_log") -> list[Path]:
    """Every thread's log file under ``folder``, thread 0 first."""
    pattern = re.compile(rf"^{re.escape(prefix)}\.\d+(?:\.(\d+))?$")
    found = [(int(m[1] or 0), p) for p in Path(folder).iterdir() if (m := pattern.match(p.name))]
    return [p for _, p in sorted(found)]


def read_logs(folder: Path, script_names: list[str], *, has_lag: bool, has_retries: bool,
              prefix: str = "pgbench_log") -> pd.DataFrame:
    """All threads' transactions as one frame, sorted by end time."""
    frames = [read_log_file(p, script_names, has_lag=has_lag, has_retries=has_retries)
              for p in log_files(folder, prefix)]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in COLUMNS})
    return pd.concat(frames, ignore_index=True).sort_values(["end", "client"], kind="stable") \
        .reset_index(drop=True)


def read_log_file(path: Path, script_names: list[str], *, has_lag: bool,
                  has_retries: bool) -> pd.DataFrame:
    """One log file as a frame with :data:`COLUMNS`."""
    if path.stat().st_size == 0:
        return pd.DataFrame(columns=COLUMNS)
    raw = pd.read_csv(path, sep=" ", header=None, dtype={2: str}, engine="c")
    width = raw.shape[1]
    names = ["client", "txn", "time", "script_no", "epoch", "us"]
    extra = width - 6
    if extra == 2:
        names += ["lag_us", "retries"]
    elif extra == 1:
        # One optional column: the lag when -R was given, else the retries.
        names += ["lag_us"] if has_lag or not has_retries else ["retries"]
    elif extra != 0:
        raise WorkbenchError(f"{path}: {width} columns per line, expected 6 to 8",
                             "is this a pgbench per-transaction log (-l)?")
    raw.columns = names
    latency_us = pd.to_numeric(raw["time"], errors="coerce")
    status = np.where(latency_us.notna(), "ok", raw["time"].astype(str))
    end = raw["epoch"].to_numpy(dtype="float64") + raw["us"].to_numpy(dtype="float64") / 1e6
    latency_ms = latency_us.to_numpy(dtype="float64") / 1000.0
    lag_ms = (raw["lag_us"].to_numpy(dtype="float64") / 1000.0 if "lag_us" in raw
              else np.full(len(raw), np.nan))
    names_arr = np.array(script_names + ["?"], dtype=object)
    script_no = raw["script_no"].to_numpy(dtype="int64")
    index = np.where((script_no >= 0) & (script_no < len(script_names)), script_no, len(script_names))
    # With -R the latency counts from the scheduled start, so the start is end - latency.
    start = end - np.nan_to_num(latency_ms) / 1000.0
    return pd.DataFrame({
        "client": raw["client"].astype("int32"),
        "txn": raw["txn"].astype("int64"),
        "script": pd.Categorical(names_arr[index], categories=[*dict.fromkeys(script_names), "?"]),
        "script_no": script_no.astype("int16"),
        "start": start,
        "end": end,
        "latency_ms": latency_ms,
        "lag_ms": lag_ms,
        "retries": raw["retries"].astype("int32") if "retries" in raw else 0,
        "status": pd.Categorical(status, categories=["ok", "skipped", *FAILED_STATUSES]),
    })


def trim_warmup(frame: pd.DataFrame, seconds: float, started: float | None = None) -> pd.DataFrame:
    """Drop transactions that started in the first ``seconds`` of the run."""
    if seconds <= 0 or frame.empty:
        return frame
    origin = started if started is not None else float(frame["start"].min())
    return frame[frame["start"] >= origin + seconds].reset_index(drop=True)


def latency_percentiles(frame: pd.DataFrame) -> dict[str, float | None]:
    """Mean, p50, p90, p95, p99, p99.9 and max latency (ms) of successful transactions."""
    values = frame.loc[frame["status"] == "ok", "latency_ms"].to_numpy(dtype="float64")
    if values.size == 0:
        return {"mean": None, **{k: None for k in PERCENTILES}, "max": None}
    points = np.percentile(values, list(PERCENTILES.values()))
    out: dict[str, float | None] = {"mean": round(float(values.mean()), 3)}
    out.update({k: round(float(v), 3) for k, v in zip(PERCENTILES, points, strict=True)})
    out["max"] = round(float(values.max()), 3)
    return out


def summarize(frame: pd.DataFrame, seconds: float) -> dict[str, Any]:
    """Counts, throughput and percentiles of every transaction in ``frame``, overall and per
    script. ``seconds`` is the measured interval.
    """
    summary = summarize_block(frame, seconds)
    summary["scripts"] = {
        str(name): summarize_block(part, seconds)
        for name, part in frame.groupby("script", observed=True)
    }
    return summary


def summarize_block(part: pd.DataFrame, seconds: float) -> dict[str, Any]:
    """Counts, throughput, latency percentiles and lag of one frame (no per-script split)."""
    ok = int((part["status"] == "ok").sum())
    lags = part["lag_ms"].dropna()
    return {
        "transactions": ok,
        "failed": int(part["status"].isin(FAILED_STATUSES).sum()),
        "skipped": int((part["status"] == "skipped").sum()),
        "retried": int((part["retries"] > 0).sum()),
        "tps": round(ok / seconds, 3) if seconds > 0 else None,
        "latency_ms": latency_percentiles(part),
        "lag_ms": {"mean": round(float(lags.mean()), 3), "max": round(float(lags.max()), 3)}
        if len(lags) else None,
    }


def percentile_intervals(frame: pd.DataFrame) -> dict[str, list[float] | None]:
    """95% intervals of p50, p90, p95, p99 and p99.9 from the sample's order statistics
    (:func:`workbench.intervals.percentile_interval`); None where the sample is too small."""
    from workbench.intervals import percentile_interval

    values = np.sort(frame.loc[frame["status"] == "ok", "latency_ms"].to_numpy(dtype="float64"))
    out: dict[str, list[float] | None] = {}
    for key, q in PERCENTILES.items():
        ranks = percentile_interval(values.size, q / 100)
        out[key] = None if ranks is None else [round(float(values[ranks[0]]), 3),
                                               round(float(values[ranks[1]]), 3)]
    return out


def _dtype(column: str) -> str:
    return {"client": "int32", "txn": "int64", "script": "object", "script_no": "int16",
            "retries": "int32", "status": "object"}.get(column, "float64")
