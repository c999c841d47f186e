"""Candidate indexes from a workload's column uses.

Per statement and table: a btree with the equality columns first, then one range column; the
equality columns followed by the ORDER BY columns with their directions (so ORDER BY ... LIMIT
reads the index in order); that key with the statement's other projected columns as INCLUDE (an
index-only scan); each filter or join column alone; a partial version when the statement also
filters on a constant (``status = 'paid'``); GIN for jsonb containment; BRIN for a range column
whose values follow the physical order (correlation above 0.9, e.g. append-only timestamps).
Candidates an existing index already serves are dropped.

>>> cands = generate_candidates(statements, existing, correlations={})   # doctest: +SKIP
>>> cands[0].ddl                                                      # doctest: +SKIP
'CREATE INDEX CONCURRENTLY wb_orders_customer_id_created_at_idx ON orders.orders (customer_id, created_at DESC)'
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from psycopg import sql

from workbench.advisor.existing import ExistingIndex, covers
from workbench.advisor.workload import WorkloadStatement

MAX_INCLUDE = 4
BRIN_CORRELATION = 0.9
FILTER_USES = ("equality", "range", "in", "is_null", "like_prefix", "join")


@dataclass(frozen=True)
class Candidate:
    """A candidate index."""

    table: str  # "schema.table"
    columns: tuple[str, ...]
    descending: tuple[bool, ...] = ()
    include: tuple[str, ...] = ()
    where: str | None = None
    method: str = "btree"

    @property
    def name(self) -> str:
        """Deterministic name within PostgreSQL's 63 bytes."""
        table = self.table.split(".", 1)[1]
        parts = ["wb", table]
        for i, column in enumerate(self.columns):
            parts.append(column + ("_desc" if self.descending and self.descending[i] else ""))
        if self.include:
            parts += ["incl", *self.include]
        if self.where:
            parts += ["part", hashlib.sha1(self.where.encode()).hexdigest()[:6]]
        if self.method != "btree":
            parts.append(self.method)
        name = "_".join(parts) + "_idx"
        if len(name) > 63:
            digest = hashlib.sha1(self.key().encode()).hexdigest()[:8]
            name = name[: 63 - 9 - 4] + "_" + digest + "_idx"
        return name

    def key(self) -> str:
        """Identity of the candidate (for dedup and names)."""
        return f"{self.table}|{self.method}|{self.columns}|{self.descending}|{self.include}|{self.where}"

    @property
    def ddl(self) -> str:
        """``CREATE INDEX CONCURRENTLY ...`` composed with psycopg.sql, rendered to text."""
        schema, table = self.table.split(".", 1)
        cols = []
        for i, column in enumerate(self.columns):
            part = sql.Identifier(column)
            if self.descending and self.descending[i]:
                part = sql.SQL("{} DESC").format(part)
            cols.append(part)
        query = sql.SQL("CREATE INDEX CONCURRENTLY {} ON {} USING {} ({})").format(
            sql.Identifier(self.name), sql.Identifier(schema, table), sql.SQL(self.method),
            sql.SQL(", ").join(cols))
        if self.include:
            query = sql.SQL("{} INCLUDE ({})").format(
                query, sql.SQL(", ").join(map(sql.Identifier, self.include)))
        if self.where:
            query = sql.SQL("{} WHERE {}").format(query, sql.SQL(self.where))  # type: ignore[arg-type]
        return query.as_string(None)


@dataclass
class CandidateSet:
    """Candidates, which statements each could help, and what was skipped as already covered."""

    candidates: list[Candidate]
    helps: dict[str, set[str]] = field(default_factory=dict)  # candidate key -> statement names
    covered: list[tuple[Candidate, str]] = field(default_factory=list)


def generate_candidates(statements: list[WorkloadStatement], existing: list[ExistingIndex],
                        correlations: dict[str, float] | None = None,
                        catalog_types: dict[str, str] | None = None) -> CandidateSet:
    """Candidate indexes for the statements; ``correlations``: "schema.table.column" → pg_stats
    correlation (for BRIN), ``catalog_types``: "schema.table.column" → data type (for GIN)."""
    found: dict[str, Candidate] = {}
    helps: dict[str, set[str]] = {}
    covered: list[tuple[Candidate, str]] = []
    for stmt in statements:
        if stmt.error:
            continue
        for table in sorted(stmt.tables):
            for cand in _for_table(stmt, table, correlations or {}, catalog_types or {}):
                by = _covered_by(cand, existing)
                if by:
                    covered.append((cand, by))
                    continue
                found.setdefault(cand.key(), cand)
                helps.setdefault(cand.key(), set()).add(stmt.name)
    ordered = sorted(found.values(), key=lambda c: c.key())
    return CandidateSet(ordered, helps, covered)


def _for_table(stmt: WorkloadStatement, table: str, correlations: dict[str, float],
               types: dict[str, str]) -> list[Candidate]:
    eq = _unique(u.column for u in stmt.on(table, "equality", "in"))
    ranges = _unique(u.column for u in stmt.on(table, "range", "like_prefix", "is_null"))
    joins = _unique(u.column for u in stmt.on(table, "join"))
    order = [(u.column, u.descending) for u in stmt.on(table, "order_by")]
    constants = [u for u in stmt.on(table, "constant")]
    projected = _unique(u.column for u in stmt.on(table, "projected"))
    out: list[Candidate] = []
    if eq or ranges:
        key = tuple(eq + ranges[:1])
        out.append(Candidate(table, key))
    if order and (eq or not ranges):
        cols = tuple(_unique(eq + [c for c, _ in order]))
        desc = tuple([False] * len(eq) + [d for c, d in order if c not in eq])
        if len(cols) == len(desc):
            out.append(Candidate(table, cols, desc if any(desc) else ()))
    for column in _unique(eq + ranges + joins):
        out.append(Candidate(table, (column,)))
    base = out[0] if out else None
    if stmt.kind == "select":
        composite = [c for c in out[:2] if len(c.columns) > 1 or c is base]
        for key in composite:  # the same keys, covering: an index-only scan
            include = tuple(c for c in projected if c not in key.columns)
            if 0 < len(include) <= MAX_INCLUDE:
                out.append(Candidate(table, key.columns, key.descending, include))
    if constants and base:
        where = " AND ".join(f"{sql.Identifier(u.column).as_string(None)} = {u.value}"
                             for u in constants)
        key = tuple(c for c in base.columns if c not in {u.column for u in constants})
        if key:
            out.append(Candidate(table, key, where=where))
    for u in stmt.on(table, "contains"):
        if types.get(f"{table}.{u.column}", "jsonb") in ("jsonb", "ARRAY"):
            out.append(Candidate(table, (u.column,), method="gin"))
    for column in ranges:
        if abs(correlations.get(f"{table}.{column}", 0.0)) > BRIN_CORRELATION:
            out.append(Candidate(table, (column,), method="brin"))
    return out


def _covered_by(cand: Candidate, existing: list[ExistingIndex]) -> str | None:
    for index in existing:
        if index.relation != cand.table:
            continue
        if cand.include and not set(cand.include) <= set(index.columns) | set(index.include):
            continue
        if covers(index, cand.method, cand.columns, cand.descending, cand.where):
            return f"{index.schema}.{index.name}"
    return None


def _unique(items: object) -> list[str]:
    return list(dict.fromkeys(items))  # type: ignore[arg-type]
