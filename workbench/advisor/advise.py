"""Index advice for a workload: candidates, what-if costs, a budgeted choice, optional proof.

>>> advice = advise("shop", budget_mb=50)                     # doctest: +SKIP
>>> [r.ddl for r in advice.recommendations][:1]               # doctest: +SKIP
['CREATE INDEX CONCURRENTLY wb_orders_customer_id_created_at_idx ON orders.orders ...']
"""

from __future__ import annotations

import html
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from workbench.advisor.candidates import Candidate, generate_candidates
from workbench.advisor.existing import existing_indexes, judge_existing, made_redundant
from workbench.advisor.select import CostFn, Evaluator, Item, Stmt, select_indexes
from workbench.advisor.whatif import WhatIf, explain_json
from workbench.advisor.workload import WorkloadStatement, read_catalog, read_statement
from workbench.connect import connect, dataset_database, resolve_dsn
from workbench.databases import read_marker, require_owned
from workbench.errors import WorkbenchError

DRAWS = 5  # parameter draws per script statement; its what-if cost is their mean


@dataclass
class Recommendation:
    """One recommended index and what it buys."""

    ddl: str
    table: str
    columns: list[str]
    include: list[str]
    where: str | None
    method: str
    size_bytes: int
    benefit_pct: float
    write_overhead_pct: float
    statements: list[dict[str, Any]] = field(default_factory=list)
    makes_redundant: list[str] = field(default_factory=list)


@dataclass(repr=False)
class Advice:
    """The advisor's answer (a table in notebooks, :meth:`text` in the CLI and ``repr``)."""

    method: str
    whatif_calls: int
    whatif_seconds: float
    workload_cost_before: float
    workload_cost_after: float
    recommendations: list[Recommendation]
    existing: dict[str, list[dict[str, Any]]]
    skipped_statements: list[dict[str, str]]
    candidates: int = 0
    budget_bytes: int = 0
    validation: list[dict[str, Any]] | None = None
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The ``workbench advise --json`` document."""
        doc = asdict(self)
        doc["workload_cost_before"] = round(self.workload_cost_before, 2)
        doc["workload_cost_after"] = round(self.workload_cost_after, 2)
        return doc

    def summary(self) -> str:
        """One line: method, what-if calls, candidates and the workload cost before -> after."""
        return (f"method {self.method}, {self.whatif_calls} what-if calls, {self.candidates} "
                f"candidates; workload cost {self.workload_cost_before:,.0f} -> "
                f"{self.workload_cost_after:,.0f}")

    def text(self) -> str:
        """What ``workbench advise`` prints: DDL to run, and why."""
        lines = [self.summary()]
        for r in self.recommendations:
            lines.append(f"{r.ddl};\n    -- {r.size_bytes / 1e6:.1f} MB, benefit {r.benefit_pct:.1f}% "
                         f"of workload cost, write overhead {r.write_overhead_pct:.2f}%, helps "
                         + ", ".join(s["name"] for s in r.statements))
        for v in self.validation or []:
            lines.append(f"validated {v['name']}: estimated -{v['estimated_improvement_pct']}%, "
                         f"measured {v['before_ms']} -> {v['after_ms']} ms "
                         f"({v['actual_improvement_pct']}% faster)")
        for kind, items in self.existing.items():
            lines += [f"existing {kind}: {i['index']} ({i['reason']})" for i in items]
        lines += [f"skipped {s['name']}: {s['reason']}" for s in self.skipped_statements]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Advice {len(self.recommendations)} indexes; {self.summary()}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        from workbench.display import pretty

        pretty(printer, cycle, self.text())

    def _repr_html_(self) -> str:
        from workbench.display import html_table

        rows = [[r.ddl, f"{r.size_bytes / 1e6:.1f}", f"{r.benefit_pct:.1f}",
                 f"{r.write_overhead_pct:.2f}", ", ".join(s["name"] for s in r.statements)]
                for r in self.recommendations]
        out = [f"<p><b>Index advice</b>: {html.escape(self.summary())}</p>",
               html_table(["DDL", "MB", "benefit %", "write overhead %", "statements"], rows,
                          code_columns=[0]) if rows else "<p>No index to recommend.</p>"]
        existing = [[kind, i["index"], i["reason"]] for kind, items in self.existing.items()
                    for i in items]
        if existing:
            out.append("<p>Existing indexes</p>" + html_table(["verdict", "index", "why"], existing))
        if self.skipped_statements:
            out.append("<p>Statements left out</p>" + html_table(
                ["statement", "why"], [[s["name"], s["reason"]] for s in self.skipped_statements]))
        return "".join(out)


def advise(
    source: str | Path | None = None, *, queries: str | Path | None = None,
    from_stat_statements: int | None = None, dsn: str | None = None, database: str | None = None,
    budget_mb: float = 50.0, max_indexes: int | None = None, method: str = "auto",
    validate: bool = False, keep: bool = False, allow_destructive: bool = False, seed: int = 1,
    draws: int = DRAWS,
) -> Advice:
    """Recommend indexes for a dataset's workload, a SQL file, or pg_stat_statements' top N.

    A script statement is costed with ``draws`` parameter sets drawn as its ``\\set`` lines
    would draw them (mean cost), so hot keys weigh as often as the workload hits them.
    """
    started = time.perf_counter()
    if draws < 1:
        raise WorkbenchError(f"draws must be at least 1, got {draws}", "e.g. --draws 5")
    target = resolve_dsn(dsn, dataset_database(dsn, database, _default_db(source)))
    with connect(target) as conn:
        catalog = read_catalog(conn)
        existing = existing_indexes(conn)
        correlations, types = _column_facts(conn)
        statements, bound, variants = _statements(conn, source, queries, from_stat_statements,
                                                  seed, catalog, draws)
    readable = [s for s in statements if not s.error]
    skipped = [{"name": s.name, "sql": s.sql, "reason": s.error or ""} for s in statements if s.error]
    cset = generate_candidates(readable, existing, correlations, types)
    with WhatIf(target, method, allow_destructive=allow_destructive) as whatif:
        stmts = [_stmt(s, bound[s.name], whatif) for s in readable]
        items = {c.key(): Item(c.ddl, c.table, c.columns, whatif.size(c.ddl)) for c in cset.candidates}
        budget = int(budget_mb * 1024 * 1024)
        cost = mean_cost(whatif, variants)
        selection = select_indexes(stmts, list(items.values()), cost, budget_bytes=budget,
                                   max_indexes=max_indexes)
        by_ddl = {c.ddl: c for c in cset.candidates}
        evaluator = Evaluator(stmts, cost)
        recs = [_recommendation(by_ddl[i.ddl], i, selection, evaluator, existing)
                for i in selection.chosen]
        advice = Advice(whatif.method, whatif.calls, round(whatif.seconds, 3),
                        selection.cost_before, selection.cost_after, recs,
                        judge_existing(existing).to_json(), skipped, len(cset.candidates), budget)
    recs.sort(key=lambda r: -r.benefit_pct)
    if validate and recs:
        advice.validation = _validate(target, recs, bound, keep, allow_destructive)
    advice.seconds = round(time.perf_counter() - started, 3)
    return advice


def mean_cost(whatif: WhatIf, variants: dict[str, list[str]]) -> CostFn:
    """A statement's what-if cost as the mean over its parameter draws (``variants``: every
    draw's SQL by the first draw's; other statements are costed as they are).

    >>> cost = mean_cost(whatif, {"SELECT 1": ["SELECT 1", "SELECT 2"]})  # doctest: +SKIP
    >>> cost("SELECT 1", frozenset(), False)                              # doctest: +SKIP
    0.01
    """
    def cost(text: str, indexes: frozenset[str], generic: bool) -> float:
        texts = variants.get(text) or [text]
        return sum(whatif.costs(texts, indexes, generic)) / len(texts)

    return cost


def _statements(conn: psycopg.Connection[Any], source: str | Path | None,
                queries: str | Path | None, top: int | None, seed: int, catalog: Any, draws: int
                ) -> tuple[list[WorkloadStatement], dict[str, tuple[str, bool]],
                           dict[str, list[str]]]:
    """Statements to read (with :variables), the concrete SQL to cost for each (its first draw),
    and every draw's SQL by the first draw's (script statements only)."""
    from workbench.loader import split_statements
    from workbench.plans.capture import top_statements, workload_statements
    from workbench.scripts import bind

    out: list[WorkloadStatement] = []
    bound: dict[str, tuple[str, bool]] = {}
    variants: dict[str, list[str]] = {}
    if top:
        from workbench.stats import pg_stat_statements_schema

        schema = pg_stat_statements_schema(conn)
        calls = dict(conn.execute(psycopg.sql.SQL(
            "SELECT 'queryid ' || queryid, calls FROM {}.pg_stat_statements").format(
            psycopg.sql.Identifier(schema or "public"))).fetchall()) if schema else {}
        for name, text in top_statements(conn, top):
            out.append(read_statement(name, text, weight=float(calls.get(name, 1)), catalog=catalog))
            bound[name] = (text, True)
    elif queries:
        for index, text in enumerate(split_statements(Path(queries).read_text()), start=1):
            name = f"{Path(queries).stem}.{index}"
            out.append(read_statement(name, text, catalog=catalog))
            bound[name] = (text, False)
    elif source is not None:
        from workbench.datasets import get_dataset

        weights = {}
        variables: dict[str, Any] = {}
        if Path(source).suffix != ".sql":
            dataset = get_dataset(source)
            weights = {s.name: s.weight for s in dataset.scripts}
            variables = dict((read_marker(conn) or {}).get("variables") or dataset.variables(1.0))
        for name, text, sets in workload_statements(source, seed=seed, draws=draws,
                                                    variables=variables):
            weight = float(weights.get(name.split(".")[0], 1))
            out.append(read_statement(name, text, weight=weight, catalog=catalog))
            try:
                texts = [bind(text, values) for values in sets]
            except WorkbenchError as exc:
                out[-1].error = str(exc)
                continue
            bound[name] = (texts[0], False)
            variants[texts[0]] = texts
    else:
        raise WorkbenchError("nothing to advise on",
                             "name a dataset, --queries FILE or --from-stat-statements N")
    return out, bound, variants


def _stmt(s: WorkloadStatement, bound: tuple[str, bool], whatif: WhatIf) -> Stmt:
    text, generic = bound
    rows = 0.0
    if s.writes:
        try:
            plan = explain_json(whatif.conn, text, generic=generic)["Plan"]
            child = (plan.get("Plans") or [plan])[0]
            rows = float(child.get("Plan Rows") or 1)
        except psycopg.Error:
            rows = 1.0
    written = frozenset(u.column for u in s.uses if u.use == "set")
    return Stmt(s.name, text, s.weight, frozenset(s.tables), generic, s.writes,
                s.kind if s.writes else "select", rows, written)


def _recommendation(cand: Candidate, item: Item, selection: Any, evaluator: Any,
                    existing: list[Any]) -> Recommendation:
    others = [i for i in selection.chosen if i.ddl != item.ddl]
    before = selection.cost_before or 1.0
    without = evaluator.total(others)
    benefit = 100.0 * (without - selection.cost_after) / before
    helped = []
    for stmt in evaluator.stmts:
        if cand.table not in stmt.relations:
            continue
        cost_without = evaluator.statement_cost(stmt, others)
        cost_with = evaluator.statement_cost(stmt, selection.chosen)
        if cost_with < cost_without - 1e-9:
            helped.append({"name": stmt.key, "cost_before": round(cost_without, 2),
                           "cost_after": round(cost_with, 2),
                           "improvement_pct": round(100 * (cost_without - cost_with) / cost_without, 1)})
    redundant = [f"{ix.schema}.{ix.name}" for ix in
                 made_redundant(existing, cand.table, cand.method, cand.columns)]
    return Recommendation(
        cand.ddl, cand.table, list(cand.columns), list(cand.include), cand.where, cand.method,
        item.size, round(benefit, 2), round(100.0 * selection.write_cost[item.ddl] / before, 3),
        helped, redundant)


def _validate(dsn: str, recs: list[Recommendation], bound: dict[str, tuple[str, bool]],
              keep: bool, allow_destructive: bool) -> list[dict[str, Any]]:
    """Build the chosen indexes for real, re-EXPLAIN (ANALYZE) the statements they help, compare
    with the estimate, and drop them again unless ``keep``."""
    from workbench.indexes import build_index, drop_index
    from workbench.plans.capture import explain

    names = sorted({s["name"] for r in recs for s in r.statements})
    estimated = {s["name"]: s["improvement_pct"] for r in recs for s in r.statements}
    with connect(dsn) as conn:
        require_owned(conn, allow_destructive, "build indexes to validate advice")
        before = {n: explain(conn, bound[n][0], name=n) for n in names if not bound[n][1]}
    built = [build_index(dsn, r.ddl, allow_destructive=allow_destructive) for r in recs]
    try:
        with connect(dsn) as conn:
            after = {n: explain(conn, bound[n][0], name=n) for n in before}
    finally:
        if not keep:
            for index in built:
                drop_index(dsn, index.schema, index.name, allow_destructive=allow_destructive)
    report = []
    for name, b in before.items():
        a = after[name]
        tb = b.plan.execution_ms if b.plan else None
        ta = a.plan.execution_ms if a.plan else None
        actual = round(100 * (tb - ta) / tb, 1) if tb and ta is not None else None
        report.append({"name": name, "estimated_improvement_pct": estimated.get(name),
                       "before_ms": tb, "after_ms": ta, "actual_improvement_pct": actual,
                       "kept": keep})
    return report


def _column_facts(conn: psycopg.Connection[Any]) -> tuple[dict[str, float], dict[str, str]]:
    corr = {f"{s}.{t}.{c}": float(v) for s, t, c, v in conn.execute(
        "SELECT schemaname, tablename, attname, correlation FROM pg_stats "
        "WHERE schemaname NOT IN ('pg_catalog', 'information_schema', 'workbench') "
        "AND correlation IS NOT NULL").fetchall()}
    types = {f"{s}.{t}.{c}": str(k) for s, t, c, k in conn.execute(
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema NOT IN ('pg_catalog', 'information_schema', 'workbench')").fetchall()}
    return corr, types


def _default_db(source: str | Path | None) -> str | None:
    if source is None or Path(str(source)).suffix == ".sql":
        return None
    from workbench.datasets import get_dataset

    return get_dataset(source).name
