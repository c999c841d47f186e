"""The parser on real pgbench 15 and 18 output (captured: see tests/data/pgbench/README.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workbench.pgbench_output import parse_progress, parse_summary

DATA = Path(__file__).parent / "data" / "pgbench"


@pytest.mark.parametrize("version", ["15", "18"])
def test_full_summary_with_rate_limit_retries_and_per_script(version: str) -> None:
    text = (DATA / version / "mixed.stdout").read_text()
    summary = parse_summary(text)
    assert summary.version.startswith(version)
    assert summary.server_version == (None if version == "18" else "18.6")  # shown when they differ
    assert (summary.clients, summary.threads, summary.max_tries) == (4, 2, 3)
    assert summary.duration_s == 3 and summary.query_mode == "simple"
    expected = {k: int(v) for k, v in re.findall(
        r"^(processed|retried|skipped): (\d+)", _simplified(text), re.M)}
    assert summary.processed == expected["processed"]
    assert summary.retried == expected["retried"] and summary.skipped == expected["skipped"]
    assert summary.lag_avg_ms is not None and summary.lag_max_ms >= summary.lag_avg_ms
    assert summary.tps > 0 and summary.latency_stddev_ms is not None
    assert [s.name for s in summary.scripts] == ["browse_hot_products", "recent_orders", "contend"]
    assert [s.weight for s in summary.scripts] == [3, 2, 1]
    assert sum(s.transactions for s in summary.scripts) == summary.processed
    assert all(s.tps and s.latency_avg_ms is not None for s in summary.scripts)
    contend = summary.scripts[2].statements
    assert [st.text.split()[0].rstrip(";") for st in contend] == ["BEGIN", "UPDATE", "SELECT", "END"]
    assert all(st.failures is not None and st.retries is not None for st in contend)
    assert summary.unknown == [] and summary.aborted is False


def _simplified(text: str) -> str:
    text = re.sub(r"^number of transactions actually processed: (\d+)", r"processed: \1", text, flags=re.M)
    text = re.sub(r"^number of transactions retried: (\d+)", r"retried: \1", text, flags=re.M)
    return re.sub(r"^number of transactions skipped: (\d+)", r"skipped: \1", text, flags=re.M)


@pytest.mark.parametrize("version", ["15", "18"])
def test_progress_lines(version: str) -> None:
    lines = (DATA / version / "mixed.stderr").read_text().splitlines()
    points = [p for p in map(parse_progress, lines) if p]
    assert len(points) >= 2
    assert [p.t for p in points] == sorted(p.t for p in points)
    assert all(p.lag_ms is not None and p.tps > 0 for p in points)


@pytest.mark.parametrize(("line", "fields"), [
    ("progress: 5.0 s, 1234.5 tps, lat 8.123 ms stddev 2.345, 0 failed",
     {"t": 5.0, "tps": 1234.5, "failed": 0, "lag_ms": None}),
    ("progress: 1732443300.123 s, 10.0 tps, lat 1.000 ms stddev NaN, 2 failed, lag 0.5 ms, 3 skipped",
     {"t": 1732443300.123, "stddev_ms": None, "failed": 2, "lag_ms": 0.5, "skipped": 3}),
    ("progress: 2.0 s, 9.0 tps, lat 1.0 ms stddev 0.1, 0 failed, 4 retried, 6 retries",
     {"retried": 4}),
])
def test_progress_variants(line: str, fields: dict) -> None:
    point = parse_progress(line)
    assert point is not None
    for key, value in fields.items():
        assert getattr(point, key) == value


def test_aborted_run_and_unknown_lines_never_crash() -> None:
    summary = parse_summary("pgbench (17.2)\nsomething new: 1\nRun was aborted; the above results "
                            "are incomplete.\n")
    assert summary.aborted and summary.version == "17.2"
    assert summary.unknown == ["something new: 1"]
