"""What-if costing: the planner's estimate of a statement with a given set of extra indexes.

Two methods, reported in every result:

- ``hypopg``: hypothetical indexes (the HypoPG extension): nothing is built, nothing is locked.
  HypoPG represents btree, BRIN, hash and bloom indexes only, and keeps no statistics for
  expression indexes (the planner then guesses their selectivity). Candidates it cannot represent
  faithfully (``needs_build``) are built for real on a scratch copy of the database
  (``scratch.ScratchCopy``: a workbench database, copied while nobody else is connected, dropped
  at the end), where the whole evaluation then runs: hypothetical indexes for the rest, real
  ones for these. When no copy can be made, GIN/GiST candidates are reported as not evaluable and
  expression candidates are costed by HypoPG with a warning.
- ``build``: real indexes built once each inside one transaction that is rolled back at the end;
  a set is evaluated by dropping, inside a savepoint, the built indexes not in the set, then
  rolling the savepoint back. Sizes are real. It writes (and locks the tables while it runs), so
  it needs a database the workbench owns or ``allow_destructive``.

Tables with a real expression index are ANALYZEd inside the transaction before any cost is taken,
so the planner has statistics for the expression (rolled back with the rest).

>>> with WhatIf(dsn, method="auto") as whatif:                                       # doctest: +SKIP
...     failures = whatif.prepare([IDX])
...     whatif.cost("SELECT * FROM orders.orders WHERE customer_id = 42", frozenset())
...     whatif.cost("SELECT * FROM orders.orders WHERE customer_id = 42", frozenset({IDX}))
4510.0
8.44
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from types import TracebackType
from typing import Any, TypeVar

import psycopg
from psycopg import sql

from workbench.connect import connect
from workbench.databases import read_marker
from workbench.errors import WorkbenchError
from workbench.indexes import IndexSpec
from workbench.plans.capture import explain_generic

_CONCURRENTLY = re.compile(r"\bCONCURRENTLY\s+", re.IGNORECASE)
_USING = re.compile(r"\bUSING\s+(\w+)", re.IGNORECASE)
HYPOPG_METHODS = ("btree", "brin", "hash", "bloom")
NOT_EVALUABLE = "not evaluable with HypoPG; run with --validate"
T = TypeVar("T")


class WhatIf:
    """Planner costs of statements under index sets, cached per (statement, index set)."""

    def __init__(self, dsn: str | None = None, method: str = "auto", *,
                 allow_destructive: bool = False, needs_build: Iterable[str] = ()) -> None:
        if method not in ("auto", "hypopg", "build"):
            raise WorkbenchError(f"unknown what-if method {method!r}", "use auto, hypopg or build")
        self.calls = 0
        self.seconds = 0.0
        self._cache: dict[tuple[str, frozenset[str], bool], float] = {}
        self._hypo_schema = ""
        self._hypo_oids: dict[str, int] = {}
        self._built: dict[str, IndexSpec] = {}
        self._sizes: dict[str, int] = {}
        self._exit = ExitStack()
        self.real: set[str] = set()  # evaluated by a real build (build mode: all of them)
        self.unevaluable: dict[str, str] = {}  # ddl -> why it was left out
        self.notes: dict[str, str] = {}  # ddl -> caveat of its evaluation
        self.copy: str | None = None  # the scratch copy's name, when one was used
        # statement text -> the tables it reads ("schema.table"): real indexes on other tables
        # cannot change its plan, so they are left in place while it is costed
        self.relations: dict[str, frozenset[str]] = {}
        with connect(dsn) as probe:
            self._owned = read_marker(probe) is not None or allow_destructive
            self.method = self._choose(probe, method)
            self.server_version_num = int(probe.info.server_version)
        target = dsn
        wanted = [d for d in dict.fromkeys(needs_build)]
        if self.method == "hypopg" and wanted:
            target = self._copy_for(dsn, wanted)
        self.conn = connect(target)
        if self.method == "hypopg":
            self._hypo_schema = self._hypopg_schema()
        if self.method == "build" or self.real:
            self.conn.autocommit = False
            self.conn.execute("SET LOCAL lock_timeout = '5s'")

    # -- public -------------------------------------------------------------------------------

    def prepare(self, ddls: Iterable[str]) -> dict[str, str]:
        """Create every candidate once (hypothetical or real), measure its size, and ANALYZE the
        tables of real expression indexes; returns {ddl: why it could not be made}."""
        failures = dict(self.unevaluable)
        expression_tables: set[str] = set()
        for ddl in ddls:
            if ddl in failures or ddl in self._sizes:
                continue
            try:
                if self._is_real(ddl):
                    spec = self._ensure_built(ddl)
                    self._sizes[ddl] = self._real_size(spec)
                    if _has_expression(ddl):
                        expression_tables.add(f"{spec.schema}.{spec.table}")
                else:
                    self._sizes[ddl] = self._hypo_add(ddl)
            except psycopg.Error as exc:
                failures[ddl] = str(exc).splitlines()[0]
        for table in sorted(expression_tables):
            schema, name = table.split(".", 1)
            self.conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, name)))
        return failures

    def cost(self, statement: str, indexes: frozenset[str], generic: bool = False) -> float:
        """Estimated total cost of ``statement`` with ``indexes`` (CREATE INDEX DDL) present.

        ``generic`` plans a statement with ``$n`` parameters without values (generic plan).
        """
        return self.costs([statement], indexes, generic)[0]

    def costs(self, statements: list[str], indexes: frozenset[str],
              generic: bool = False) -> list[float]:
        """``cost`` of several statements under one index set, which is set up once for all."""
        missing = [s for s in dict.fromkeys(statements) if (s, indexes, generic) not in self._cache]
        if missing:
            started = time.perf_counter()
            try:
                tables = [self.relations.get(s) for s in missing]
                scope = None if None in tables else frozenset().union(*tables)  # type: ignore[arg-type]
                values = self._under(indexes, lambda: [self._explain_cost(s, generic)
                                                       for s in missing], scope)
                self._cache.update({(s, indexes, generic): v
                                    for s, v in zip(missing, values, strict=True)})
            finally:
                self.calls += len(missing)
                self.seconds += time.perf_counter() - started
        return [self._cache[(s, indexes, generic)] for s in statements]

    def plan(self, statement: str, indexes: frozenset[str] = frozenset(),
             generic: bool = False) -> Any:
        """The JSON plan (EXPLAIN, not run) under an index set."""
        return self._under(indexes, lambda: explain_json(self.conn, statement, generic=generic))

    def size(self, ddl: str) -> int:
        """Estimated (hypopg) or real (build) size of the index in bytes."""
        if ddl not in self._sizes:
            failures = self.prepare([ddl])
            if ddl in failures:
                raise WorkbenchError(f"cannot evaluate {ddl}: {failures[ddl]}")
        return self._sizes[ddl]

    def close(self) -> None:
        """Drop hypothetical indexes / roll back built ones, disconnect, drop a scratch copy."""
        try:
            if self._hypo_schema and not self.conn.closed:
                if not self.conn.autocommit:
                    self.conn.rollback()
                self.conn.execute(sql.SQL("SELECT {}.hypopg_reset()").format(
                    sql.Identifier(self._hypo_schema)))
            if not self.conn.autocommit:
                self.conn.rollback()
        except psycopg.Error:
            pass  # the connection is going away: whatever it held goes with it
        finally:
            self.conn.close()
            self._exit.close()

    def __enter__(self) -> WhatIf:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- method choice ------------------------------------------------------------------------

    def _choose(self, conn: psycopg.Connection[Any], method: str) -> str:
        available = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg')"
        ).fetchone()[0]
        installed = _extension_schema(conn) is not None
        if method in ("auto", "hypopg") and (installed or (available and self._owned)):
            return "hypopg"
        if method == "hypopg":
            raise WorkbenchError(
                "HypoPG is not available on this server" if not available else
                "HypoPG is not installed in this database and the workbench may not install it here",
                "install the hypopg extension (e.g. postgresql-15-hypopg), or use --method build",
            )
        if not self._owned:
            raise WorkbenchError(
                "what-if evaluation needs HypoPG here: build mode would create indexes in a "
                "database the workbench does not own",
                "CREATE EXTENSION hypopg in that database, or pass --allow-destructive",
            )
        return "build"

    def _copy_for(self, dsn: str | None, wanted: list[str]) -> str | None:
        """Move the session to a scratch copy for the real builds, or say why it cannot."""
        from workbench.advisor.scratch import ScratchCopy

        why = None
        if self._owned:
            try:
                scratch = ScratchCopy(dsn)
                target = self._exit.enter_context(scratch)
                self.copy = scratch.name
                self.real = set(wanted)
                for ddl in wanted:
                    self.notes[ddl] = ("evaluated by a real build on a scratch copy "
                                       + ("(HypoPG keeps no statistics for expression indexes)"
                                          if _has_expression(ddl) else
                                          f"(HypoPG cannot represent {_method(ddl)} indexes)"))
                return target
            except WorkbenchError as exc:
                why = exc.what
        else:
            why = "the database is not the workbench's, so no copy is made"
        for ddl in wanted:
            if _method(ddl) in HYPOPG_METHODS:
                self.notes[ddl] = ("HypoPG keeps no statistics for expression indexes: its "
                                   f"estimate uses default selectivities ({why}); confirm with "
                                   "--validate")
            else:
                self.unevaluable[ddl] = f"{NOT_EVALUABLE} ({why})"
        return dsn

    def _hypopg_schema(self) -> str:
        schema = _extension_schema(self.conn)
        if schema is None:
            self.conn.execute("CREATE SCHEMA IF NOT EXISTS workbench")
            self.conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg SCHEMA workbench")
            schema = "workbench"
        return schema

    def _is_real(self, ddl: str) -> bool:
        return self.method == "build" or ddl in self.real

    # -- index sets ---------------------------------------------------------------------------

    def _under(self, indexes: frozenset[str], work: Callable[[], T],
               tables: frozenset[str] | None = None) -> T:
        """Run ``work`` with exactly ``indexes`` (of the prepared candidates) present (on
        ``tables`` only, when given: other tables' real indexes are left alone)."""
        real = frozenset(d for d in indexes if self._is_real(d))
        if self.method == "hypopg":
            self._hypo_set(indexes - real)
        for ddl in sorted(real):
            self._ensure_built(ddl)
        if not self._built:
            return work()
        self.conn.execute("SAVEPOINT wb_whatif")
        try:
            for ddl, spec in self._built.items():
                if ddl not in real and (tables is None or f"{spec.schema}.{spec.table}" in tables):
                    self.conn.execute(sql.SQL("DROP INDEX {}.{}").format(
                        sql.Identifier(spec.schema), sql.Identifier(spec.name)))
            return work()
        finally:
            self.conn.execute("ROLLBACK TO SAVEPOINT wb_whatif")

    # -- hypopg -------------------------------------------------------------------------------

    def _hypo_set(self, indexes: frozenset[str]) -> None:
        if set(self._hypo_oids) == set(indexes):
            return
        schema = sql.Identifier(self._hypo_schema)
        self.conn.execute(sql.SQL("SELECT {}.hypopg_reset()").format(schema))
        self._hypo_oids = {}
        for ddl in sorted(indexes):
            plain = _CONCURRENTLY.sub("", ddl)
            row = self.conn.execute(
                sql.SQL("SELECT indexrelid FROM {}.hypopg_create_index(%s)").format(schema), [plain]
            ).fetchone()
            self._hypo_oids[ddl] = int(row[0])

    def _hypo_add(self, ddl: str) -> int:
        """Create one more hypothetical index (inside a savepoint when in a transaction, so a
        refusal leaves the session usable); its estimated size."""
        schema = sql.Identifier(self._hypo_schema)
        if not self.conn.autocommit:
            self.conn.execute("SAVEPOINT wb_hypo")
        try:
            row = self.conn.execute(
                sql.SQL("SELECT indexrelid FROM {}.hypopg_create_index(%s)").format(schema),
                [_CONCURRENTLY.sub("", ddl)]).fetchone()
            self._hypo_oids[ddl] = int(row[0])
            size = self.conn.execute(sql.SQL("SELECT {}.hypopg_relation_size(%s)").format(schema),
                                     [self._hypo_oids[ddl]]).fetchone()
        except psycopg.Error:
            if not self.conn.autocommit:
                self.conn.execute("ROLLBACK TO SAVEPOINT wb_hypo")
            raise
        return int(size[0]) if size else 0

    # -- build --------------------------------------------------------------------------------

    def _ensure_built(self, ddl: str) -> IndexSpec:
        if ddl not in self._built:
            spec = IndexSpec.from_ddl(ddl)
            self.conn.execute("SAVEPOINT wb_build")
            try:
                self.conn.execute(_CONCURRENTLY.sub("", spec.ddl))  # type: ignore[arg-type]
            except psycopg.Error:
                self.conn.execute("ROLLBACK TO SAVEPOINT wb_build")
                raise
            self.conn.execute("RELEASE SAVEPOINT wb_build")
            self._built[ddl] = spec
        return self._built[ddl]

    def _real_size(self, spec: IndexSpec) -> int:
        row = self.conn.execute(
            "SELECT pg_relation_size(format('%%I.%%I', %s::text, %s::text)::regclass)",
            [spec.schema, spec.name],
        ).fetchone()
        return int(row[0]) if row else 0

    # -- planning -----------------------------------------------------------------------------

    def _explain_cost(self, statement: str, generic: bool) -> float:
        return float(explain_json(self.conn, statement, generic=generic)["Plan"]["Total Cost"])


def _extension_schema(conn: psycopg.Connection[Any]) -> str | None:
    row = conn.execute(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'hypopg'"
    ).fetchone()
    return str(row[0]).strip('"') if row else None


def _method(ddl: str) -> str:
    match = _USING.search(ddl)
    return match.group(1).lower() if match else "btree"


def _has_expression(ddl: str) -> bool:
    """A key of the DDL is an expression: ``((...))`` or ``(func(...)`` in the column list."""
    match = re.search(r"\bUSING\s+\w+\s*\((.*)$", ddl, re.IGNORECASE | re.DOTALL)
    keys = match.group(1) if match else ""
    return bool(re.match(r"\s*\(", keys) or re.search(r",\s*\(", keys.split(") INCLUDE")[0]))


def explain_json(conn: psycopg.Connection[Any], statement: str, *, generic: bool = False) -> Any:
    """EXPLAIN (FORMAT JSON) without running the statement; ``generic`` for ``$n`` parameters."""
    text = statement.strip().rstrip(";")
    if generic:
        return explain_generic(conn, text)[0]
    return conn.execute(f"EXPLAIN (FORMAT JSON) {text}").fetchone()[0][0]  # type: ignore[index]
