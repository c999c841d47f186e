"""Plots for tuning reports: each function returns a matplotlib Figure and works from loaded run
folders (no database). Every plot has a ``*_summary`` companion printing a deterministic line, so
notebooks can show a figure and nbval can still check something (it does not compare images).

Before is always ``BEFORE_COLOR`` (blue) and after ``AFTER_COLOR`` (vermillion): the Okabe-Ito
colour-blind-safe pair.

>>> fig = latency_cdf(exp.before.transactions, exp.after.transactions)     # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
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


VERDICT_CLIP_PCT = 500.0  # the verdict plot's right edge: a 40x change would squash the rest


def verdicts(comparison: dict[str, Any]) -> Figure:
    """Each metric's change (after vs before, %) with its 95% interval, coloured by verdict."""
    rows = [v for v in comparison.get("verdicts", []) if v.get("change_pct") is not None]
    fig, ax = _figure(8, 0.45 * max(len(rows), 2) + 1.5)
    labels = [f"{v['comparison']}: {v['metric']}" for v in rows][::-1]
    for y, v in enumerate(rows[::-1]):
        color = VERDICT_COLORS.get(v["verdict"], "#999999")
        change = v["change_pct"]
        shown = min(change, VERDICT_CLIP_PCT)
        # a change beyond the axis is drawn at its edge as an arrow, its value written beside it
        ax.plot([shown], [y], ">" if change > VERDICT_CLIP_PCT else "o", color=color)
        if change > VERDICT_CLIP_PCT:
            ax.annotate(f"{change:+.0f}%", (shown, y), textcoords="offset points",
                        xytext=(-8, 5), ha="right", fontsize=7, color=color)
        if v.get("ci_pct"):
            low, high = (max(min(c, VERDICT_CLIP_PCT), -100.0) for c in v["ci_pct"])
            ax.plot([low, high], [y, y], color=color, linewidth=2)
    ax.axvline(0, color="#333333", linewidth=0.8)
    effect = comparison.get("min_effect_pct") or 0
    for edge in (-effect, effect):
        ax.axvline(edge, color="#cccccc", linestyle="--", linewidth=0.8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel(f"change after vs before (%), 95% interval (clipped to [-100, "
                  f"+{VERDICT_CLIP_PCT:.0f}])")
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


# -- the run dashboard: one time axis for everything the timeline holds --------------------------

WAIT_COLORS = {"CPU": "#009E73", "IO": "#E69F00", "Lock": "#D55E00", "LWLock": "#CC79A7",
               "IPC": "#56B4E9", "Client": "#999999", "Timeout": "#F0E442", "BufferPin": "#000000",
               "Activity": "#DDDDDD", "Extension": "#0072B2", "idle in transaction": "#882255"}
DASHBOARD_PANELS = ("throughput and p95 latency", "top statements' execution time",
                    "sessions by wait event", "checkpoints, WAL and buffers written",
                    "host CPU and disk")


def dashboard(run: Any, phases: list[dict[str, Any]] | None = None, top: int = 5,
              title: str | None = None) -> Figure:
    """A run on one time axis, in stacked panels: throughput and p95 latency; the top
    statements' execution time; sessions by wait event; checkpoints, WAL and buffers written;
    host CPU and disk. ``phases`` (``{"label", "start", "end"}``, epoch seconds: an index build,
    a migration's apply and undo) are shaded on every panel. A series the run could not observe
    leaves its panel empty with the reason.

    >>> fig = dashboard(load_run("runs/shop-20261127-101500"))     # doctest: +SKIP
    """
    timeline = getattr(run, "timeline", None)
    fig = Figure(figsize=(10, 12), layout="constrained")
    axes = fig.subplots(len(DASHBOARD_PANELS), 1, sharex=True)
    origin = float(timeline.meta.get("origin") or 0) if timeline else _first_start(run)
    _panel_throughput(axes[0], run, origin)
    if timeline is None:
        for ax in axes[1:]:
            _not_observed(ax, "the run was not watched (no timeline)")
    else:
        _panel_statements(axes[1], timeline, top)
        _panel_sessions(axes[2], timeline)
        _panel_server(axes[3], timeline)
        _panel_host(axes[4], timeline)
    _shade_phases(axes, phases or [], origin, _run_seconds(run, timeline))
    axes[-1].set_xlabel("seconds since the measured run started")
    fig.suptitle(title or f"Run {Path(str(run.out)).name}: what the server, the statements and "
                 "the host did (grey: phases)")
    return fig


def dashboard_summary(run: Any, phases: list[dict[str, Any]] | None = None) -> str:
    """The dashboard's panels and where their data came from (stable text: no figures)."""
    timeline = getattr(run, "timeline", None)
    if timeline is None:
        return "dashboard: throughput and p95 latency only (the run was not watched)"
    sessions = "pg_wait_sampling" if "pg_wait_sampling" in str(
        timeline.meta.get("sources", {}).get("sessions", "")) else "pg_stat_activity"
    held = {"top statements' execution time": not timeline.statements.empty,
            "sessions by wait event": not timeline.sessions.empty,
            "checkpoints, WAL and buffers written": not timeline.server.empty,
            "host CPU and disk": not timeline.host.empty}
    lines = ["dashboard panels: throughput and p95 latency; " + "; ".join(
        name + (f" ({sessions})" if name.startswith("sessions") else "")
        for name, ok in held.items() if ok)]
    if phases:
        origin = float(timeline.meta.get("origin") or 0)
        seconds = _run_seconds(run, timeline)
        inside = [p for p in phases if float(p["end"]) > origin
                  and float(p["start"]) < origin + seconds]
        outside = [p for p in phases if p not in inside]
        if inside:
            lines.append("phases shaded: " + ", ".join(str(p.get("label")) for p in inside))
        if outside:
            lines.append("phases outside the run (noted): "
                         + ", ".join(str(p.get("label")) for p in outside))
    return "\n".join(lines)


def _run_seconds(run: Any, timeline: Any) -> float:
    """How long the measured run lasted, on its own axis."""
    ends = [float(run.progress["t"].max()) if not run.progress.empty else 0.0]
    if timeline is not None and not timeline.server.empty:
        ends.append(float(timeline.server["t"].max()))
    return max(ends)


def _shade_phases(axes: Any, phases: list[dict[str, Any]], origin: float, seconds: float
                  ) -> None:
    """Shade each phase where it overlaps the run; one that happened outside it (an index
    built on the copy before the run's warm-up) is named in a note instead."""
    notes = []
    for span in phases:
        start, end = float(span["start"]) - origin, float(span["end"]) - origin
        label = str(span.get("label", ""))
        if end <= 0 or start >= seconds:
            where = f"ended {-end:.1f} s before" if end <= 0 else f"began {start - seconds:.1f} " \
                "s after"
            notes.append(f"{label}: {end - start:.1f} s, {where} this run")
            continue
        start, end = max(start, 0.0), min(end, seconds)
        for ax in axes:
            ax.axvspan(start, end, color=BUILD_COLOR, alpha=0.25, zorder=0)
            for edge in (start, end):  # visible above stacked areas too
                ax.axvline(edge, color="#555555", linestyle=":", linewidth=0.9, zorder=5)
        axes[0].annotate(label, (start, 1.0), xycoords=("data", "axes fraction"), va="top",
                         fontsize=8)
    if notes:
        axes[0].text(0.5, 0.02, "; ".join(notes), transform=axes[0].transAxes, ha="center",
                     va="bottom", fontsize=7, color="#555555")


def _first_start(run: Any) -> float:
    frame = run.transactions
    return float(frame["start"].min()) if not frame.empty else 0.0


def _whole(frame: pd.DataFrame, timeline: Any) -> pd.DataFrame:
    """Rows of full intervals only: the last sample, taken as pgbench exits, covers a sliver of
    a second whose rates would be noise."""
    if frame.empty or "dt" not in frame:
        return frame
    return frame[frame["dt"] >= timeline.interval / 4]


def _stack(ax: Any, table: pd.DataFrame, columns: list[str], dt: pd.Series, colors: list[str],
           labels: list[str] | None = None) -> None:
    """Stacked areas where each row covers (t - dt, t]: the first interval starts at its own
    start, not at the first sample."""
    if table.empty:
        return
    first = float(table.index[0]) - float(dt.get(table.index[0], 0) or 0)
    x = np.concatenate([[first], table.index.to_numpy(float)])
    y = np.vstack([table[columns].iloc[[0]].to_numpy(), table[columns].to_numpy()]).T
    ax.stackplot(x, y, labels=labels or columns, colors=colors, step="pre")


def _steps(ax: Any, t: pd.Series, y: pd.Series, dt: pd.Series | float = 1.0, **style: Any
           ) -> None:
    """A step line where each value covers (t - dt, t], drawn from the first interval's start."""
    if len(t) == 0:
        return
    first_dt = float(dt.iloc[0]) if isinstance(dt, pd.Series) else float(dt)
    x = np.concatenate([[float(t.iloc[0]) - first_dt], t.to_numpy(float)])
    values = np.concatenate([[float(y.iloc[0])], y.to_numpy(float)])
    ax.plot(x, values, drawstyle="steps-pre", **style)


def _not_observed(ax: Any, why: str) -> None:
    ax.text(0.5, 0.5, f"not observed: {why}", transform=ax.transAxes, ha="center",
            va="center", fontsize=8, color="#666666", wrap=True)


def _panel_throughput(ax: Any, run: Any, origin: float) -> None:
    progress = run.progress
    if progress is not None and not progress.empty:
        _steps(ax, progress["t"], progress["tps"], color=BEFORE_COLOR, label="tps (pgbench -P)")
        failed = progress[progress["failed"] > 0] if "failed" in progress else progress.iloc[:0]
        if not failed.empty:
            ax.plot(failed["t"], failed["tps"], "x", color=AFTER_COLOR, label="failures")
    ax.set_ylabel("tps")
    ok = run.transactions[run.transactions["status"].astype(str) == "ok"] \
        if not run.transactions.empty else run.transactions
    if not ok.empty:
        second = np.ceil(ok["end"] - origin)
        p95 = ok.groupby(second)["latency_ms"].quantile(0.95)
        right = ax.twinx()
        _steps(right, p95.index.to_series(), p95, color=AFTER_COLOR, label="p95 latency")
        right.set_ylabel("p95 ms")
        right.set_ylim(bottom=0)
        right.legend(loc="lower right", fontsize=7)
    ax.set_ylim(bottom=0)
    ax.legend(loc="lower left", fontsize=7)
    ax.set_title("Throughput and p95 latency (per second)", fontsize=9)


def _panel_statements(ax: Any, timeline: Any, top: int) -> None:
    frame = timeline.statements
    ax.set_title("Top statements: execution time per second (seconds of execution per "
                 "second = sessions executing)", fontsize=9)
    if frame.empty:
        _not_observed(ax, timeline.missing.get("statements", "no statement ran"))
        return
    frame = _whole(frame, timeline)
    frame = frame.assign(busy=frame["total_ms"] / 1000 / frame["dt"])
    order = frame.groupby("statement")["total_ms"].sum().sort_values(ascending=False)
    names = [n for n in order.index if not str(n).startswith("other")][:top]
    shown = frame.assign(statement=frame["statement"].where(frame["statement"].isin(names),
                                                            "other"))
    table = shown.pivot_table(index="t", columns="statement", values="busy", aggfunc="sum",
                              fill_value=0)
    columns = [n for n in names if n in table.columns] + \
        (["other"] if "other" in table.columns else [])
    colors = [SERIES_COLORS[i % len(SERIES_COLORS)] for i in range(len(columns))]
    _stack(ax, table, columns, frame.groupby("t")["dt"].first(), colors)
    ax.set_ylabel("s/s")
    ax.legend(loc="upper left", fontsize=7, ncol=2)


def _panel_sessions(ax: Any, timeline: Any) -> None:
    frame = timeline.sessions
    ax.set_title("Average active sessions by wait event type", fontsize=9)
    if frame.empty:
        _not_observed(ax, "no session was sampled")
        return
    dt = timeline.server.set_index("t")["dt"] if not timeline.server.empty else pd.Series()
    frame = frame[frame["t"].map(dt).fillna(timeline.interval) >= timeline.interval / 4]
    activity = frame[frame["source"] == "pg_stat_activity"]
    waits = frame[frame["source"] == "pg_wait_sampling"]
    kind = activity["wait_event_type"].astype("object").where(
        activity["wait_event_type"].notna(), "").astype(str)
    if waits.empty:
        active = activity.assign(kind=kind.replace("", "CPU"))
        active = active[(active["state"] == "active")
                        | (active["state"] == "idle in transaction")]
        active.loc[active["state"] == "idle in transaction", "kind"] = "idle in transaction"
    else:  # waits sampled in the server; CPU: active sessions seen with no wait event
        cpu = activity[(activity["state"] == "active") & (kind == "")].assign(kind="CPU")
        active = pd.concat([cpu, waits.assign(kind=waits["wait_event_type"].astype(str))])
        active = active[active["kind"] != "Client"]  # waiting for pgbench: idle time
    if active.empty:
        _not_observed(ax, "no active session was sampled")
        return
    table = active.pivot_table(index="t", columns="kind", values="sessions", aggfunc="sum",
                               fill_value=0)
    columns = sorted(table.columns, key=lambda k: (k != "CPU", k))
    _stack(ax, table, columns, dt, [WAIT_COLORS.get(k, "#777777") for k in columns])
    ax.set_ylabel("sessions")
    ax.legend(loc="upper left", fontsize=7, ncol=4)


def _panel_server(ax: Any, timeline: Any) -> None:
    frame = timeline.server
    ax.set_title("WAL, buffers written and checkpoints (red: requested, dashed: timed)",
                 fontsize=9)
    if frame.empty:
        _not_observed(ax, timeline.missing.get("server", "no sample"))
        return
    checkpoints = frame
    frame = _whole(frame, timeline)
    _steps(ax, frame["t"], frame["wal_bytes"] / frame["dt"] / 2**20, frame["dt"],
           color=BEFORE_COLOR, label="WAL MB/s")
    ax.set_ylabel("WAL MB/s")
    ax.set_ylim(bottom=0)
    right = ax.twinx()
    for column, color in (("buffers_checkpoint", AFTER_COLOR), ("buffers_clean", HIT_COLOR),
                          ("buffers_backend", READ_COLOR)):
        _steps(right, frame["t"], frame[column] / frame["dt"], frame["dt"], color=color,
               linewidth=0.9, label=column.replace("buffers_", "written by "))
    right.set_ylabel("buffers/s")
    right.set_ylim(bottom=0)
    right.legend(loc="upper right", fontsize=7)
    for column, style in (("checkpoints_req", "-"), ("checkpoints_timed", "--")):
        for _, row in checkpoints[checkpoints[column] > 0].iterrows():
            ax.axvspan(row["t"] - row["dt"], row["t"], color="#D55E00", alpha=0.15,
                       linestyle=style)
            ax.axvline(row["t"], color="#D55E00", linestyle=style, linewidth=1.2)
    ax.legend(loc="upper left", fontsize=7)


def _panel_host(ax: Any, timeline: Any) -> None:
    frame = timeline.host
    ax.set_title("Host: CPU (stacked %) and disk MB/s", fontsize=9)
    if frame.empty:
        _not_observed(ax, timeline.missing.get("host", "no sample"))
        return
    frame = _whole(frame, timeline)
    columns = ["cpu_user_pct", "cpu_system_pct", "cpu_iowait_pct", "cpu_steal_pct"]
    _stack(ax, frame.set_index("t"), columns, frame.set_index("t")["dt"],
           [HIT_COLOR, BEFORE_COLOR, READ_COLOR, "#CC79A7"], [c[4:-4] for c in columns])
    ax.set_ylim(0, 100)
    ax.set_ylabel("CPU %")
    ax.legend(loc="upper left", fontsize=7, ncol=4)
    right = ax.twinx()
    for column, style in (("disk_read_bytes_s", ":"), ("disk_write_bytes_s", "-")):
        _steps(right, frame["t"], frame[column] / 2**20, frame["dt"], color="#000000",
               linestyle=style, linewidth=0.9, label=column[5:-8] + " MB/s")
    right.set_ylabel("disk MB/s")
    right.set_ylim(bottom=0)
    right.legend(loc="upper right", fontsize=7)
