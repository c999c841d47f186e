"""Candidate indexes from a workload's column uses, of every kind PostgreSQL offers.

Per statement and table:

- btree: the equality columns, then one range column; the equality columns followed by the ORDER BY
  columns with their directions (ORDER BY ... LIMIT reads the index in order); each filter or join
  column alone; for a SELECT, those keys with the statement's other projected columns as INCLUDE
  (an index-only scan), and the same without the columns the workload UPDATEs (an index holding
  an updated column makes that UPDATE non-HOT). Keys may be expressions (``lower(email)``).
- partial: the same keys ``WHERE`` the statement's shape constants (``status = 'pending'``,
  ``returned_at IS NULL``, ``NOT archived``): literals that keep a small share of the rows in a
  categorical column. A literal on a key (an id, a foreign key, an e-mail) is a parameter, never a
  predicate (see ``columns.shape_constant``); a partial index needs a key, so a statement that
  filters on nothing else gets one on the ORDER BY columns or on the constant's own column.
- GIN for jsonb (``jsonb_ops`` and ``jsonb_path_ops``), arrays and text search; GIN with
  ``gin_trgm_ops`` for ``LIKE '%x%'``, ``ILIKE`` and regular expressions where pg_trgm is installed;
  GiST for ranges and geometry (``&&``, ``@>``, ``<@``, ``<->``).
- BRIN for a range column whose values follow the physical order (correlation above 0.9).
- hash for an equality-only lookup on a wide column (64 bytes on average or more), where a btree
  would carry every byte of the key.

Candidates an existing index already serves, and covering or partial variants of a unique lookup
(one row: an index-only scan saves one heap fetch at most), are dropped.

>>> cands = generate_candidates(statements, existing, facts)        # doctest: +SKIP
>>> cands.candidates[0].ddl                                          # doctest: +SKIP
'CREATE INDEX CONCURRENTLY wb_orders_customer_id_created_at_idx ON orders.orders (customer_id, created_at DESC)'
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from psycopg import sql

from workbench.advisor.columns import ColumnFacts, shape_constant
from workbench.advisor.existing import ExistingIndex, covers
from workbench.advisor.workload import ColumnUse, WorkloadStatement

MAX_INCLUDE = 4
BRIN_CORRELATION = 0.9
HASH_MIN_WIDTH = 64
FILTER_USES = ("equality", "range", "in", "is_null", "like_prefix", "join")
HYPOPG_METHODS = ("btree", "brin", "hash", "bloom")  # what hypopg_create_index can represent
_GEOMETRY = ("point", "box", "polygon", "circle", "lseg", "path")
_OPCLASS = re.compile(r"^[A-Za-z_][\w$]*(\.[A-Za-z_][\w$]*)?$")


@dataclass(frozen=True)
class Candidate:
    """A candidate index. ``columns`` holds column names or ``(expression)``s."""

    table: str  # "schema.table"
    columns: tuple[str, ...]
    descending: tuple[bool, ...] = ()
    include: tuple[str, ...] = ()
    where: str | None = None
    method: str = "btree"
    opclass: tuple[str, ...] = ()  # per key column, "" for the default
    refs: tuple[str, ...] = ()  # columns read by key expressions and the predicate

    @property
    def name(self) -> str:
        """Deterministic name within PostgreSQL's 63 bytes."""
        table = self.table.split(".", 1)[1]
        parts = ["wb", table]
        for i, column in enumerate(self.columns):
            part = re.sub(r"\W+", "_", column).strip("_") if column.startswith("(") else column
            parts.append(part + ("_desc" if self.descending and self.descending[i] else ""))
        if self.include:
            parts += ["incl", *self.include]
        if self.where:
            parts += ["part", hashlib.sha1(self.where.encode()).hexdigest()[:6]]
        for op in self.opclass:
            if op:
                parts.append(op.split(".")[-1].replace("_ops", "").replace("gin_", "")
                             .replace("gist_", ""))
        if self.method != "btree":
            parts.append(self.method)
        name = "_".join(parts) + "_idx"
        if len(name) > 63:
            digest = hashlib.sha1(self.key().encode()).hexdigest()[:8]
            name = name[: 63 - 9 - 4] + "_" + digest + "_idx"
        return name

    def key(self) -> str:
        """Identity of the candidate (for dedup and names)."""
        return (f"{self.table}|{self.method}|{self.columns}|{self.descending}|{self.include}|"
                f"{self.where}|{self.opclass}")

    @property
    def is_expression(self) -> bool:
        """A key column is an expression."""
        return any(c.startswith("(") for c in self.columns)

    def touches(self) -> frozenset[str]:
        """Every column the index reads: an UPDATE setting one of them is not HOT."""
        plain = {c for c in self.columns if not c.startswith("(")}
        return frozenset(plain | set(self.include) | set(self.refs))

    def kind(self) -> str:
        """ "btree", "btree expression partial", "gin jsonb_path_ops", ... for messages."""
        words = [self.method]
        if self.is_expression:
            words.append("expression")
        if self.where:
            words.append("partial")
        if self.include:
            words.append("covering")
        words += [op.split(".")[-1] for op in self.opclass if op]
        return " ".join(words)

    @property
    def ddl(self) -> str:
        """``CREATE INDEX CONCURRENTLY ...`` composed with psycopg.sql, rendered to text."""
        schema, table = self.table.split(".", 1)
        cols = []
        for i, column in enumerate(self.columns):
            part: sql.Composable = sql.SQL(column) if column.startswith("(") \
                else sql.Identifier(column)
            op = self.opclass[i] if i < len(self.opclass) else ""
            if op:
                if not _OPCLASS.match(op):
                    raise ValueError(f"not an operator class name: {op!r}")
                part = sql.SQL("{} {}").format(part, sql.Identifier(*op.split(".")))
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

    def hypopg_can(self) -> bool:
        """HypoPG can represent it (and keep statistics for it: no expressions)."""
        return self.method in HYPOPG_METHODS and not self.is_expression


@dataclass
class CandidateSet:
    """Candidates, which statements each could help, and what was skipped and why."""

    candidates: list[Candidate]
    helps: dict[str, set[str]] = field(default_factory=dict)  # candidate key -> statement names
    covered_for: list[tuple[Candidate, str, str]] = field(default_factory=list)  # (cand, by, stmt)
    notes: dict[str, list[str]] = field(default_factory=dict)  # statement -> why no candidate
    updated: dict[str, set[str]] = field(default_factory=dict)  # table -> columns UPDATEs set

    def for_statement(self, name: str) -> list[Candidate]:
        """The candidates generated for one statement."""
        return [c for c in self.candidates if name in self.helps.get(c.key(), set())]


@dataclass
class _Context:
    facts: dict[str, ColumnFacts]
    existing: list[ExistingIndex]
    updated: dict[str, set[str]]
    trigram: str | None
    pattern_ops: bool
    notes: list[str] = field(default_factory=list)

    def fact(self, table: str, column: str) -> ColumnFacts | None:
        return self.facts.get(f"{table}.{column}")

    def type_of(self, table: str, column: str) -> str:
        fact = self.fact(table, column)
        return fact.data_type if fact else ""


def generate_candidates(statements: list[WorkloadStatement], existing: list[ExistingIndex],
                        facts: dict[str, ColumnFacts] | None = None, *,
                        trigram_opclass: str | None = None,
                        pattern_ops: bool = False) -> CandidateSet:
    """Candidate indexes for the statements.

    ``facts``: "schema.table.column" → ColumnFacts (types and statistics); ``trigram_opclass``:
    the qualified ``gin_trgm_ops`` when pg_trgm is installed; ``pattern_ops``: the database's
    collation is not C, so ``LIKE 'x%'`` needs ``text_pattern_ops``.
    """
    updated: dict[str, set[str]] = {}
    for stmt in statements:
        if stmt.writes and not stmt.error:
            updated.setdefault(stmt.writes, set()).update(stmt.written_columns())
    found: dict[str, Candidate] = {}
    helps: dict[str, set[str]] = {}
    covered: list[tuple[Candidate, str, str]] = []
    notes: dict[str, list[str]] = {}
    for stmt in statements:
        if stmt.error:
            continue
        ctx = _Context(facts or {}, existing, updated, trigram_opclass, pattern_ops)
        for table in sorted(stmt.tables):
            for cand in _for_table(stmt, table, ctx):
                by = _covered_by(cand, existing)
                if by:
                    covered.append((cand, by, stmt.name))
                    continue
                found.setdefault(cand.key(), cand)
                helps.setdefault(cand.key(), set()).add(stmt.name)
        if ctx.notes:
            notes[stmt.name] = list(dict.fromkeys(ctx.notes))
    ordered = sorted(found.values(), key=lambda c: c.key())
    return CandidateSet(ordered, helps, covered, notes, updated)


def _for_table(stmt: WorkloadStatement, table: str, ctx: _Context) -> list[Candidate]:
    preds, shape_cols = _shape_predicates(stmt, table, ctx)
    refs = {u.column: u.refs for u in stmt.on(table) if u.is_expression}
    eq = _unique(u.column for u in stmt.on(table, "equality", "in") if u.column not in shape_cols)
    ranges = _unique(u.column for u in stmt.on(table, "range", "like_prefix", "is_null",
                                                "is_not_null") if u.column not in shape_cols)
    prefix_cols = {u.column for u in stmt.on(table, "like_prefix")}
    joins = _unique(u.column for u in stmt.on(table, "join"))
    order = [(u.column, u.descending) for u in stmt.on(table, "order_by")]
    projected = _unique(u.column for u in stmt.on(table, "projected"))

    def make(cols: list[str], desc: tuple[bool, ...] = (), **kw: object) -> Candidate:
        ops = tuple(_pattern_op(ctx, table, c) if c in prefix_cols else "" for c in cols)
        where = kw.get("where")
        extra = tuple(r for c in cols for r in refs.get(c, ()))
        if where:
            extra += tuple(col for col, _ in preds)
        return Candidate(table, tuple(cols), desc if any(desc) else (),
                         opclass=ops if any(ops) else (), refs=tuple(dict.fromkeys(extra)),
                         **kw)  # type: ignore[arg-type]

    out: list[Candidate] = []
    base = make(eq + ranges[:1]) if eq or ranges else None
    if base:
        out.append(base)
    ordered = None
    if order and (eq or not ranges):
        cols = _unique(eq + [c for c, _ in order])
        desc = tuple([False] * len(eq) + [d for c, d in order if c not in eq])
        if len(cols) == len(desc):
            ordered = make(cols, desc)
            out.append(ordered)
    singles = [make([column]) for column in _unique(eq + ranges + joins)]
    out += singles
    if stmt.kind == "select":  # the inner side of a join is looked up by its join column
        keys = [k for k in (base, ordered) if k] or singles[:1]
        out += _covering(table, keys, projected, eq, ctx)
    if preds:
        where = " AND ".join(p for _, p in preds)
        keys = [k for k in (base, ordered) if k] or [make([preds[0][0]])]
        for key in keys:
            part = make(list(key.columns), key.descending, where=where)
            out.append(part)
            if stmt.kind == "select":
                out += [Candidate(table, c.columns, c.descending, c.include, where, refs=part.refs)
                        for c in _covering(table, [part], projected, eq, ctx)]
    out += _special(stmt, table, ctx)
    for column in ranges:
        fact = ctx.fact(table, column)
        if fact and fact.correlation is not None and abs(fact.correlation) > BRIN_CORRELATION:
            out.append(Candidate(table, (column,), method="brin"))
    if len(eq) == 1 and not ranges and not order and not eq[0].startswith("("):
        fact = ctx.fact(table, eq[0])
        if fact and (fact.avg_width or 0) >= HASH_MIN_WIDTH:
            out.append(Candidate(table, (eq[0],), method="hash"))
    return [c for c in out if not _unique_lookup(c, eq, ctx) or c.method != "btree"
            or not (c.include or c.where)]


def _shape_predicates(stmt: WorkloadStatement, table: str, ctx: _Context
                      ) -> tuple[list[tuple[str, str]], set[str]]:
    """(column, predicate SQL) of the statement's shape constants on ``table``."""
    preds: list[tuple[str, str]] = []
    for u in stmt.on(table, "constant", "constant_neq", "is_null", "is_not_null"):
        ok, why = shape_constant(ctx.fact(table, u.column), u.use, u.value)
        if ok:
            preds.append((u.column, _predicate(u)))
        elif u.use in ("constant", "constant_neq") and u.value not in ("TRUE", "FALSE"):
            ctx.notes.append(f"{_predicate(u)} is not a partial-index predicate: {why}")
    return list(dict.fromkeys(preds)), {c for c, _ in preds}


def _predicate(u: ColumnUse) -> str:
    column = sql.Identifier(u.column).as_string(None)
    if u.use == "is_null":
        return f"{column} IS NULL"
    if u.use == "is_not_null":
        return f"{column} IS NOT NULL"
    if u.value == "TRUE":
        return column
    if u.value == "FALSE":
        return f"NOT {column}"
    return f"{column} {'<>' if u.use == 'constant_neq' else '='} {u.value}"


def _covering(table: str, keys: list[Candidate], projected: list[str], eq: list[str],
              ctx: _Context) -> list[Candidate]:
    """The keys with the other projected columns as INCLUDE, and the same without the columns
    the workload updates (those would make the updates non-HOT)."""
    out = []
    updated = ctx.updated.get(table, set())
    for key in keys:
        if len(key.columns) < 2 and key is not keys[0]:
            continue
        include = tuple(c for c in projected if c not in key.columns)
        if not 0 < len(include) <= MAX_INCLUDE:
            continue
        out.append(Candidate(table, key.columns, key.descending, include, opclass=key.opclass,
                             refs=key.refs))
        cold = tuple(c for c in include if c not in updated)
        if cold != include and cold:
            out.append(Candidate(table, key.columns, key.descending, cold, opclass=key.opclass,
                                 refs=key.refs))
    return out


def _special(stmt: WorkloadStatement, table: str, ctx: _Context) -> list[Candidate]:
    """GIN, GiST and trigram candidates, by operator and column type."""
    out = []
    for u in stmt.on(table, "contains", "contained", "overlaps", "distance"):
        kind = ctx.type_of(table, u.column)
        if kind == "jsonb" and u.use in ("contains", "contained"):
            out.append(Candidate(table, (u.column,), method="gin"))
            if u.use == "contains":
                out.append(Candidate(table, (u.column,), method="gin", opclass=("jsonb_path_ops",)))
        elif kind.endswith("[]") or kind == "tsvector":
            if u.use != "distance":
                out.append(Candidate(table, (u.column,), method="gin"))
        elif kind.endswith("range") or kind.endswith("multirange") or kind in _GEOMETRY:
            out.append(Candidate(table, (u.column,), method="gist"))
    for u in stmt.on(table, "pattern"):
        if ctx.type_of(table, u.column) not in ("text", "character varying", "character"):
            continue
        if ctx.trigram:
            out.append(Candidate(table, (u.column,), method="gin", opclass=(ctx.trigram,)))
        else:
            ctx.notes.append(f"a substring or pattern match on {u.column} needs a trigram index:"
                             " CREATE EXTENSION pg_trgm, then advise again")
    return out


def _pattern_op(ctx: _Context, table: str, column: str) -> str:
    if not ctx.pattern_ops:
        return ""
    kind = ctx.type_of(table, column)
    return {"text": "text_pattern_ops", "character varying": "varchar_pattern_ops"}.get(kind, "")


def _unique_lookup(cand: Candidate, eq: list[str], ctx: _Context) -> bool:
    """The candidate's equality columns contain a whole unique key: it finds one row at most."""
    keys = set(cand.columns) & set(eq)
    return any(ix.relation == cand.table and ix.unique and ix.valid and not ix.predicate
               and set(ix.columns) <= keys for ix in ctx.existing)


def _covered_by(cand: Candidate, existing: list[ExistingIndex]) -> str | None:
    for index in existing:
        if index.relation != cand.table:
            continue
        if cand.include and not set(cand.include) <= set(index.columns) | set(index.include):
            continue
        if covers(index, cand.method, cand.columns, cand.descending, cand.where, cand.opclass):
            return f"{index.schema}.{index.name}"
    return None


def _unique(items: object) -> list[str]:
    return list(dict.fromkeys(items))  # type: ignore[arg-type]
