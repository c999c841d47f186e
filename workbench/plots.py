"""Plots for tuning reports: each function returns a matplotlib Figure and works from loaded run
folders (no database). Every plot has a ``*_summary`` companion printing a deterministic line, so
notebooks can show a figure and nbval can still check something (it does not compare images).

Before is always ``BEFORE_COLOR`` (blue) and after ``AFTER_COLOR`` (vermillion): the Okabe-Ito
colour-blind-safe pair.

>>> fig = latency_cdf(exp.before.transactions, exp.after.transactions)     # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure  # bare Figures need no pyplot backend: safe headless

BEFORE_COLOR = "#0072B2"
AFTER_COLOR = "#D55E00"
HIT_COLOR = "#009E73"
READ_COLOR = "#E69F00"
BUILD_COLOR = "#999999"
STATES = (("before", BEFORE_COLOR), ("after", AFTER_COLOR))


def _figure(width: float = 8, height: float = 4.5) -> tuple[Figure, Any]:
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def _ok_latencies(frame: pd.DataFrame) -> np.ndarray:
    return np.sort(frame.loc[frame["status"].astype(str) == "ok", "latency_ms"].to_numpy(float))


def latency_cdf(before: pd.DataFrame, after: pd.DataFrame) -> Figure:
    """Latency distribution before/after: cumulative share of transactions, log-scaled ms."""
    fig, ax = _figure()
    for (label, color), frame in zip(STATES, (before, after), strict=True):
        values = _ok_latencies(frame)
        if values.size:
            ax.step(values, np.arange(1, values.size + 1) / values.size, where="post",
                    color=color, label=f"{label} (p95 {np.percentile(values, 95):.2f} ms)")
    ax.set_xscale("log")
    ax.set_xlabel("latency (ms, log scale)")
    ax.set_ylabel("share of transactions")
    for q in (0.5, 0.95, 0.99):
        ax.axhline(q, color="#cccccc", linewidth=0.8, zorder=0)
    ax.set_title("Transaction latency distribution, before vs after")
    ax.legend(loc="lower right")
    return fig


def latency_summary(before: pd.DataFrame, after: pd.DataFrame) -> str:
    """One line per percentile: faster or slower after (no figures: they vary between runs)."""
    lines = []
    a, b = _ok_latencies(before), _ok_latencies(after)
    for q in (50, 95, 99):
        x, y = np.percentile(a, q), np.percentile(b, q)
        lines.append(f"p{q}: {'faster' if y < x else 'slower'} after")
    return "\n".join(lines)


def percentiles_by_script(before: dict[str, Any], after: dict[str, Any],
                          percentile: str = "p95") -> Figure:
    """Grouped bars: one script per group, before and after, of a latency percentile (ms)."""
    scripts = [s for s in before.get("scripts", {}) if s in after.get("scripts", {})]
    fig, ax = _figure()
    x = np.arange(len(scripts))
    for offset, ((label, color), summary) in zip((-0.2, 0.2), zip(STATES, (before, after),
                                                                  strict=True), strict=True):
        values = [(summary["scripts"][s]["latency_ms"] or {}).get(percentile) or 0 for s in scripts]
        ax.bar(x + offset, values, width=0.4, color=color, label=label)
    ax.set_xticks(x, scripts, rotation=20, ha="right")
    ax.set_yscale("log")
    ax.set_ylabel(f"{percentile} latency (ms, log scale)")
    ax.set_title(f"{percentile} latency per script, before vs after")
    ax.legend()
    return fig


def script_summary(before: dict[str, Any], after: dict[str, Any], percentile: str = "p95") -> str:
    """Per script: faster or slower after."""
    lines = []
    for name in before.get("scripts", {}):
        if name in after.get("scripts", {}):
            x = (before["scripts"][name]["latency_ms"] or {}).get(percentile)
            y = (after["scripts"][name]["latency_ms"] or {}).get(percentile)
            if x and y is not None:
                lines.append(f"{name}: {percentile} {'faster' if y < x else 'slower'}")
    return "\n".join(lines)


def timeline(runs: list[tuple[Any, ...]], marks: list[dict[str, Any]] | None = None,
             bucket_s: float = 1.0) -> Figure:
    """Throughput (tps) and p95 latency per second over the whole experiment, variants marked.

    ``runs``: ``(label, transactions frame[, sampling rate])`` in time order, the label naming its
    arm ("before"/"after" anywhere in it); a sampled frame's counts are scaled back up by its
    rate. ``marks``: spans ``{"label", "start", "end"}`` (epoch seconds) to shade, e.g. the
    variant being applied.
    """
    fig = Figure(figsize=(9, 5.5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    origin = min((float(r[1]["start"].min()) for r in runs if not r[1].empty), default=0.0)
    for item in runs:
        label, frame = item[0], item[1]
        rate = float(item[2]) if len(item) > 2 and item[2] else 1.0
        if frame.empty:
            continue
        color = AFTER_COLOR if "after" in label else BEFORE_COLOR
        ok = frame[frame["status"].astype(str) == "ok"]
        last_full = ((float(frame["end"].max()) - origin) // bucket_s) * bucket_s
        ok = ok[((ok["end"] - origin) // bucket_s) * bucket_s < last_full]  # drop the partial tail
        second = ((ok["end"] - origin) // bucket_s) * bucket_s
        grouped = ok.groupby(second)["latency_ms"]
        top.plot(grouped.size().index, grouped.size().to_numpy() / bucket_s / rate, color=color,
                 label=label)
        bottom.plot(grouped.quantile(0.95).index, grouped.quantile(0.95).to_numpy(), color=color,
                    label=label)
    for mark in marks or []:
        for ax in (top, bottom):
            ax.axvspan(mark["start"] - origin, mark["end"] - origin, color=BUILD_COLOR, alpha=0.3)
        top.annotate(mark.get("label", ""), (mark["start"] - origin, 1), xycoords=("data", "axes fraction"),
                     va="top", fontsize=8)
    top.set_ylabel("throughput (tps)")
    bottom.set_ylabel("p95 latency (ms, log)")
    bottom.set_yscale("log")
    bottom.set_xlabel("time since the first run started (s)")
    top.set_title("Throughput and p95 latency over time (grey: the variant being applied)")
    if len(runs) <= 8:
        top.legend(loc="upper left", fontsize=8)
    return fig


VERDICT_COLORS = {"faster": "#009E73", "slower": "#D55E00", "no significant change": "#999999",
                  "withheld": "#CC79A7"}


def verdicts(comparison: dict[str, Any]) -> Figure:
    """Each metric's change (after vs before, %) with its 95% interval, coloured by verdict."""
    rows = [v for v in comparison.get("verdicts", []) if v.get("change_pct") is not None]
    fig, ax = _figure(8, 0.45 * max(len(rows), 2) + 1.5)
    labels = [f"{v['comparison']}: {v['metric']}" for v in rows][::-1]
    for y, v in enumerate(rows[::-1]):
        color = VERDICT_COLORS.get(v["verdict"], "#999999")
        ax.plot([v["change_pct"]], [y], "o", color=color)
        if v.get("ci_pct"):
            low, high = (max(min(c, 500.0), -100.0) for c in v["ci_pct"])
            ax.plot([low, high], [y, y], color=color, linewidth=2)
    ax.axvline(0, color="#333333", linewidth=0.8)
    effect = comparison.get("min_effect_pct") or 0
    for edge in (-effect, effect):
        ax.axvline(edge, color="#cccccc", linestyle="--", linewidth=0.8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("change after vs before (%), 95% interval (clipped to [-100, +500])")
    ax.set_title(f"Verdicts ({comparison.get('repeats')} runs per arm; dashed: the minimum "
                 "effect)")
    from matplotlib.lines import Line2D

    ax.legend(handles=[Line2D([], [], color=c, marker="o", label=k)
                       for k, c in VERDICT_COLORS.items()], fontsize=7, loc="lower right")
    return fig


def verdict_summary(comparison: dict[str, Any]) -> str:
    """One line per verdict, with no figures (they vary between runs): metric and verdict."""
    return "\n".join(f"{v['comparison']}, {v['metric']}: {v['verdict']}"
                      for v in comparison.get("verdicts", []))


def buffers_by_statement(before: pd.DataFrame, after: pd.DataFrame, top_n: int = 10) -> Figure:
    """Stacked bars of shared blocks hit and read per call, per workload statement (scripts)."""
    def per_call(frame: pd.DataFrame) -> pd.DataFrame:
        if frame is None or frame.empty or "script" not in frame:
            return pd.DataFrame(columns=["hit", "read"])
        frame = frame[frame["name"].notna()] if "name" in frame else frame[frame["script"].notna()]
        if "name" not in frame:
            frame = frame.assign(name=frame["script"].astype(str))
        grouped = frame.groupby("name")[["shared_blks_hit", "shared_blks_read", "calls"]].sum()
        calls = grouped["calls"].where(grouped["calls"] > 0, 1)
        return pd.DataFrame({"hit": grouped["shared_blks_hit"] / calls,
                             "read": grouped["shared_blks_read"] / calls})

    b, a = per_call(before), per_call(after)
    names = list((b["hit"] + b["read"]).sort_values(ascending=False).index[:top_n])
    return _stacked(names, b, a, "shared blocks per call", "Shared buffers per statement call: "
                    "hit vs read, before (left) and after (right)")


def buffers_by_table(before: pd.DataFrame, after: pd.DataFrame, top_n: int = 10) -> Figure:
    """Stacked bars of heap+index blocks hit and read per table, before and after."""
    def per_table(frame: pd.DataFrame) -> pd.DataFrame:
        if frame is None or frame.empty:
            return pd.DataFrame(columns=["hit", "read"])
        grouped = frame.groupby("relation")[["heap_blks_hit", "idx_blks_hit", "heap_blks_read",
                                             "idx_blks_read"]].sum().fillna(0)
        return pd.DataFrame({"hit": grouped["heap_blks_hit"] + grouped["idx_blks_hit"],
                             "read": grouped["heap_blks_read"] + grouped["idx_blks_read"]})

    b, a = per_table(before), per_table(after)
    names = list((b["hit"] + b["read"]).sort_values(ascending=False).index[:top_n])
    return _stacked(names, b, a, "shared blocks (heap + index)",
                    "Shared buffers per table: hit vs read, before (left) and after (right)")


def _stacked(names: list[str], before: pd.DataFrame, after: pd.DataFrame, ylabel: str,
             title: str) -> Figure:
    fig, ax = _figure(9, 4.8)
    x = np.arange(len(names))
    for offset, frame, edge in ((-0.2, before, BEFORE_COLOR), (0.2, after, AFTER_COLOR)):
        hit = [float(frame["hit"].get(n, 0)) for n in names]
        read = [float(frame["read"].get(n, 0)) for n in names]
        ax.bar(x + offset, hit, width=0.38, color=HIT_COLOR, edgecolor=edge, linewidth=1.5)
        ax.bar(x + offset, read, width=0.38, bottom=hit, color=READ_COLOR, edgecolor=edge,
               linewidth=1.5)
    ax.set_xticks(x, names, rotation=25, ha="right")
    ax.set_yscale("symlog")
    ax.set_ylabel(f"{ylabel} (symlog)")
    ax.set_title(title)
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=HIT_COLOR, label="hit"), Patch(color=READ_COLOR, label="read"),
                       Patch(facecolor="white", edgecolor=BEFORE_COLOR, label="before"),
                       Patch(facecolor="white", edgecolor=AFTER_COLOR, label="after")])
    return fig


def plan_self_time(before: Any, after: Any, title: str = "") -> Figure:
    """Horizontal bars: self time (ms) of each plan node, before and after (Plan objects)."""
    fig = Figure(figsize=(9, 5), layout="constrained")
    axes = fig.subplots(1, 2, sharex=False)
    for ax, plan, (label, color) in zip(axes, (before, after), STATES, strict=True):
        nodes = [n for n in plan.nodes if n.self_ms is not None]
        labels = [f"{n.id}: {n.label[:45]}" for n in nodes][::-1]
        ax.barh(labels, [max(n.self_ms, 0) for n in nodes][::-1], color=color)
        ax.set_xlabel("self time (ms)")
        ax.set_title(f"{label}: {plan.execution_ms or 0:.2f} ms total", fontsize=10)
        ax.tick_params(axis="y", labelsize=7)
    fig.suptitle(title or "Plan node self time, before vs after")
    return fig


def index_size_vs_benefit(recommendations: list[dict[str, Any]]) -> Figure:
    """Scatter: each recommended index's size (MB) against its benefit (% of workload cost)."""
    fig, ax = _figure(8, 4.8)
    sizes = [r["size_bytes"] / 1e6 for r in recommendations]
    benefit = [r["benefit_pct"] for r in recommendations]
    ax.scatter(sizes, benefit, color=AFTER_COLOR, s=60)
    for r, x, y in zip(recommendations, sizes, benefit, strict=True):
        ax.annotate(f"{r['table']} ({', '.join(r['columns'])})", (x, y), fontsize=7,
                    xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel("index size (MB)")
    ax.set_ylabel("benefit (% of workload cost)")
    ax.set_title("Recommended indexes: size vs estimated benefit")
    return fig


def index_summary(recommendations: list[dict[str, Any]]) -> str:
    """One line per recommendation: table, columns, method (no sizes: they vary by build)."""
    return "\n".join(f"{r['table']} ({', '.join(r['columns'])}) {r.get('method', 'btree')}"
                     for r in recommendations)


def waits_over_time(waits: pd.DataFrame, title: str = "") -> Figure:
    """Stacked area: sessions per wait event type over time (sampled from pg_stat_activity)."""
    fig, ax = _figure(9, 4.2)
    if waits is not None and not waits.empty:
        frame = waits.copy()
        kinds = frame["wait_event_type"].astype("object").where(frame["wait_event_type"].notna(), "")
        frame["wait_event_type"] = kinds.astype(str).replace("", "CPU / none")
        table = frame.pivot_table(index="t", columns="wait_event_type", values="count",
                                  aggfunc="sum", fill_value=0)
        ax.stackplot(table.index, table.T.to_numpy(), labels=list(table.columns))
        ax.legend(loc="upper left", fontsize=8)
    ax.set_xlabel("time since the run started (s)")
    ax.set_ylabel("sessions")
    ax.set_title(title or "Sessions by wait event type over time")
    return fig


SERIES_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


def sweep_curves(points: pd.DataFrame, knees: list[dict[str, Any]] | None = None,
                 x: str = "clients") -> Figure:
    """Throughput, and p95/p99 latency, against clients (or pool size), one line per series with
    its 95% band; the throughput knee of each series marked with a dashed line."""
    fig = Figure(figsize=(9, 6), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    series_cols = [c for c in ("scale", "route", "pool_size") if c in points and c != x]
    groups = points.groupby(series_cols, dropna=False, sort=True) if series_cols else \
        [((), points)]
    for i, (key, part) in enumerate(groups):
        part = part.sort_values(x)
        color = SERIES_COLORS[i % len(SERIES_COLORS)]
        key = key if isinstance(key, tuple) else (key,)
        label = ", ".join(f"{c} {v:g}" if isinstance(v, float) and not np.isnan(v) else
                          f"{v}" for c, v in zip(series_cols, key, strict=True)
                          if v is not None and not (isinstance(v, float) and np.isnan(v)))
        top.plot(part[x], part["tps"], marker="o", color=color, label=label or None)
        top.fill_between(part[x], part["tps_low"].fillna(part["tps"]),
                         part["tps_high"].fillna(part["tps"]), color=color, alpha=0.2)
        for metric, style in (("p95", "-"), ("p99", ":")):
            bottom.plot(part[x], part[metric], linestyle=style, marker="o", color=color,
                        label=f"{metric} {label}".strip())
            bottom.fill_between(part[x], part[f"{metric}_low"].fillna(part[metric]),
                                part[f"{metric}_high"].fillna(part[metric]), color=color,
                                alpha=0.12)
        for knee in knees or []:
            if x == "clients" and knee.get("throughput_knee") and knee["series"].endswith(
                    str(part["route"].iloc[0])):
                top.axvline(knee["throughput_knee"], color=color, linestyle="--", linewidth=0.8)
    for ax in (top, bottom):
        ax.set_xscale("log", base=2)
    top.set_ylabel("throughput (tps)")
    bottom.set_ylabel("latency (ms, log): p95 solid, p99 dotted")
    bottom.set_yscale("log")
    bottom.set_xlabel("pool size (server connections)" if x == "pool_size" else "clients")
    top.set_title(f"Throughput and latency against {x.replace('_', ' ')} (bands: 95% intervals; "
                  "dashed: the knee)")
    top.legend(fontsize=8)
    return fig


def sweep_summary(knees: list[dict[str, Any]]) -> str:
    """One line per series: where throughput peaks and stops growing (no figures)."""
    lines = []
    for k in knees:
        lines.append(f"{k['series']}: throughput reaches 95% of its peak at "
                     f"{k['throughput_knee']} clients; p99 climbs past {k['p99_factor']:g}x its "
                     f"lowest at {k['p99_knee'] or 'no tested'} clients")
    return "\n".join(lines)


def trend(frame: pd.DataFrame, metric: str = "tps") -> Figure:
    """A metric across a dataset's results over time (a catalog frame), one marker per result,
    experiments' intervals-free after-arm means included; incomplete results hollow."""
    fig, ax = _figure(9, 4.2)
    data = frame.dropna(subset=[metric]).copy()
    if not data.empty:
        data["when"] = pd.to_datetime(data["created_at"], utc=True, errors="coerce")
        for i, (kind, part) in enumerate(data.groupby("kind", sort=True)):
            color = SERIES_COLORS[i % len(SERIES_COLORS)]
            done = part["status"] == "complete"
            ax.plot(part.loc[done, "when"], part.loc[done, metric], "o-", color=color,
                    label=f"{kind}")
            ax.plot(part.loc[~done, "when"], part.loc[~done, metric], "o", color=color,
                    markerfacecolor="none", label=f"{kind} (incomplete)" if (~done).any() else None)
        ax.legend(fontsize=8)
    ax.set_xlabel("when the result was made (UTC)")
    ax.set_ylabel(metric + (" (tps)" if metric == "tps" else " (ms)"))
    ax.set_title(f"{metric} across results")
    return fig
