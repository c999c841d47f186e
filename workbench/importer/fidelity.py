"""How faithful an imported dataset is to its source: statistics column by column, plans
statement by statement.

Columns: the clone's ``pg_stats`` against the source's: MCV overlap (the frequency both give to
the same common values, over the larger total), null-fraction difference, distinct-count ratio
(absolute counts: a negative n_distinct times the table's rows), and histogram distance (the
mean gap between the quantile a source bound has in the source, i/k, and in the clone's
histogram: 0 for the same histogram, 1 at worst). Statements: every imported statement with the
same literal values on both servers (drawn by its script, computed on the clone), EXPLAIN on
each (estimates only: the source is only read): same plan shape means the same node types on the
same relations through the same indexes, in the same order; and the ratio of the estimated rows.

On PostgreSQL 18, ``restore_statistics`` copies the source's planner statistics into the clone
(``pg_restore_relation_stats`` / ``pg_restore_attribute_stats``) and the plans are compared again.

>>> report = fidelity(prod_dsn, "prod_clone")           # doctest: +SKIP
>>> print(report.text())                                 # doctest: +SKIP
"""

from __future__ import annotations

import html
import json
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql

from workbench.connect import connect, connection_error, resolve_dsn
from workbench.databases import require_owned
from workbench.dsn import describe
from workbench.errors import WorkbenchError
from workbench.loader import check_loaded
from workbench.plans.model import Plan, parse_plan
from workbench.scripts import bind, read_script

NULL_FRAC_TOLERANCE = 0.02
DISTINCT_RANGE = (0.8, 1.25)
DISTINCT_MIN = 100
RESTORE_MIN_VERSION = 180000
RESTORE_EXPLAINED = (
    "Restoring copies each column's pg_stats (null fraction, distinct count, most common values "
    "and frequencies, histogram, correlation) and each table's reltuples and relpages from the "
    "source, so the planner's selectivity estimates start from the same numbers. It does not "
    "make the clone's tables and indexes the same size: the planner reads their size in pages "
    "from disk at every plan and scales reltuples to it; nor extended statistics, the data "
    "itself (actual rows, timings, caching), or what the next ANALYZE (autovacuum after the "
    "workload writes) puts back."
)
_STATS = ("SELECT s.schemaname, s.tablename, s.attname, s.null_frac, s.n_distinct, "
          "s.most_common_vals::text::text[], s.most_common_freqs, s.histogram_bounds::text::text[], "
          "s.correlation, c.reltuples, format_type(a.atttypid, a.atttypmod) "
          "FROM pg_stats s JOIN pg_namespace n ON n.nspname = s.schemaname "
          "JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = s.tablename "
          "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = s.attname "
          "WHERE NOT s.inherited AND s.schemaname || '.' || s.tablename = ANY(%s)")


@dataclass
class FidelityReport:
    """Columns and statements of a clone compared with its source."""

    source: str
    clone: str
    clone_scale: float
    columns: pd.DataFrame
    statements: pd.DataFrame
    restored: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The headline figures."""
        cols, stmts = self.columns, self.statements
        out: dict[str, Any] = {"columns": len(cols), "statements": len(stmts),
                               "clone_scale": self.clone_scale}
        if len(cols):
            diff = cols["null_frac_diff"].abs()
            out["null_frac_within"] = int((diff <= NULL_FRAC_TOLERANCE).sum())
            out["null_frac_max_diff"] = round(float(diff.max()), 4)
            many = cols[cols["distinct_source"] > DISTINCT_MIN]
            ratio = many["distinct_ratio"]
            out["distinct_columns"] = len(many)
            out["distinct_within"] = int(ratio.between(*DISTINCT_RANGE).sum())
            out["distinct_ratio_range"] = [round(float(ratio.min()), 3),
                                           round(float(ratio.max()), 3)] if len(many) else None
            overlap = cols["mcv_overlap"].dropna()
            out["mcv_overlap_median"] = round(float(overlap.median()), 3) if len(overlap) else None
            hist = cols["histogram_distance"].dropna()
            out["histogram_distance_median"] = round(float(hist.median()), 4) if len(hist) else None
        for label, frame in (("", stmts), ("restored_", self.restored)):
            if frame is None or not len(frame):
                continue
            planned = frame[frame["error"].isna()]
            out[f"{label}same_shape"] = int(planned["same_shape"].sum())
            out[f"{label}compared"] = len(planned)
            ratios = planned["rows_ratio"].dropna()
            out[f"{label}rows_ratio_median"] = round(float(ratios.median()), 3) if len(ratios) \
                else None
        return out

    def text(self) -> str:
        """The findings in plain words, under a line naming the two databases."""
        header = f"{self.clone} (scale {self.clone_scale:g}) against {self.source}:"
        return "\n".join([header, *self.findings()])

    def findings(self) -> list[str]:
        """One line per finding (no database names, so the lines are stable across machines)."""
        s = self.summary()
        lines = []
        if s["columns"]:
            lines.append(f"null fractions: {s['null_frac_within']} of {s['columns']} columns "
                         f"within {NULL_FRAC_TOLERANCE} (largest difference "
                         f"{s['null_frac_max_diff']:.3f})")
            if s["distinct_columns"]:
                lo, hi = s["distinct_ratio_range"]
                lines.append(f"distinct counts: {s['distinct_within']} of {s['distinct_columns']}"
                             f" columns with more than {DISTINCT_MIN} distinct values within "
                             f"{DISTINCT_RANGE[0]}-{DISTINCT_RANGE[1]} (ratios {lo:.2f} to "
                             f"{hi:.2f})")
        if s.get("compared"):
            lines.append(f"plans: {s['same_shape']} of {s['compared']} statements have the same "
                         f"shape on both ({100 * s['same_shape'] / s['compared']:.0f}%)")
        if s.get("restored_compared"):
            lines.append(f"with the source's statistics restored: {s['restored_same_shape']} of "
                         f"{s['restored_compared']} statements have the same shape")
        return lines + self.notes

    def to_json(self) -> dict[str, Any]:
        """The ``workbench fidelity --json`` document."""
        doc: dict[str, Any] = {"source": self.source, "clone": self.clone,
                               "summary": self.summary(), "notes": self.notes,
                               "columns": _records(self.columns),
                               "statements": _records(self.statements)}
        if self.restored is not None:
            doc["restored"] = _records(self.restored)
            doc["restore_explained"] = RESTORE_EXPLAINED
        return doc

    def _repr_html_(self) -> str:
        return "<pre>" + html.escape(self.text()) + "</pre>"


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records"))


def fidelity(source_dsn: str, clone: str, *, dsn: str | None = None, draws: int = 3,
             seed: int = 1, restore_statistics: bool = False) -> FidelityReport:
    """Compare the clone database (a name on the workbench's server, or a DSN) with the source.

    >>> fidelity("postgresql://reader@prod/app", "app", draws=3).summary()["same_shape"]  # doctest: +SKIP
    11
    """
    clone_dsn = clone if ("=" in clone or "://" in clone) else resolve_dsn(dsn, clone)
    with connect(clone_dsn) as conn:
        marker = check_loaded(conn)
        folder = Path(str(marker.get("dataset_path") or ""))
        document = _import_document(folder)
        variables = dict(marker.get("variables") or {})
        scale = float(marker.get("scale", 1.0))
    tables = [t for t, spec in document["tables"].items() if not spec.get("skipped")]
    with _source(source_dsn) as src, connect(clone_dsn) as dst:
        dst.execute("SET search_path = pg_catalog")
        columns = compare_columns(src, dst, tables)
        statements = compare_statements(src, dst, folder, document["statements"], variables,
                                        draws, seed)
        notes = []
        if scale != 1:
            notes.append(f"the clone is loaded at scale {scale:g}: plans are compared at "
                         "different sizes (load it at --scale 1 to compare like with like)")
        restored = None
        if restore_statistics:
            restore(src, dst, tables)
            restored = compare_statements(src, dst, folder, document["statements"], variables,
                                          draws, seed)
            notes.append(RESTORE_EXPLAINED)
    return FidelityReport(describe(source_dsn), describe(clone_dsn), scale, columns, statements,
                          restored, notes)


def _import_document(folder: Path) -> dict[str, Any]:
    path = folder / "import.json"
    try:
        return dict(json.loads(path.read_text()))
    except OSError:
        raise WorkbenchError(f"{path} not found: the clone was not loaded from an imported "
                             "dataset", "import one with `workbench import` and load it") from None


class _source:
    """A read-only session on the source (EXPLAIN without ANALYZE only)."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    def __enter__(self) -> psycopg.Connection[Any]:
        try:
            self.conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=10,
                                        application_name="workbench fidelity")
        except psycopg.OperationalError as exc:
            raise connection_error(self.dsn, exc) from None
        self.conn.execute("SET default_transaction_read_only = on")
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


# -- columns ---------------------------------------------------------------------------------------


def _stats(conn: psycopg.Connection[Any], tables: list[str]) -> dict[tuple[str, str], tuple]:
    rows = conn.execute(_STATS, [tables]).fetchall()  # type: ignore[arg-type]
    return {(f"{r[0]}.{r[1]}", r[2]): r[3:] for r in rows}


def compare_columns(src: psycopg.Connection[Any], dst: psycopg.Connection[Any],
                    tables: list[str]) -> pd.DataFrame:
    """One row per column present in both: the four figures and the raw values they compare."""
    before, after = _stats(src, tables), _stats(dst, tables)
    rows = []
    for key in sorted(before):
        if key not in after:
            continue
        s_null, s_nd, s_mcv, s_mcf, s_hist, s_corr, s_rows, kind = before[key]
        c_null, c_nd, c_mcv, c_mcf, c_hist, c_corr, c_rows, _ = after[key]
        d_src, d_clone = _absolute(s_nd, s_rows), _absolute(c_nd, c_rows)
        rows.append({
            "table": key[0], "column": key[1], "type": kind,
            "null_frac_source": round(float(s_null), 4), "null_frac_clone": round(float(c_null), 4),
            "null_frac_diff": round(float(c_null) - float(s_null), 4),
            "distinct_source": d_src, "distinct_clone": d_clone,
            "distinct_ratio": round(d_clone / d_src, 3) if d_src else None,
            "mcv_overlap": mcv_overlap(s_mcv, s_mcf, c_mcv, c_mcf),
            "histogram_distance": histogram_distance(dst, s_hist, c_hist, kind),
            "correlation_source": _round(s_corr), "correlation_clone": _round(c_corr),
        })
    return pd.DataFrame(rows, columns=[
        "table", "column", "type", "null_frac_source", "null_frac_clone", "null_frac_diff",
        "distinct_source", "distinct_clone", "distinct_ratio", "mcv_overlap",
        "histogram_distance", "correlation_source", "correlation_clone"])


def _absolute(n_distinct: float, reltuples: float) -> float:
    value = -float(n_distinct) * max(0.0, float(reltuples)) if n_distinct < 0 else float(n_distinct)
    return round(value, 1)


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


def mcv_overlap(mcv_a: list[str] | None, freq_a: list[float] | None, mcv_b: list[str] | None,
                freq_b: list[float] | None) -> float | None:
    """The frequency both give to the same common values, over the larger of the two totals
    (1: the same values at the same frequencies; None: neither has common values).

    >>> mcv_overlap(["a", "b"], [0.5, 0.2], ["a", "c"], [0.4, 0.3])
    0.571
    """
    a = dict(zip(mcv_a or [], freq_a or [], strict=False))
    b = dict(zip(mcv_b or [], freq_b or [], strict=False))
    if not a and not b:
        return None
    shared = sum(min(a[v], b[v]) for v in a.keys() & b.keys())
    return round(shared / max(sum(a.values()), sum(b.values())), 3)


def histogram_distance(conn: psycopg.Connection[Any], source: list[str] | None,
                       clone: list[str] | None, kind: str) -> float | None:
    """Mean gap between each source bound's quantile (i/k) and its quantile in the clone's
    histogram, compared as values of the column's type on the clone (its collation)."""
    if not source or not clone or len(source) < 2 or len(clone) < 2:
        return None
    query = sql.SQL(
        "SELECT avg(abs((s.o - 1)::float8 / %s - least(1, greatest(0, "
        "  ((SELECT count(*) FROM unnest(%s::text[]::{t}[]) c WHERE c < s.v::{t}) "
        "  + (SELECT count(*) FROM unnest(%s::text[]::{t}[]) c WHERE c <= s.v::{t}) - 1)::float8 "
        "  / (2 * %s))))) FROM unnest(%s::text[]) WITH ORDINALITY AS s(v, o)"
    ).format(t=sql.SQL(kind))  # type: ignore[arg-type]  # format_type() of the clone's column
    try:
        with conn.transaction():
            row = conn.execute(query, [len(source) - 1, clone, clone, len(clone) - 1,
                                       source]).fetchone()
    except psycopg.Error:
        return None
    return None if row is None or row[0] is None else round(float(row[0]), 4)


# -- statements ------------------------------------------------------------------------------------


def compare_statements(src: psycopg.Connection[Any], dst: psycopg.Connection[Any], folder: Path,
                       statements: list[dict[str, Any]], variables: dict[str, Any], draws: int,
                       seed: int) -> pd.DataFrame:
    """Each imported statement planned on both servers with the same literal values."""
    rows = []
    for entry in statements:
        script = read_script(folder / "workload" / f"{entry['script']}.sql", entry["script"])
        row: dict[str, Any] = {"script": entry["script"], "queryid": entry["queryid"],
                               "calls": entry["calls"], "same_shape": False, "draws_same": 0,
                               "rows_ratio": None, "source_shape": None, "clone_shape": None,
                               "error": None}
        ratios = []
        try:
            for params in script.draw(seed=seed, n=draws, variables=variables):
                text = bound_statement(dst, entry, params)
                before, after = explain(src, text), explain(dst, text)
                same = shape(before) == shape(after)
                row["draws_same"] += int(same)
                if row["source_shape"] is None or not same:
                    row["source_shape"] = " / ".join(shape(before))
                    row["clone_shape"] = " / ".join(shape(after))
                ratios.append(rows_estimate(after) / rows_estimate(before))
        except (psycopg.Error, WorkbenchError) as exc:
            row["error"] = str(exc).strip().splitlines()[0]
        if row["error"] is None:
            row["same_shape"] = row["draws_same"] == draws
            row["rows_ratio"] = round(math.exp(statistics.fmean(math.log(r) for r in ratios)), 3)
        rows.append(row)
    return pd.DataFrame(rows, columns=["script", "queryid", "calls", "same_shape", "draws_same",
                                       "rows_ratio", "source_shape", "clone_shape", "error"])


def bound_statement(conn: psycopg.Connection[Any], entry: dict[str, Any],
                    params: dict[str, Any]) -> str:
    """The statement with literal values: each placeholder's expression computed on the clone."""
    text = entry["template"]
    for number, ph in sorted(entry["placeholders"].items(), key=lambda kv: -int(kv[0])):
        value = ph["sql"]
        if ph["role"] not in ("neutral", "fixed"):
            expression = bind(value, params)
            row = conn.execute(sql.SQL("SELECT quote_nullable(x), pg_typeof(x)::text "  # type: ignore[arg-type]
                                       "FROM (SELECT ({}) AS x) AS v").format(
                                           sql.SQL(expression))).fetchone()  # type: ignore[arg-type]
            value = f"{row[0]}::{row[1]}" if row and row[0] != "NULL" else "NULL"
        text = text.replace(f"${number}", value)
    return text


def explain(conn: psycopg.Connection[Any], text: str) -> Plan:
    """EXPLAIN (FORMAT JSON) without running the statement, in a transaction rolled back."""
    with conn.transaction(force_rollback=True):
        row = conn.execute(sql.SQL("EXPLAIN (FORMAT JSON) {}").format(sql.SQL(text))).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return parse_plan(row[0])


def shape(plan: Plan) -> list[str]:
    """Node types with their relations and indexes, in plan order."""
    return [node.label for node in plan.nodes]


def rows_estimate(plan: Plan) -> float:
    """The estimated rows of the top node that returns rows (a write's scan, not its 0)."""
    for node in plan.nodes:
        rows = node.get("Plan Rows")
        if rows:
            return max(1.0, float(rows))
    return 1.0


# -- restoring statistics (PostgreSQL 18) ----------------------------------------------------------

_ATTRIBUTE_FIELDS = ("null_frac", "avg_width", "n_distinct", "most_common_vals",
                     "most_common_freqs", "histogram_bounds", "correlation", "most_common_elems",
                     "most_common_elem_freqs", "elem_count_histogram")
_CASTS = {"null_frac": "real", "avg_width": "integer", "n_distinct": "real",
          "most_common_vals": "text", "most_common_freqs": "real[]", "histogram_bounds": "text",
          "correlation": "real", "most_common_elems": "text", "most_common_elem_freqs": "real[]",
          "elem_count_histogram": "real[]"}


def restore(src: psycopg.Connection[Any], dst: psycopg.Connection[Any], tables: list[str]) -> int:
    """Copy the source's planner statistics of the tables into the clone; return the columns."""
    if int(dst.info.server_version) < RESTORE_MIN_VERSION:
        raise WorkbenchError("restoring planner statistics needs PostgreSQL 18 on the clone's "
                             f"server (it runs {dst.info.server_version})",
                             "load the clone on the embedded PostgreSQL 18")
    require_owned(dst, False, "restore planner statistics")
    relations = src.execute(
        "SELECT n.nspname, c.relname, c.relpages, c.reltuples, c.relallvisible FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname || '.' || c.relname "
        "= ANY(%s)", [tables]).fetchall()
    for schema, name, pages, tuples, visible in relations:
        dst.execute("SELECT pg_restore_relation_stats('schemaname', %s::text, 'relname', "
                    "%s::text, 'relpages', %s::integer, 'reltuples', %s::real, 'relallvisible', "
                    "%s::integer)", [schema, name, pages, tuples, visible])
    fields = ", ".join(f"{f}::text" if f in ("most_common_vals", "histogram_bounds",
                                              "most_common_elems") else f
                       for f in _ATTRIBUTE_FIELDS)
    rows = src.execute(f"SELECT schemaname, tablename, attname, {fields} FROM pg_stats "  # type: ignore[arg-type]
                       "WHERE NOT inherited AND schemaname || '.' || tablename = ANY(%s)",
                       [tables]).fetchall()
    for row in rows:
        args: list[Any] = ["schemaname", row[0], "relname", row[1], "attname", row[2],
                           "inherited", False]
        parts = ["%s::text, %s::text", "%s::text, %s::text", "%s::text, %s::text",
                 "%s::text, %s::boolean"]
        for name, value in zip(_ATTRIBUTE_FIELDS, row[3:], strict=True):
            if value is not None:
                args += [name, value]
                parts.append(f"%s::text, %s::{_CASTS[name]}")
        dst.execute(f"SELECT pg_restore_attribute_stats({', '.join(parts)})", args)  # type: ignore[arg-type]
    return len(rows)
