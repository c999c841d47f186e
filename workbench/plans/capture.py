"""Capturing plans: EXPLAIN for every statement of a workload, with representative parameters.

Reads run ``EXPLAIN (ANALYZE, BUFFERS, SETTINGS, WAL, VERBOSE, FORMAT JSON)`` inside a transaction
that is READ ONLY and rolled back; writes get a plain ``EXPLAIN (FORMAT JSON)`` unless
``allow_writes`` (then they are analysed, on a database the workbench owns, and rolled back too).
DDL is refused. Exactly one statement is explained per call: the text is checked for a second
statement and sent with the extended protocol, which the server refuses to run more than one
statement with, so ``SELECT 1; COMMIT; DROP TABLE t`` can never commit anything. A statement that fails or times out is
reported with its error and the others are still captured; a timeout falls back to the estimated
plan, noted. ``$n`` statements from pg_stat_statements get a generic plan.

>>> capture = explain_workload("shop", database="shop")      # doctest: +SKIP
>>> [s.name for s in capture.statements][:2]                 # doctest: +SKIP
['browse_hot_products.1', 'browse_hot_products.2']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from workbench.connect import connect, dataset_database
from workbench.errors import WorkbenchError
from workbench.folders import read_json, read_manifest, read_text, result_folder, write_json
from workbench.plans.hints import Hint, plan_hints
from workbench.plans.model import Plan, parse_plan

READ = {"select", "with", "values", "table", "show"}
WRITE = {"insert", "update", "delete", "merge"}
CONTROL = {"begin", "start", "commit", "end", "rollback", "savepoint", "release", "set", "reset"}
DDL = {"create", "alter", "drop", "truncate", "grant", "revoke", "comment", "vacuum", "analyze",
       "cluster", "reindex", "refresh", "lock", "copy", "do", "call", "import", "security"}


@dataclass
class Draw:
    """One execution of a statement with one parameter set."""

    params: dict[str, Any]
    total_ms: float | None
    shape: str


@dataclass
class StatementPlan:
    """A statement and its plan (or why it has none)."""

    name: str
    sql: str
    params: dict[str, Any] = field(default_factory=dict)
    plan: Plan | None = None
    error: str | None = None
    note: str | None = None
    draws: list[Draw] = field(default_factory=list)

    @property
    def hints(self) -> list[Hint]:
        """Hints of the plan."""
        return plan_hints(self.plan) if self.plan else []

    def to_json(self) -> dict[str, Any]:
        """The per-statement document of ``workbench explain --json``."""
        doc = statement_json(self.name, self.sql, self.params, self.plan, self.hints)
        doc.update(error=self.error, note=self.note,
                   draws=[{"params": d.params, "total_ms": d.total_ms, "shape": d.shape}
                          for d in self.draws])
        if self.plan is not None:
            doc["plan"] = self.plan.to_json()
        return doc

    def __repr__(self) -> str:
        state = repr(self.plan) if self.plan else f"error: {self.error}"
        return f"<StatementPlan {self.name}: {state}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        from workbench.display import pretty

        lines = [f"== {self.name}" + (f"  [{self.note}]" if self.note else ""),
                 self.plan.text() if self.plan else f"error: {self.error}"]
        lines += [f"  hint {h.code}: {h.message}" for h in self.hints]
        pretty(printer, cycle, "\n".join(lines))

    def _repr_html_(self) -> str:
        import html

        from workbench.plans.viewer import notebook_plan_html

        note = f"<p><i>{html.escape(self.note)}</i></p>" if self.note else ""
        if self.plan is None:
            return (f"<p><b>{html.escape(self.name)}</b>: no plan ({html.escape(self.error or '')})"
                    f"</p>{note}")
        return note + notebook_plan_html(self.plan, query=self.sql, hints=self.hints,
                                         title=self.name)


@dataclass
class PlanCapture:
    """Plans of a whole workload."""

    statements: list[StatementPlan]
    server_version: str = ""
    analyze: bool = True

    def get(self, name: str) -> StatementPlan:
        """A statement by name."""
        for statement in self.statements:
            if statement.name == name:
                return statement
        raise WorkbenchError(f"no statement {name!r} in this capture",
                             f"one of: {', '.join(s.name for s in self.statements)}")

    def to_json(self) -> dict[str, Any]:
        """``{"statements": [...]}``."""
        return {"server_version": self.server_version,
                "statements": [s.to_json() for s in self.statements]}

    def save(self, out: Path) -> Path:
        """Write a ``plans`` result folder (loadable with :func:`load_plans`)."""
        with result_folder(Path(out), kind="plans") as folder:
            write_json(folder.path / "plans.json", self.to_json())
            folder.manifest.update(status="complete", server_version=self.server_version,
                                   statements=len(self.statements))
        return Path(out)

    def _rows(self) -> list[list[Any]]:
        return [[s.name, s.plan.root.label if s.plan else "",
                 "" if not s.plan or s.plan.execution_ms is None else f"{s.plan.execution_ms:.2f}",
                 ", ".join(h.code for h in s.hints), s.error or s.note or ""]
                for s in self.statements]

    def __repr__(self) -> str:
        return (f"<PlanCapture {len(self.statements)} statements, PostgreSQL "
                f"{self.server_version or '?'}>")

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        from workbench.display import pretty, text_table

        pretty(printer, cycle, text_table(["statement", "top node", "ms", "hints", "notes"],
                                          self._rows()))

    def _repr_html_(self) -> str:
        from workbench.display import html_table

        return (f"<p><b>Plans</b> of {len(self.statements)} statements (PostgreSQL "
                f"{self.server_version or '?'}); <code>capture.get(name)</code> shows one in the "
                "plan viewer.</p>"
                + html_table(["statement", "top node", "ms", "hints", "notes"], self._rows()))


def load_plans(folder: str | Path) -> PlanCapture:
    """A saved capture, with no database."""
    folder = Path(folder)
    manifest = read_manifest(folder, kind="plans")
    doc = read_json(folder / "plans.json")
    return capture_from_json(doc, str(manifest.get("server_version", "")))


def capture_from_json(doc: dict[str, Any], server_version: str = "") -> PlanCapture:
    """Rebuild a capture from its JSON document (``explain --json`` output)."""
    statements = []
    for item in doc.get("statements", []):
        plan = parse_plan(item["plan"]) if item.get("plan") else None
        statements.append(StatementPlan(item["name"], item["sql"], item.get("params") or {}, plan,
                                        item.get("error"), item.get("note"),
                                        [Draw(**d) for d in item.get("draws") or []]))
    return PlanCapture(statements, server_version or doc.get("server_version", ""))


def statement_json(name: str, sql: str, params: dict[str, Any], plan: Plan | None,
                   hints: list[Hint]) -> dict[str, Any]:
    """The CLI's per-statement JSON: totals, nodes with self time and buffers, hints."""
    nodes = []
    if plan is not None:
        for node in plan.nodes:
            nodes.append({
                "id": node.id, "parent": node.parent, "node_type": node.node_type,
                "relation": node.relation, "index": node.index,
                "actual_rows": node.actual_rows, "plan_rows": node.get("Plan Rows"),
                "loops": node.get("Actual Loops"),
                "self_ms": None if node.self_ms is None else round(node.self_ms, 3),
                "shared_hit": node.self_buffers.get("shared_hit"),
                "shared_read": node.self_buffers.get("shared_read"),
            })
    buffers = plan.buffers() if plan is not None and plan.analyzed else {}
    return {
        "name": name, "sql": sql, "params": params,
        "total_ms": plan.execution_ms if plan is not None else None,
        "planning_ms": plan.planning_ms if plan is not None else None,
        "shared_hit": buffers.get("shared_hit"), "shared_read": buffers.get("shared_read"),
        "nodes": nodes, "hints": [h.to_json() for h in hints],
    }


def statement_kind(sql: str) -> str:
    """read, write, control or ddl, from the first keyword (comments skipped)."""
    text = re.sub(r"--[^\n]*|/\*.*?\*/", " ", sql, flags=re.S).strip().lower()
    first = text.split(None, 1)[0] if text else ""
    if first == "with":
        return "write" if re.search(r"\)\s*(insert|update|delete|merge)\b", text) else "read"
    if first in READ or first == "(":
        return "read"
    if first in WRITE:
        return "write"
    if first in CONTROL:
        return "control"
    return "ddl" if first in DDL else "read"  # anything else: let the server say what it is


def explain(
    conn: psycopg.Connection[Any], sql: str, *, name: str = "statement",
    params: dict[str, Any] | None = None, analyze: bool = True, timing: bool = True,
    allow_writes: bool = False, statement_timeout_ms: int = 10_000, generic: bool = False,
    sql_params: dict[str, Any] | None = None,
) -> StatementPlan:
    """EXPLAIN one statement, already bound or with ``%(name)s`` placeholders that psycopg binds
    from ``sql_params`` (server-side); errors are returned, not raised."""
    result = StatementPlan(name, sql, dict(params or {}))
    from workbench.loader import split_statements

    if len(split_statements(sql)) > 1:
        result.error = "more than one statement: explain takes one statement at a time"
        return result
    kind = statement_kind(sql)
    if kind == "ddl":
        result.error = "DDL statements are not explained"
        return result
    if kind == "control":
        result.error = "transaction control has no plan"
        return result
    text = sql.strip().rstrip(";")
    do_analyze = analyze and not generic and (kind == "read" or allow_writes)
    if do_analyze and kind == "write":
        from workbench.databases import require_owned

        try:
            require_owned(conn, False, "EXPLAIN ANALYZE a write (executed, then rolled back)")
        except WorkbenchError as exc:
            result.error = str(exc)
            return result
    if analyze and kind == "write" and not allow_writes:
        result.note = "write statement: estimated plan only (allow writes to analyse, rolled back)"
    if generic:
        result.note = "generic plan (no parameter values)"
    try:
        result.plan = parse_plan(_explain_raw(conn, text, do_analyze, timing, statement_timeout_ms,
                                              generic, sql_params, read_only=kind == "read"))
    except psycopg.errors.QueryCanceled:
        result.note = f"statement timeout of {statement_timeout_ms} ms hit: estimated plan only"
        try:
            result.plan = parse_plan(_explain_raw(conn, text, False, timing, statement_timeout_ms,
                                                  generic, sql_params))
        except psycopg.Error as exc:
            result.error = _first_line(exc)
    except psycopg.Error as exc:
        result.error = _first_line(exc)
    except WorkbenchError as exc:
        result.error = str(exc)
    return result


def _explain_raw(conn: psycopg.Connection[Any], text: str, analyze: bool, timing: bool,
                 timeout_ms: int, generic: bool, sql_params: dict[str, Any] | None = None,
                 read_only: bool = True) -> Any:
    version = int(conn.info.server_version)
    options = ["FORMAT JSON", "VERBOSE"]
    if analyze:
        options += ["ANALYZE", "BUFFERS", "WAL"] + ([] if timing else ["TIMING OFF"])
    if version >= 120000:
        options.append("SETTINGS")
    with conn.transaction(force_rollback=True):
        if read_only:
            conn.execute("SET TRANSACTION READ ONLY")
        conn.execute(f"SET LOCAL statement_timeout = {int(timeout_ms)}")  # type: ignore[arg-type]
        if generic:
            return explain_generic(conn, text, options)
        # A binary cursor uses the extended protocol: one statement, never a stacked second.
        with conn.cursor(binary=True) as cur:
            row = cur.execute(f"EXPLAIN ({', '.join(options)}) {text}",  # type: ignore[arg-type]
                              sql_params).fetchone()
    return row[0] if row else None


def explain_generic(conn: psycopg.Connection[Any], text: str, options: list[str] | None = None
                    ) -> Any:
    """A generic plan of a ``$n`` statement: GENERIC_PLAN on 16+, else a prepared statement
    with a forced generic plan executed with NULL parameters (EXPLAIN only, never run)."""
    opts = [o for o in (options or ["FORMAT JSON"]) if o not in ("ANALYZE", "BUFFERS", "WAL")]
    if int(conn.info.server_version) >= 160000:
        # prepare=False: psycopg prepares a query it sees often, and a prepared statement with
        # $n would then want parameters
        row = conn.execute(f"EXPLAIN ({', '.join([*opts, 'GENERIC_PLAN'])}) {text}",  # type: ignore[arg-type]
                           prepare=False).fetchone()
        return row[0] if row else None
    count = len(set(re.findall(r"\$(\d+)", text)))
    conn.execute("SET plan_cache_mode = force_generic_plan")
    conn.execute(f"PREPARE wb_generic AS {text}")  # type: ignore[arg-type]
    try:
        args = f"({', '.join(['NULL'] * count)})" if count else ""
        row = conn.execute(f"EXPLAIN ({', '.join(opts)}) EXECUTE wb_generic{args}").fetchone()  # type: ignore[arg-type]
        return row[0] if row else None
    finally:
        conn.execute("DEALLOCATE wb_generic")
        conn.execute("RESET plan_cache_mode")


def workload_statements(target: str | Path, seed: int = 1, draws: int = 3,
                        variables: dict[str, Any] | None = None
                        ) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(name, sql with :variables, parameter draws) for every query of a dataset or script file."""
    from workbench.datasets import get_dataset
    from workbench.scripts import read_script

    path = Path(target)
    if path.suffix == ".sql" and path.is_file():
        scripts = [(path.stem, path)]
        extra: dict[str, Any] = {}
    else:
        dataset = get_dataset(target)
        scripts = [(s.name, s.path) for s in dataset.scripts]
        extra = dataset.variables(1.0)
    out = []
    for name, file in scripts:
        script = read_script(file, name)
        sets = script.draw(seed=seed, n=draws, variables={**extra, **(variables or {})})
        queries = script.queries
        for index, statement in enumerate(queries, start=1):
            label = name if len(queries) == 1 else f"{name}.{index}"
            out.append((label, statement.sql, sets))
    return out


def explain_workload(
    target: str | Path | None = None, *, sql: str | None = None, from_stat_statements: int | None = None,
    database: str | None = None, dsn: str | None = None, analyze: bool = True, timing: bool = True,
    allow_writes: bool = False, draws: int = 3, seed: int = 1, statement_timeout_ms: int = 10_000,
    variables: dict[str, Any] | None = None,
) -> PlanCapture:
    """Plans of every statement of a dataset's workload, a script or SQL file, one SQL text, or the
    top-N statements of pg_stat_statements."""
    from workbench.scripts import bind

    with connect(dsn, database=dataset_database(dsn, database, _default_db(target))) as conn:
        refuse_half_loaded(conn)
        version = str(conn.execute("SHOW server_version").fetchone()[0]).split()[0]
        scale_vars = _loaded_variables(conn)
        results = []
        if from_stat_statements:
            for name, text in top_statements(conn, from_stat_statements):
                results.append(explain(conn, text, name=name, analyze=False, generic="$" in text,
                                       statement_timeout_ms=statement_timeout_ms))
        elif sql is not None:
            results.append(explain(conn, sql, name="sql", analyze=analyze, timing=timing,
                                   allow_writes=allow_writes,
                                   statement_timeout_ms=statement_timeout_ms))
        elif target is not None and Path(target).suffix == ".sql" and _plain_sql(Path(target)):
            from workbench.loader import split_statements

            statements = split_statements(read_text(Path(target), "SQL file"))
            if not statements:
                raise WorkbenchError(f"{target} holds no SQL statement",
                                     "pass a file of SQL statements")
            for index, text in enumerate(statements, start=1):
                results.append(explain(conn, text, name=f"{Path(target).stem}.{index}",
                                       analyze=analyze, timing=timing, allow_writes=allow_writes,
                                       statement_timeout_ms=statement_timeout_ms))
        elif target is not None:
            merged = {**scale_vars, **(variables or {})}
            for name, text, sets in workload_statements(target, seed, draws, merged):
                results.append(_explain_draws(conn, name, text, sets, bind, analyze=analyze,
                                              timing=timing, allow_writes=allow_writes,
                                              statement_timeout_ms=statement_timeout_ms))
        else:
            raise WorkbenchError("nothing to explain", "name a dataset, a SQL file, --sql or "
                                 "--from-stat-statements N")
    return PlanCapture(results, version, analyze)


def _explain_draws(conn: psycopg.Connection[Any], name: str, text: str,
                   sets: list[dict[str, Any]], bind: Any, **options: Any) -> StatementPlan:
    first: StatementPlan | None = None
    for params in sets:
        used = {k: v for k, v in params.items() if re.search(rf"(?<![:\w]):{k}\b", text)}
        try:
            bound = bind(text, params)
        except WorkbenchError as exc:
            return StatementPlan(name, text, used, error=str(exc))
        result = explain(conn, bound, name=name, params=used, **options)
        if first is None:
            first = result
            first.sql = text
        shape = " / ".join(n.label for n in result.plan.nodes if n.relation) if result.plan else ""
        first.draws.append(Draw(used, result.plan.execution_ms if result.plan else None, shape))
    assert first is not None
    return first


def top_statements(conn: psycopg.Connection[Any], n: int) -> list[tuple[str, str]]:
    """The top-N statements of pg_stat_statements in this database by total time."""
    from workbench.stats import pg_stat_statements_schema

    schema = pg_stat_statements_schema(conn)
    if schema is None:
        raise WorkbenchError("pg_stat_statements is not installed in this database",
                             "CREATE EXTENSION pg_stat_statements (it must be preloaded)")
    rows = conn.execute(
        psycopg.sql.SQL(
            "SELECT queryid, query FROM {}.pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND query !~* '(pg_stat|pg_catalog|pg_settings|EXPLAIN|^SET |^SHOW |^BEGIN|^COMMIT)' "
            "ORDER BY total_exec_time DESC LIMIT %s").format(psycopg.sql.Identifier(schema)),
        [n],
    ).fetchall()
    return [(f"queryid {qid}", str(query)) for qid, query in rows]


def refuse_half_loaded(conn: psycopg.Connection[Any]) -> None:
    """A database the workbench was still loading (or whose load died) is refused, as `run`
    refuses it: its tables are partial and its statistics missing, so any plan would mislead."""
    from workbench.databases import read_marker
    from workbench.loader import check_loaded

    marker = read_marker(conn)
    if marker and "dataset" in marker and marker.get("load_status") not in (None, "complete"):
        check_loaded(conn)


def _loaded_variables(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    from workbench.databases import read_marker

    marker = read_marker(conn) or {}
    return dict(marker.get("variables") or {})


def _default_db(target: str | Path | None) -> str | None:
    if target is None or Path(target).suffix == ".sql":
        return None
    from workbench.datasets import get_dataset

    return get_dataset(target).name


def _plain_sql(path: Path) -> bool:
    """A SQL file rather than a pgbench script (no backslash meta-commands, no :variables)."""
    if not path.is_file():
        return False
    text = read_text(path, "SQL file")
    return not re.search(r"^\s*\\", text, re.M) and not re.search(r"(?<![:\w]):[A-Za-z_]", text)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
