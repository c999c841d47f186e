"""What-if costing: the planner's estimate of a statement with a given set of extra indexes.

Two methods, reported in every result:

- ``hypopg``: hypothetical indexes (the HypoPG extension): nothing is built, nothing is locked.
- ``build``: real indexes built once each inside one transaction that is rolled back at the end;
  a set is evaluated by dropping, inside a savepoint, the built indexes not in the set, then
  rolling the savepoint back. Sizes are real. It writes (and locks the tables while it runs), so
  it needs a database the workbench owns or ``allow_destructive``.

>>> with WhatIf(dsn, method="auto") as whatif:                                       # doctest: +SKIP
...     whatif.cost("SELECT * FROM orders.orders WHERE customer_id = 42", frozenset())
...     whatif.cost("SELECT * FROM orders.orders WHERE customer_id = 42",
...                 frozenset({"CREATE INDEX wb_o_c ON orders.orders (customer_id)"}))
4510.0
8.44
"""

from __future__ import annotations

import re
import time
from types import TracebackType
from typing import Any

import psycopg
from psycopg import sql

from workbench.connect import connect
from workbench.databases import read_marker
from workbench.errors import WorkbenchError
from workbench.indexes import IndexSpec
from workbench.plans.capture import explain_generic

_CONCURRENTLY = re.compile(r"\bCONCURRENTLY\s+", re.IGNORECASE)


class WhatIf:
    """Planner costs of statements under index sets, cached per (statement, index set)."""

    def __init__(self, dsn: str | None = None, method: str = "auto", *,
                 allow_destructive: bool = False) -> None:
        if method not in ("auto", "hypopg", "build"):
            raise WorkbenchError(f"unknown what-if method {method!r}", "use auto, hypopg or build")
        self.conn = connect(dsn)
        self.calls = 0
        self.seconds = 0.0
        self._cache: dict[tuple[str, frozenset[str], bool], float] = {}
        self._owned = read_marker(self.conn) is not None or allow_destructive
        self.server_version_num = int(self.conn.info.server_version)
        self.method = self._choose(method)
        self._hypo_schema = ""
        self._hypo_oids: dict[str, int] = {}
        self._built: dict[str, IndexSpec] = {}
        if self.method == "hypopg":
            self._hypo_schema = self._hypopg_schema()
        else:
            self.conn.autocommit = False
            self.conn.execute("SET LOCAL lock_timeout = '5s'")

    # -- public -------------------------------------------------------------------------------

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
                if self.method == "hypopg":
                    self._hypo_set(indexes)
                    values = [self._explain_cost(s, generic) for s in missing]
                else:
                    values = self._build_costs(missing, indexes, generic)
                self._cache.update({(s, indexes, generic): v
                                    for s, v in zip(missing, values, strict=True)})
            finally:
                self.calls += len(missing)
                self.seconds += time.perf_counter() - started
        return [self._cache[(s, indexes, generic)] for s in statements]

    def size(self, ddl: str) -> int:
        """Estimated (hypopg) or real (build) size of the index in bytes."""
        if self.method == "hypopg":
            self._hypo_set(frozenset({ddl}) | frozenset(self._hypo_oids))
            row = self.conn.execute(
                sql.SQL("SELECT {}.hypopg_relation_size(%s)").format(
                    sql.Identifier(self._hypo_schema)), [self._hypo_oids[ddl]]
            ).fetchone()
            return int(row[0]) if row else 0
        spec = self._ensure_built(ddl)
        row = self.conn.execute(
            "SELECT pg_relation_size(format('%%I.%%I', %s::text, %s::text)::regclass)",
            [spec.schema, spec.name],
        ).fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        """Drop hypothetical indexes / roll back built ones, and disconnect."""
        try:
            if self.method == "hypopg" and self._hypo_schema:
                self.conn.execute(sql.SQL("SELECT {}.hypopg_reset()").format(
                    sql.Identifier(self._hypo_schema)))
            elif not self.conn.autocommit:
                self.conn.rollback()
        finally:
            self.conn.close()

    def __enter__(self) -> WhatIf:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- method choice ------------------------------------------------------------------------

    def _choose(self, method: str) -> str:
        available = self.conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg')"
        ).fetchone()[0]
        installed = self._extension_schema() is not None
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

    def _extension_schema(self) -> str | None:
        row = self.conn.execute(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'hypopg'"
        ).fetchone()
        return str(row[0]).strip('"') if row else None

    def _hypopg_schema(self) -> str:
        schema = self._extension_schema()
        if schema is None:
            self.conn.execute("CREATE SCHEMA IF NOT EXISTS workbench")
            self.conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg SCHEMA workbench")
            schema = "workbench"
        return schema

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

    # -- build --------------------------------------------------------------------------------

    def _ensure_built(self, ddl: str) -> IndexSpec:
        if ddl not in self._built:
            spec = IndexSpec.from_ddl(ddl)
            self.conn.execute(_CONCURRENTLY.sub("", spec.ddl))  # type: ignore[arg-type]
            self._built[ddl] = spec
        return self._built[ddl]

    def _build_costs(self, statements: list[str], indexes: frozenset[str],
                     generic: bool) -> list[float]:
        for ddl in sorted(indexes):
            self._ensure_built(ddl)
        self.conn.execute("SAVEPOINT wb_whatif")
        try:
            for ddl, spec in self._built.items():
                if ddl not in indexes:
                    self.conn.execute(sql.SQL("DROP INDEX {}.{}").format(
                        sql.Identifier(spec.schema), sql.Identifier(spec.name)))
            return [self._explain_cost(s, generic) for s in statements]
        finally:
            self.conn.execute("ROLLBACK TO SAVEPOINT wb_whatif")

    # -- planning -----------------------------------------------------------------------------

    def _explain_cost(self, statement: str, generic: bool) -> float:
        return float(explain_json(self.conn, statement, generic=generic)["Plan"]["Total Cost"])


def explain_json(conn: psycopg.Connection[Any], statement: str, *, generic: bool = False) -> Any:
    """EXPLAIN (FORMAT JSON) without running the statement; ``generic`` for ``$n`` parameters."""
    text = statement.strip().rstrip(";")
    if generic:
        return explain_generic(conn, text)[0]
    return conn.execute(f"EXPLAIN (FORMAT JSON) {text}").fetchone()[0][0]  # type: ignore[index]
