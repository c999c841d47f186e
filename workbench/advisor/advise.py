"""Index advice for a workload: candidates, what-if costs, a budgeted choice, a verdict for every
statement, existing indexes judged safely, optional proof.

Workload weights: a dataset's statements weigh their script's mix weight (``dataset.toml``); a
``--queries`` file's statements weigh 1 unless a ``-- weight: N`` line precedes them (see
``workload.read_queries``); ``--from-stat-statements`` statements weigh their ``calls``.

>>> advice = advise("shop", budget_mb=50)                     # doctest: +SKIP
>>> [r.ddl for r in advice.recommendations][:1]               # doctest: +SKIP
['CREATE INDEX CONCURRENTLY wb_orders_customer_id_created_at_idx ON orders.orders ...']
>>> {v["verdict"] for v in advice.statements}                 # doctest: +SKIP
{'improved', 'cost_already_low', 'no_indexable_predicate'}
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from workbench.advisor.candidates import Candidate, CandidateSet, generate_candidates
from workbench.advisor.columns import read_column_facts
from workbench.advisor.existing import (
    MIN_STATS_DAYS,
    ExistingIndex,
    ForeignKey,
    StatisticsPeriod,
    existing_indexes,
    foreign_keys,
    judge_existing,
    made_redundant,
    statistics_period,
)
from workbench.advisor.select import (
    MIN_GAIN_PCT,
    CostFn,
    Evaluator,
    Item,
    Selection,
    Stmt,
    select_indexes,
)
from workbench.advisor.validate import Measure, validate_advice
from workbench.advisor.verdicts import VerdictContext, statement_verdicts, unreadable_verdict
from workbench.advisor.whatif import WhatIf
from workbench.advisor.workload import (
    WorkloadStatement,
    read_catalog,
    read_queries,
    read_statement,
)
from workbench.advisor.writes import TableIndex, WriteModel
from workbench.connect import connect, dataset_database, resolve_dsn
from workbench.databases import read_marker
from workbench.errors import WorkbenchError
from workbench.folders import read_text
from workbench.plans.capture import refuse_half_loaded

DRAWS = 5  # parameter draws per script statement; its what-if cost is their mean


@dataclass
class Recommendation:
    """One recommended index, what it buys and what it costs."""

    ddl: str
    table: str
    columns: list[str]
    include: list[str]
    where: str | None
    method: str
    size_bytes: int
    benefit_pct: float  # net: reads saved minus index upkeep, % of the original workload cost
    write_overhead_pct: float
    statements: list[dict[str, Any]] = field(default_factory=list)
    makes_redundant: list[str] = field(default_factory=list)
    kind: str = "btree"
    read_benefit_pct: float = 0.0
    hot: list[dict[str, Any]] = field(default_factory=list)  # UPDATEs it makes non-HOT
    slows: list[dict[str, Any]] = field(default_factory=list)  # statements whose plan gets worse
    notes: list[str] = field(default_factory=list)  # the reasons, in words
    reads: list[str] = field(default_factory=list)  # every column it reads (keys, INCLUDE,
    #                                                 expressions, predicate): the HOT question


@dataclass(repr=False)
class Advice:
    """The advisor's answer (a table in notebooks, :meth:`text` in the CLI and ``repr``)."""

    method: str
    whatif_calls: int
    whatif_seconds: float
    workload_cost_before: float
    workload_cost_after: float
    recommendations: list[Recommendation]
    existing: dict[str, Any]
    skipped_statements: list[dict[str, str]]
    candidates: int = 0
    budget_bytes: int = 0
    validation: list[dict[str, Any]] | None = None
    seconds: float = 0.0
    statements: list[dict[str, Any]] = field(default_factory=list)  # a verdict for each
    not_evaluable: list[dict[str, str]] = field(default_factory=list)
    evaluation: dict[str, Any] = field(default_factory=dict)
    min_gain_pct: float = MIN_GAIN_PCT

    def to_json(self) -> dict[str, Any]:
        """The ``workbench advise --json`` document."""
        doc = asdict(self)
        doc["workload_cost_before"] = round(self.workload_cost_before, 2)
        doc["workload_cost_after"] = round(self.workload_cost_after, 2)
        return doc

    def verdict_table(self) -> Any:
        """The statements' verdicts as a pandas DataFrame (one row per statement)."""
        import pandas as pd

        columns = ["name", "weight", "cost_before", "cost_after", "verdict", "helped_by", "reason"]
        frame = pd.DataFrame(self.statements, columns=columns)
        frame["helped_by"] = frame["helped_by"].map(lambda names: ", ".join(names or []))
        return frame

    def summary(self) -> str:
        """One line: method, what-if calls, candidates and the workload cost before -> after."""
        return (f"method {self.method}, {self.whatif_calls} what-if calls, {self.candidates} "
                f"candidates; workload cost {self.workload_cost_before:,.0f} -> "
                f"{self.workload_cost_after:,.0f}")

    def text(self) -> str:
        """What ``workbench advise`` prints: the DDL to run and why, what validation measured,
        a verdict for every statement, and the existing indexes judged."""
        lines = [self.summary()]
        for r in self.recommendations:
            lines.append(f"{r.ddl};\n    -- {r.size_bytes / 1e6:.1f} MB, net benefit "
                         f"{r.benefit_pct:.1f}% of workload cost, write overhead "
                         f"{r.write_overhead_pct:.2f}%")
            lines += [f"    -- {note}" for note in r.notes]
        lines += [validation_line(v) for v in self.validation or []]
        lines += [f"statement {v['name']} (weight {v['weight']:g}): {v['verdict']}: {v['reason']}"
                  for v in self.statements]
        judged = {v["name"] for v in self.statements}
        lines += [f"skipped {s['name']}: {s['reason']}" for s in self.skipped_statements
                  if s["name"] not in judged]
        lines += [f"not evaluable: {n['ddl']} ({n['reason']})" for n in self.not_evaluable]
        for kind, items in self.existing.items():
            if isinstance(items, list):
                lines += [f"existing {kind}: {i['index']} ({i['reason']})" for i in items]
        if isinstance(self.existing.get("statistics"), dict):
            lines.append(f"existing indexes: {self.existing['statistics']['note']}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Advice {len(self.recommendations)} indexes; {self.summary()}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        from workbench.display import pretty

        pretty(printer, cycle, self.text())

    def _repr_html_(self) -> str:
        from workbench.display import html_table

        rows = [[r.ddl, f"{r.size_bytes / 1e6:.1f}", f"{r.benefit_pct:.1f}",
                 f"{r.write_overhead_pct:.2f}", "; ".join(r.notes)]
                for r in self.recommendations]
        out = [f"<p><b>Index advice</b>: {html.escape(self.summary())}</p>",
               html_table(["DDL", "MB", "net benefit %", "write overhead %", "why"], rows,
                          code_columns=[0]) if rows else "<p>No index to recommend.</p>"]
        if self.statements:
            out.append("<p><b>Every statement</b></p>" + html_table(
                ["statement", "weight", "verdict", "reason"],
                [[v["name"], f"{v['weight']:g}", v["verdict"], v["reason"]]
                 for v in self.statements]))
        existing = [[kind, i["index"], i["reason"]] for kind, items in self.existing.items()
                    if isinstance(items, list) for i in items]
        if existing:
            out.append("<p>Existing indexes</p>" + html_table(["verdict", "index", "why"], existing))
        judged = {v["name"] for v in self.statements}
        left_out = [[s["name"], s["reason"]] for s in self.skipped_statements
                    if s["name"] not in judged]
        if left_out:
            out.append("<p>Statements left out</p>" + html_table(["statement", "why"], left_out))
        return "".join(out)


def advise(
    source: str | Path | None = None, *, queries: str | Path | None = None,
    from_stat_statements: int | None = None, dsn: str | None = None, database: str | None = None,
    budget_mb: float = 50.0, max_indexes: int | None = None, method: str = "auto",
    validate: bool = False, keep: bool = False, allow_destructive: bool = False, seed: int = 1,
    draws: int = DRAWS, min_gain_pct: float = MIN_GAIN_PCT,
    unused_after_days: float = MIN_STATS_DAYS, measure: Measure | None = None,
    validate_options: dict[str, Any] | None = None,
) -> Advice:
    """Recommend indexes for a dataset's workload, a SQL file, or pg_stat_statements' top N.

    A script statement is costed with ``draws`` parameter sets drawn as its ``\\set`` lines
    would draw them (mean cost), so hot keys weigh as often as the workload hits them. A
    candidate must save at least ``min_gain_pct`` percent of the original workload cost.
    ``validate`` checks the advice on the server: for a dataset's workload by an experiment on
    fresh copies of its template (``validate_options``: clients, duration, warmup, repeat of
    :func:`workbench.advisor.validate.experiment_measure`), else by EXPLAIN ANALYZE on a scratch
    copy (``measure`` replaces either; see :mod:`workbench.advisor.validate`).
    """
    started = time.perf_counter()
    if not 0 <= min_gain_pct < 100:
        raise WorkbenchError(f"min_gain_pct must be in [0, 100), got {min_gain_pct}",
                             "e.g. --min-gain-pct 0.5")
    budget = int(budget_mb * 1024 * 1024)
    with advisor_model(source, queries=queries, from_stat_statements=from_stat_statements,
                       dsn=dsn, database=database, method=method,
                       allow_destructive=allow_destructive, seed=seed, draws=draws) as m:
        selection = select_indexes(m.stmts, list(m.items.values()), m.cost, budget_bytes=budget,
                                   max_indexes=max_indexes, min_gain_pct=min_gain_pct,
                                   writes=m.writes)
        recs = [_recommendation(m.by_ddl[i.ddl], i, selection, m.evaluator, m.existing,
                                m.whatif.notes) for i in selection.chosen]
        verdicts = statement_verdicts(VerdictContext(
            m.evaluator, selection.chosen, m.items, m.cset, m.readable, m.failures, budget,
            max_indexes, selection.cost_before * min_gain_pct / 100, _plan_indexes(m.whatif)))
        skipped = [{"name": s.name, "sql": s.sql, "reason": s.error or ""}
                   for s in m.statements if s.error]
        advice = Advice(
            m.whatif.method, m.whatif.calls, round(m.whatif.seconds, 3), selection.cost_before,
            selection.cost_after, recs,
            judge_existing(m.existing, statements=m.readable, fks=m.fks, period=m.period,
                           min_days=unused_after_days).to_json(),
            skipped, len(m.cset.candidates), budget,
            statements=verdicts + [unreadable_verdict(s["name"], s["sql"], _weight(
                m.statements, s["name"]), s["reason"]) for s in skipped],
            not_evaluable=[{"ddl": d, "reason": r} for d, r in sorted(m.failures.items())],
            evaluation=_evaluation(m.whatif, m.cset), min_gain_pct=min_gain_pct)
    recs.sort(key=lambda r: -r.benefit_pct)
    if validate and recs:
        measure = measure or _dataset_measure(source, m.target, advice, validate_options)
        advice.validation = validate_advice(m.target, recs, m.bound, keep=keep,
                                            allow_destructive=allow_destructive, measure=measure)
    advice.seconds = round(time.perf_counter() - started, 3)
    return advice


def validation_line(v: dict[str, Any]) -> str:
    """One validated statement (or the whole mix): predicted against measured."""
    from workbench.experiments import interval, signed

    predicted = v.get("estimated_improvement_pct")
    said = f"predicted cost -{predicted}%" if predicted is not None else "predicted n/a"
    if "measured_tps_change_pct" in v:
        return (f"validated the whole mix: {said}; measured throughput "
                f"{signed(v['measured_tps_change_pct'])} {interval(v['ci_pct'])}: {v['verdict']} "
                f"(experiment {v['experiment']})")
    if "measured_p95_change_pct" in v:
        return (f"validated {v['name']}: {said}; measured p95 of {v['script']} "
                f"{signed(v['measured_p95_change_pct'])} {interval(v['ci_pct'])}: {v['verdict']}")
    return (f"validated {v['name']}: {said}; measured {v['before_ms']} -> {v['after_ms']} ms "
            f"({v['actual_improvement_pct']}% faster)"
            + (" - SLOWER than before" if v.get("slower") else ""))


def _dataset_measure(source: str | Path | None, target: str, advice: Advice,
                     options: dict[str, Any] | None) -> Measure | None:
    """An experiment-based measure when the workload is a loaded dataset's, else None."""
    from workbench.advisor.validate import experiment_measure

    dataset = _default_db(source)
    if dataset is None:
        return None
    with connect(target) as conn:
        marker = read_marker(conn) or {}
    if marker.get("dataset") != dataset or marker.get("load_status") != "complete":
        return None
    before = advice.workload_cost_before or 0
    predicted = round(100 * (before - advice.workload_cost_after) / before, 1) if before else None
    return experiment_measure(str(marker.get("dataset_path") or dataset),
                              scale=float(marker["scale"]), seed=int(marker["seed"]),
                              workload_pct=predicted, **(options or {}))


@dataclass
class AdvisorModel:
    """Everything the choice is made from: the workload read, candidates evaluated, and the cost
    model (``evaluator``: planner costs plus HOT-aware upkeep). Valid inside ``advisor_model``."""

    target: str
    statements: list[WorkloadStatement]  # as read, unreadable ones included
    readable: list[WorkloadStatement]
    bound: dict[str, tuple[str, bool]]
    existing: list[ExistingIndex]
    fks: list[ForeignKey]
    period: StatisticsPeriod
    cset: CandidateSet
    whatif: WhatIf
    failures: dict[str, str]  # candidate DDL -> why it could not be evaluated
    stmts: list[Stmt]
    items: dict[str, Item]  # evaluable candidates by DDL
    by_ddl: dict[str, Candidate]
    writes: WriteModel
    cost: CostFn
    evaluator: Evaluator


@contextmanager
def advisor_model(
    source: str | Path | None = None, *, queries: str | Path | None = None,
    from_stat_statements: int | None = None, dsn: str | None = None, database: str | None = None,
    method: str = "auto", allow_destructive: bool = False, seed: int = 1, draws: int = DRAWS,
) -> Iterator[AdvisorModel]:
    """Read the workload and the catalog, generate and evaluate candidates; the what-if session
    stays open (and any scratch copy alive) until the block ends.

    >>> with advisor_model("shop") as m:                              # doctest: +SKIP
    ...     m.evaluator.total([]), len(m.items)
    (84301.06, 18)
    """
    if draws < 1:
        raise WorkbenchError(f"draws must be at least 1, got {draws}", "e.g. --draws 5")
    target = resolve_dsn(dsn, dataset_database(dsn, database, _default_db(source)))
    with connect(target) as conn:
        refuse_half_loaded(conn)
        catalog = read_catalog(conn)
        existing = existing_indexes(conn)
        fks, period = foreign_keys(conn), statistics_period(conn)
        facts = read_column_facts(conn)
        trigram, pattern_ops = _text_search(conn)
        statements, bound, variants = _statements(conn, source, queries, from_stat_statements,
                                                  seed, catalog, draws)
    readable = [s for s in statements if not s.error]
    cset = generate_candidates(readable, existing, facts, trigram_opclass=trigram,
                               pattern_ops=pattern_ops)
    needs_build = [c.ddl for c in cset.candidates if not c.hypopg_can()]
    with WhatIf(target, method, allow_destructive=allow_destructive,
                needs_build=needs_build) as whatif:
        failures = whatif.prepare(c.ddl for c in cset.candidates)
        usable = [c for c in cset.candidates if c.ddl not in failures]
        stmts = [_stmt(s, bound[s.name], whatif) for s in readable]
        for stmt in stmts:
            for text in variants.get(stmt.sql) or [stmt.sql]:
                whatif.relations[text] = stmt.relations
        items = {c.ddl: Item(c.ddl, c.table, c.columns, whatif.size(c.ddl), c.method,
                             c.touches(), c.where) for c in usable}
        writes = WriteModel(stmts, _table_indexes(existing),
                            summarizing_hot=whatif.server_version_num >= 160000)
        cost = mean_cost(whatif, variants)
        yield AdvisorModel(target, statements, readable, bound, existing, fks, period, cset,
                           whatif, failures, stmts, items, {c.ddl: c for c in usable}, writes,
                           cost, Evaluator(stmts, cost, writes))


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
    from workbench.plans.capture import top_statements, workload_statements
    from workbench.scripts import bind

    out: list[WorkloadStatement] = []
    bound: dict[str, tuple[str, bool]] = {}
    variants: dict[str, list[str]] = {}
    if top:
        from workbench.stats import pg_stat_statements_schema

        schema = pg_stat_statements_schema(conn)
        calls = dict(conn.execute(psycopg.sql.SQL(
            "SELECT 'queryid ' || queryid, sum(calls) FROM {}.pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "GROUP BY queryid").format(
            psycopg.sql.Identifier(schema or "public"))).fetchall()) if schema else {}
        for name, text in top_statements(conn, top):
            out.append(read_statement(name, text, weight=float(calls.get(name, 1)), catalog=catalog))
            bound[name] = (text, True)
    elif queries:
        path = Path(queries)
        found = read_queries(read_text(path, "SQL file"), path.stem)
        if not found:
            raise WorkbenchError(f"{path} holds no SQL statement",
                                 "pass a file of SQL statements (-- weight: N before one to "
                                 "weigh it)")
        for name, statement, weight in found:
            out.append(read_statement(name, statement, weight=weight, catalog=catalog))
            bound[name] = (statement, bool(re.search(r"\$\d", statement)))
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
            plan = whatif.plan(text, frozenset(), generic)["Plan"]
            child = (plan.get("Plans") or [plan])[0]
            rows = float(child.get("Plan Rows") or 1)
        except psycopg.Error:
            rows = 1.0
    reads = frozenset(f"{u.table}.{c}" for u in s.uses for c in u.columns())
    return Stmt(s.name, text, s.weight, frozenset(s.tables), generic, s.writes,
                s.kind if s.writes else "select", rows, s.written_columns(), reads)


def _recommendation(cand: Candidate, item: Item, selection: Selection, evaluator: Evaluator,
                    existing: list[ExistingIndex], caveats: dict[str, str]) -> Recommendation:
    others = [i for i in selection.chosen if i.ddl != item.ddl]
    start = selection.cost_before or 1.0
    net = evaluator.total(others) - selection.cost_after
    write = selection.write_cost.get(item.ddl, 0.0)
    helped, slows = [], []
    for stmt in evaluator.stmts:
        if cand.table not in stmt.relations:
            continue
        cost_without = evaluator.statement_cost(stmt, others)
        cost_with = evaluator.statement_cost(stmt, selection.chosen)
        change = {"name": stmt.key, "cost_before": round(cost_without, 2),
                  "cost_after": round(cost_with, 2)}
        if cost_with < cost_without - 1e-9:
            helped.append({**change, "improvement_pct":
                           round(100 * (cost_without - cost_with) / cost_without, 1)})
        elif cost_with > cost_without * 1.001:
            slows.append({**change, "increase_pct":
                          round(100 * (cost_with - cost_without) / cost_without, 1)})
    hot = evaluator.writes.hot_effects(item)
    notes = [f"helps {', '.join(s['name'] for s in helped)}" if helped else "helps no statement"]
    for effect in hot:
        cols = ", ".join(effect["columns"])
        if effect["effect"] == "breaks":
            notes.append(f"makes {effect['statement']}'s UPDATE of {effect['table']}.{cols} "
                         f"non-HOT: each of its {effect['calls']:g} weighted calls writes an "
                         f"entry into all {effect['indexes']} indexes of {effect['table']} "
                         f"(+{effect['cost']:,.1f})")
        else:
            notes.append(f"{effect['statement']}'s UPDATE of {effect['table']}.{cols} is already "
                         f"non-HOT ({', '.join(effect['blocked_by'])}); this index adds its own "
                         f"entries (+{effect['cost']:,.1f})")
    if hot:
        notes.append(f"net benefit after the write charge: {100 * net / start:.2f}% of the "
                     f"workload cost (reads -{100 * (net + write) / start:.2f}%, upkeep "
                     f"+{100 * write / start:.2f}%)")
    notes += [f"makes {s['name']}'s plan slower (+{s['increase_pct']}%), counted twice in the "
              "objective" for s in slows]
    if cand.ddl in caveats:
        notes.append(caveats[cand.ddl])
    redundant = [f"{ix.schema}.{ix.name}" for ix in
                 made_redundant(existing, cand.table, cand.method, cand.columns)]
    if redundant:
        notes.append(f"makes {', '.join(redundant)} redundant")
    return Recommendation(
        cand.ddl, cand.table, list(cand.columns), list(cand.include), cand.where, cand.method,
        item.size, round(100.0 * net / start, 2), round(100.0 * write / start, 3), helped,
        redundant, cand.kind(), round(100.0 * (net + write) / start, 2), hot, slows, notes,
        sorted(cand.touches()))


def _table_indexes(existing: list[ExistingIndex]) -> dict[str, list[TableIndex]]:
    out: dict[str, list[TableIndex]] = {}
    for ix in existing:
        out.setdefault(ix.relation, []).append(TableIndex(ix.name, ix.method, ix.reads()))
    return out


def _plan_indexes(whatif: WhatIf) -> Any:
    def names(stmt: Stmt) -> list[str]:
        try:
            plan = whatif.plan(stmt.sql, frozenset(), stmt.generic)
        except psycopg.Error:
            return []
        found: list[str] = []
        stack = [plan["Plan"]]
        while stack:
            node = stack.pop()
            if node.get("Index Name"):
                found.append(node["Index Name"])
            stack += node.get("Plans") or []
        return list(dict.fromkeys(found))

    return names


def _evaluation(whatif: WhatIf, cset: CandidateSet) -> dict[str, Any]:
    real = sorted(whatif.real) if whatif.method == "hypopg" else "all candidates"
    return {"method": whatif.method, "scratch_copy": whatif.copy, "real_builds": real,
            "notes": dict(sorted(whatif.notes.items())),
            "candidate_notes": {k: v for k, v in sorted(cset.notes.items())}}


def _text_search(conn: psycopg.Connection[Any]) -> tuple[str | None, bool]:
    """The qualified gin_trgm_ops when pg_trgm is installed; whether LIKE prefixes need
    text_pattern_ops (a database collation other than C)."""
    row = conn.execute(
        "SELECT (SELECT extnamespace::regnamespace::text FROM pg_extension "
        "WHERE extname = 'pg_trgm'), datcollate NOT IN ('C', 'POSIX') "
        "FROM pg_database WHERE datname = current_database()").fetchone()
    schema, pattern = (row[0], bool(row[1])) if row else (None, False)
    return (f"{schema.strip(chr(34))}.gin_trgm_ops" if schema else None), pattern


def _weight(statements: list[WorkloadStatement], name: str) -> float:
    return next((s.weight for s in statements if s.name == name), 1.0)


def _default_db(source: str | Path | None) -> str | None:
    if source is None or Path(str(source)).suffix == ".sql":
        return None
    from workbench.datasets import get_dataset

    return get_dataset(source).name
