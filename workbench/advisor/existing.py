"""Existing indexes: read from the catalog, and judged safely.

What may be called a drop candidate, and what never is:

- An index that enforces a PRIMARY KEY, UNIQUE or EXCLUDE constraint, or any unique index, is never
  a drop candidate: when reads do not use it, it is listed apart as "unused by reads, enforces
  uniqueness".
- The referencing side of a foreign key (an index leading with the key's columns) is a drop
  candidate only when no statement of the workload deletes rows of the referenced table or updates
  their referenced key; otherwise the statements that need it are named (without it, each such
  delete or key update scans the referencing table).
- "Unused" is claimed only when the statistics cover a stated period (``min_days``, default 7):
  since the last statistics reset, else since the server started, and for a database the
  workbench loaded, since the load. A fresh load makes no unused claims.
- Duplicates and prefix-redundant indexes are compared on access method, key expressions, operator
  classes, collations, directions and NULLS order, predicate, and INCLUDE columns.
- INVALID indexes (a failed ``CREATE INDEX CONCURRENTLY``) are reported: never read, still written.
- Indexes on a column the workload's UPDATEs set are listed as making those updates non-HOT.

>>> with connect(dsn) as conn:                                   # doctest: +SKIP
...     indexes = existing_indexes(conn)
...     report = judge_existing(indexes, period=statistics_period(conn))
>>> report.redundant[0]["reason"]                                 # doctest: +SKIP
'prefix of orders.orders_customer_created_idx (customer_id, created_at)'
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg

MIN_STATS_DAYS = 7.0

_CATALOG = """
SELECT n.nspname, t.relname, c.relname, am.amname,
       i.indisunique, i.indisprimary, i.indisvalid,
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k + 1, true)
             FROM generate_subscripts(i.indkey, 1) AS k
             WHERE k < i.indnkeyatts ORDER BY k) AS keys,
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k + 1, true)
             FROM generate_subscripts(i.indkey, 1) AS k
             WHERE k >= i.indnkeyatts ORDER BY k) AS include,
       ARRAY(SELECT (i.indoption[k] & 1) = 1
             FROM generate_subscripts(i.indkey, 1) AS k
             WHERE k < i.indnkeyatts ORDER BY k) AS descending,
       pg_get_expr(i.indpred, i.indrelid, true) AS predicate,
       pg_relation_size(c.oid) AS size_bytes,
       coalesce(s.idx_scan, 0) AS idx_scan,
       pg_get_indexdef(i.indexrelid) AS ddl,
       coalesce((SELECT co.contype::text FROM pg_constraint co
                 WHERE co.conindid = i.indexrelid AND co.conrelid = i.indrelid
                   AND co.contype IN ('p', 'u', 'x') LIMIT 1), '') AS constraint_type,
       ARRAY(SELECT CASE WHEN opc.opcdefault THEN '' ELSE opc.opcname END
             FROM generate_subscripts(i.indclass, 1) AS k
             JOIN pg_opclass opc ON opc.oid = i.indclass[k]
             WHERE k < i.indnkeyatts ORDER BY k) AS opclasses,
       ARRAY(SELECT coalesce((SELECT co.collname FROM pg_collation co
                              WHERE co.oid = i.indcollation[k] AND co.oid NOT IN (0, 100)
                                AND co.oid <> coalesce((SELECT a.attcollation FROM pg_attribute a
                                                        WHERE a.attrelid = i.indrelid
                                                          AND a.attnum = i.indkey[k]
                                                          AND i.indkey[k] > 0), 100)), '')
             FROM generate_subscripts(i.indkey, 1) AS k
             WHERE k < i.indnkeyatts ORDER BY k) AS collations,
       ARRAY(SELECT (i.indoption[k] & 2) = 2
             FROM generate_subscripts(i.indkey, 1) AS k
             WHERE k < i.indnkeyatts ORDER BY k) AS nulls_first,
       ARRAY(SELECT a.attname FROM pg_attribute a
             WHERE a.attrelid = i.indrelid AND a.attnum > 0
               AND (a.attnum = ANY (i.indkey)
                    OR EXISTS (SELECT 1 FROM pg_depend d
                               WHERE d.classid = 'pg_class'::regclass AND d.objid = i.indexrelid
                                 AND d.refobjid = i.indrelid AND d.refobjsubid = a.attnum))
             ORDER BY a.attnum) AS touches,
       to_jsonb(s) ->> 'last_idx_scan' AS last_idx_scan
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_am am ON am.oid = c.relam
LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = i.indexrelid
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'workbench')
  AND n.nspname NOT LIKE 'pg_toast%%'
ORDER BY 1, 2, 3
"""

_FOREIGN_KEYS = """
SELECT co.conname, n.nspname || '.' || t.relname,
       ARRAY(SELECT a.attname FROM unnest(co.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = k.attnum
             ORDER BY k.ord),
       rn.nspname || '.' || rt.relname,
       ARRAY(SELECT a.attname FROM unnest(co.confkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = co.confrelid AND a.attnum = k.attnum
             ORDER BY k.ord)
FROM pg_constraint co
JOIN pg_class t ON t.oid = co.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_class rt ON rt.oid = co.confrelid
JOIN pg_namespace rn ON rn.oid = rt.relnamespace
WHERE co.contype = 'f' AND """

_CONSTRAINT = {"p": "PRIMARY KEY", "u": "UNIQUE constraint", "x": "EXCLUDE constraint"}


@dataclass(frozen=True)
class ExistingIndex:
    """An index as the catalog has it; columns are key expressions (plain names for columns)."""

    schema: str
    table: str
    name: str
    method: str
    columns: tuple[str, ...]
    include: tuple[str, ...] = ()
    descending: tuple[bool, ...] = ()
    predicate: str | None = None
    unique: bool = False
    primary: bool = False
    valid: bool = True
    size_bytes: int = 0
    idx_scan: int = 0
    ddl: str = ""
    constraint: str = ""  # "p", "u" or "x" when it enforces a constraint
    opclasses: tuple[str, ...] = ()  # per key column: "" for the type's default
    collations: tuple[str, ...] = ()  # per key column: "" for the column's own
    nulls_first: tuple[bool, ...] = ()
    touches: tuple[str, ...] = ()  # every column it reads: keys, INCLUDE, expressions, predicate
    last_idx_scan: str | None = None

    @property
    def relation(self) -> str:
        """ "schema.table" of the indexed table."""
        return f"{self.schema}.{self.table}"

    @property
    def backs_constraint(self) -> bool:
        """It enforces a PRIMARY KEY, UNIQUE or EXCLUDE constraint."""
        return bool(self.constraint)

    @property
    def enforces(self) -> str | None:
        """What it guarantees ("PRIMARY KEY", "unique index", ...), or None."""
        if self.constraint:
            return _CONSTRAINT[self.constraint]
        return "unique index" if self.unique else None

    def label(self) -> str:
        """ "schema.name (a, b)" for messages."""
        return f"{self.schema}.{self.name} ({', '.join(self.columns)})"

    def reads(self) -> frozenset[str]:
        """Columns whose change makes an UPDATE non-HOT."""
        return frozenset(self.touches or (*self.columns, *self.include))

    def shape(self) -> tuple[Any, ...]:
        """Everything that makes two indexes interchangeable for reads."""
        n = len(self.columns)
        return (self.method, tuple(normalize_expression(c) for c in self.columns),
                tuple(self.opclasses) or ("",) * n, tuple(self.collations) or ("",) * n,
                tuple(self.descending) or (False,) * n, tuple(self.nulls_first) or (False,) * n,
                normalize_expression(self.predicate or ""))


@dataclass(frozen=True)
class ForeignKey:
    """A foreign key: the referencing table's columns and the referenced ones."""

    name: str
    table: str
    columns: tuple[str, ...]
    references: str
    referenced: tuple[str, ...]


@dataclass(frozen=True)
class StatisticsPeriod:
    """How long the usage statistics (idx_scan) have been counting."""

    since: str | None  # ISO timestamp
    source: str  # "statistics reset", "server start", "load"
    days: float

    def covers(self, min_days: float) -> bool:
        """True when the period is long enough to call an index unused."""
        return self.since is not None and self.days >= min_days

    def describe(self) -> str:
        """ "12.0 days since 2026-11-14 (statistics reset)"."""
        return f"{self.days:.1f} days since {str(self.since)[:16]} ({self.source})"


@dataclass
class ExistingReport:
    """What the advisor says about indexes already there."""

    unused: list[dict[str, Any]] = field(default_factory=list)  # drop candidates
    redundant: list[dict[str, Any]] = field(default_factory=list)  # drop candidates
    enforces_uniqueness: list[dict[str, Any]] = field(default_factory=list)
    foreign_keys: list[dict[str, Any]] = field(default_factory=list)
    invalid: list[dict[str, Any]] = field(default_factory=list)
    hot_blockers: list[dict[str, Any]] = field(default_factory=list)
    statistics: dict[str, Any] = field(default_factory=dict)

    def drop_candidates(self) -> list[str]:
        """Every index the report calls a drop candidate."""
        names = [i["index"] for i in self.unused + self.redundant + self.invalid]
        names += [f["index"] for f in self.foreign_keys if f["drop_candidate"]]
        return list(dict.fromkeys(names))

    def to_json(self) -> dict[str, Any]:
        """The ``existing`` part of ``workbench advise --json``."""
        return asdict(self)


def existing_indexes(conn: psycopg.Connection[Any]) -> list[ExistingIndex]:
    """Every index of the user's schemas, with its key columns, predicate, size and scan count."""
    rows = conn.execute(_CATALOG).fetchall()
    return [
        ExistingIndex(
            schema=r[0], table=r[1], name=r[2], method=r[3], unique=r[4], primary=r[5], valid=r[6],
            columns=tuple(r[7]), include=tuple(r[8]), descending=tuple(r[9]), predicate=r[10],
            size_bytes=int(r[11]), idx_scan=int(r[12]), ddl=r[13], constraint=r[14],
            opclasses=tuple(r[15]), collations=tuple(r[16]), nulls_first=tuple(r[17]),
            touches=tuple(r[18]), last_idx_scan=r[19],
        )
        for r in rows
    ]


def foreign_keys(conn: psycopg.Connection[Any], oids: list[int] | None = None
                 ) -> list[ForeignKey]:
    """Every foreign key of the user's schemas (by name), or of the tables with these ``oids``
    (by table, then name: only those declared on the tables themselves, not the clones
    PostgreSQL keeps on each partition or for each partition of a referenced table)."""
    if oids is None:
        query = _FOREIGN_KEYS + ("n.nspname NOT IN ('pg_catalog', 'information_schema', "
                                 "'workbench') ORDER BY 1")
        rows = conn.execute(query).fetchall()
    else:
        rows = conn.execute(_FOREIGN_KEYS + "co.conrelid = ANY(%s) AND co.conparentid = 0 "
                            "ORDER BY 2, 1", [oids]).fetchall()
    return [ForeignKey(r[0], r[1], tuple(r[2]), r[3], tuple(r[4])) for r in rows]


def statistics_period(conn: psycopg.Connection[Any]) -> StatisticsPeriod:
    """Since when idx_scan has been counting in this database (the later of the last statistics
    reset, else the server start, and a workbench load)."""
    from workbench.databases import read_marker

    now, reset, started = conn.execute(
        "SELECT now(), (SELECT stats_reset FROM pg_stat_database "
        "WHERE datname = current_database()), pg_postmaster_start_time()").fetchone()
    since, source = (reset, "statistics reset") if reset else (started, "server start")
    loaded = (read_marker(conn) or {}).get("load_finished_at")
    if loaded:
        when = dt.datetime.fromisoformat(str(loaded))
        if when > since:
            since, source = when, "load"
    return StatisticsPeriod(since.isoformat(), source, (now - since).total_seconds() / 86400)


def covers(index: ExistingIndex, method: str, columns: tuple[str, ...],
           descending: tuple[bool, ...] = (), predicate: str | None = None,
           opclass: tuple[str, ...] = ()) -> bool:
    """True when ``index`` already serves an index on ``columns``: same method, predicate and
    operator classes, and the columns are a prefix of its key columns (btree: with the same or
    all-reversed ordering). Expressions are compared as normalised text.

    >>> ix = ExistingIndex("s", "t", "i", "btree", ("a", "b"))
    >>> covers(ix, "btree", ("a",)), covers(ix, "btree", ("b",))
    (True, False)
    >>> covers(ExistingIndex("s", "t", "i", "btree", ("lower(email)",)), "btree", ("(lower(email))",))
    True
    """
    if index.method != method or not index.valid or \
            normalize_expression(index.predicate or "") != normalize_expression(predicate or ""):
        return False
    own = tuple(normalize_expression(c) for c in index.columns)
    wanted = tuple(normalize_expression(c) for c in columns)
    n = len(wanted)
    own_ops = (tuple(index.opclasses) or ("",) * len(own))[:n]
    if own_ops != (tuple(opclass) or ("",) * n)[:n] or any(index.collations[:n] or ()):
        return False
    if method != "btree":
        return own == wanted
    if own[:n] != wanted:
        return False
    mine = tuple(index.descending[:n]) or (False,) * n
    want = tuple(descending) or (False,) * n
    return mine == want or mine == tuple(not d for d in want)


def judge_existing(indexes: list[ExistingIndex], *, statements: Iterable[Any] = (),
                   fks: Iterable[ForeignKey] = (), period: StatisticsPeriod | None = None,
                   min_days: float = MIN_STATS_DAYS) -> ExistingReport:
    """The safe judgement of existing indexes described in the module docstring.

    ``statements``: the workload's ``WorkloadStatement``s; ``period``: how long idx_scan has been
    counting (None: unknown, so nothing is called unused).
    """
    statements = [s for s in statements if not s.error]
    report = ExistingReport()
    covered = period is not None and period.covers(min_days)
    report.statistics = {
        "since": period.since if period else None, "source": period.source if period else None,
        "days": round(period.days, 2) if period else None, "min_days": min_days,
        "covers_period": covered,
        "note": (f"unused means no scans in the {period.describe()}" if covered and period else
                 "statistics cover " + (period.describe() if period else "an unknown period") +
                 f": fewer than {min_days:g} days, so no index is called unused"),
    }
    fk_side = _foreign_key_sides(indexes, list(fks), statements)
    for index in indexes:
        name = f"{index.schema}.{index.name}"
        base = {"index": name, "table": index.relation, "size_bytes": index.size_bytes}
        if not index.valid:
            report.invalid.append({**base, "reason": "INVALID (a failed CREATE INDEX "
                                   "CONCURRENTLY?): never used by reads, still updated by writes; "
                                   "drop it concurrently and build it again"})
            continue
        hot = _hot_blocked(index, statements)
        if hot:
            report.hot_blockers.append({**base, "statements": hot, "reason": "makes "
                                        + "; ".join(hot) + " non-HOT"})
        keeper = None if index.enforces else next(
            ((o, r) for o in indexes if o is not index and o.relation == index.relation
             and o.valid and (r := _redundant_because(index, o))), None)
        if keeper:
            other, reason = keeper
            if name in fk_side:
                reason += f" (which also serves foreign key {fk_side[name]['constraint']})"
            report.redundant.append({**base, "reason": reason, "kept": other.name})
            continue
        unused = covered and index.idx_scan == 0 and period is not None
        if index.enforces:
            if unused and period is not None:
                report.enforces_uniqueness.append({
                    **base, "enforces": index.enforces,
                    "reason": f"unused by reads in the {period.describe()}, enforces uniqueness "
                              f"({index.enforces}): not a drop candidate"})
        elif name in fk_side:
            entry = fk_side[name]
            entry["drop_candidate"] = bool(unused and not entry["needed_by"])
            if entry["drop_candidate"] and period is not None:
                entry["reason"] += f"; no scans in the {period.describe()}: a drop candidate"
            report.foreign_keys.append({**base, **entry})
        elif unused and period is not None:
            report.unused.append({**base, "reason": f"no scans in the {period.describe()}"})
    return report


def _foreign_key_sides(indexes: list[ExistingIndex], fks: list[ForeignKey],
                       statements: list[Any]) -> dict[str, dict[str, Any]]:
    """Referencing-side indexes of foreign keys, with the statements that need each."""
    out: dict[str, dict[str, Any]] = {}
    for fk in fks:
        needed = _statements_needing(fk, statements)
        for index in indexes:
            if index.relation != fk.table or index.predicate or not index.valid \
                    or index.method not in ("btree", "hash"):
                continue
            lead = set(index.columns[: len(fk.columns)])
            if lead != set(fk.columns) or index.enforces:
                continue
            reason = (f"supports foreign key {fk.name} ({', '.join(fk.columns)}) -> "
                      f"{fk.references}: " + (
                          "needed by " + ", ".join(needed) + " (without it each such delete or "
                          "key update scans " + fk.table + ")" if needed else
                          "no statement of the workload deletes or re-keys " + fk.references))
            out[f"{index.schema}.{index.name}"] = {
                "constraint": fk.name, "references": fk.references, "needed_by": needed,
                "drop_candidate": False, "reason": reason}
    return out


def _statements_needing(fk: ForeignKey, statements: list[Any]) -> list[str]:
    out = []
    for stmt in statements:
        if stmt.writes != fk.references:
            continue
        if stmt.kind == "delete" or (stmt.kind == "update"
                                     and set(fk.referenced) & set(stmt.written_columns())):
            out.append(stmt.name)
    return out


def _hot_blocked(index: ExistingIndex, statements: list[Any]) -> list[str]:
    out = []
    for stmt in statements:
        if stmt.kind == "update" and stmt.writes == index.relation:
            hit = sorted(index.reads() & stmt.written_columns())
            if hit:
                out.append(f"{stmt.name}'s UPDATE of {index.table}.{', '.join(hit)}")
    return out


def made_redundant(indexes: list[ExistingIndex], relation: str, method: str,
                   columns: tuple[str, ...]) -> list[ExistingIndex]:
    """Existing indexes that a new index on ``columns`` would make redundant (their keys are a
    prefix of the new one's, same default operator classes), unless they enforce something."""
    wanted = tuple(normalize_expression(c) for c in columns)
    out = []
    for ix in indexes:
        own = tuple(normalize_expression(c) for c in ix.columns)
        if ix.relation == relation and ix.method == method == "btree" and not ix.enforces \
                and ix.valid and not ix.predicate and not any(ix.opclasses) \
                and not any(ix.collations) and own == wanted[: len(own)] and own != wanted \
                and set(ix.include) <= set(columns):
            out.append(ix)
    return out


def _redundant_because(index: ExistingIndex, other: ExistingIndex) -> str | None:
    """Why ``index`` (enforcing nothing) is not needed beside ``other``, or None."""
    mine, theirs = index.shape(), other.shape()
    if mine[0] != theirs[0] or mine[6] != theirs[6]:  # access method, predicate
        return None
    if mine == theirs and set(index.include) <= set(other.include):
        if set(index.include) == set(other.include) and not other.enforces \
                and index.name < other.name:
            return None  # of two identical indexes, the later name is reported
        return f"duplicate of {other.schema}.{other.name}"
    n = len(index.columns)
    if index.method != "btree" or n >= len(other.columns):
        return None
    same_keys = all(mine[k] == theirs[k][:n] for k in (1, 2, 3))  # keys, opclasses, collations
    same_order = mine[4] == theirs[4][:n] and mine[5] == theirs[5][:n]
    backwards = mine[4] == tuple(not d for d in theirs[4][:n]) and \
        mine[5] == tuple(not d for d in theirs[5][:n])
    if not (same_keys and (same_order or backwards)):
        return None
    if not set(index.include) <= set(other.columns) | set(other.include):
        return None
    return f"prefix of {other.label()}"


def normalize_expression(text: str) -> str:
    """Index expressions compared as text: no outer parentheses, no casts of string literals,
    spaces or case outside the literals.

    >>> normalize_expression("(date_trunc('day'::text, Created_At))")
    "date_trunc('day',created_at)"
    >>> normalize_expression("status = 'A'") == normalize_expression("status = 'a'")
    False
    """
    parts = re.split(r"('(?:[^']|'')*')", text)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(part)
        else:
            part = re.sub(r"^::[a-z ]+?(?=[^a-z ]|$)", "", part.lower()) if i else part.lower()
            part = re.sub(r'"([a-z_][a-z0-9_$]*)"', r"\1", part)
            out.append(re.sub(r"\s+", "", part))
    text = "".join(out)
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1]
    return text


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if depth < 0:
            return False
    return depth == 0
