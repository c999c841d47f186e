"""What the catalog and the planner's statistics say about each column, for candidate generation.

Three questions need them: is a column's physical order correlated with its values (BRIN), what
type is it (GIN for jsonb and arrays, GiST for ranges and geometry, trigram for text), and is a
literal in a statement part of the statement's *shape* (``status = 'pending'``, a rare value of a
small set: a partial-index predicate that serves every call) or a value that is a parameter in
production (``member_id = 4242``, ``email = 'x@example.com'``: one key among many; an index for
that one value would serve one customer). Keys (primary, unique and foreign-key columns, and
columns named like ids, e-mails or references) are always parameters.

>>> facts = ColumnFacts("shop.orders", "status", "text", distinct=5, null_frac=0.0,
...                     mcv={"pending": 0.01, "delivered": 0.9})
>>> facts.value_share("'pending'"), shape_constant(facts, "constant", "'pending'")[0]
(0.01, True)
>>> ids = ColumnFacts("lib.loans", "member_id", "bigint", distinct=5000, null_frac=0.0)
>>> shape_constant(ids, "constant", "4242")
(False, 'member_id looks like a key: treated as a parameter')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

CATEGORICAL_MAX_DISTINCT = 100  # a column with more distinct values is a key, not a category
PARTIAL_MAX_SHARE = 0.2  # a partial predicate must keep at most this share of the table's rows
_KEY_NAME = re.compile(r"(^id$|_id$|uuid|e_?mail|_ref$|_token$|_key$)", re.IGNORECASE)

_STATS = """
SELECT s.schemaname || '.' || s.tablename, s.attname, s.null_frac, s.n_distinct, s.avg_width,
       s.correlation, (s.most_common_vals::text)::text[], s.most_common_freqs,
       greatest(c.reltuples, 0)
FROM pg_stats s
JOIN pg_namespace n ON n.nspname = s.schemaname
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = s.tablename
WHERE s.schemaname NOT IN ('pg_catalog', 'information_schema', 'workbench') AND NOT s.inherited
"""

_COLUMNS = """
SELECT table_schema || '.' || table_name, column_name, data_type, udt_name, is_nullable = 'YES'
FROM information_schema.columns
WHERE table_schema NOT IN ('pg_catalog', 'information_schema', 'workbench')
"""

_KEYS = """
SELECT n.nspname || '.' || t.relname, a.attname
FROM pg_constraint co
JOIN pg_class t ON t.oid = co.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = ANY (co.conkey)
WHERE co.contype IN ('p', 'u', 'f')
UNION
SELECT n.nspname || '.' || t.relname, a.attname
FROM pg_index i
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
WHERE i.indisunique AND i.indpred IS NULL
"""


@dataclass(frozen=True)
class ColumnFacts:
    """One column: its type and the planner's statistics (None where ANALYZE has none)."""

    table: str
    column: str
    data_type: str
    distinct: float | None = None  # estimated number of distinct values
    null_frac: float | None = None
    correlation: float | None = None
    avg_width: int | None = None
    mcv: dict[str, float] = field(default_factory=dict)  # most common values (as text) -> share
    nullable: bool = True
    key: bool = False  # part of a primary, unique or foreign key

    def value_share(self, literal: str) -> float | None:
        """Estimated share of rows equal to a SQL literal (``'paid'``, ``42``, ``TRUE``)."""
        value = _literal_text(literal, self.data_type)
        if value is None or self.distinct is None or self.null_frac is None:
            return None
        if value in self.mcv:
            return self.mcv[value]
        rest = max(1.0 - sum(self.mcv.values()) - self.null_frac, 0.0)
        return rest / max(self.distinct - len(self.mcv), 1.0)

    def predicate_share(self, use: str, literal: str | None) -> float | None:
        """Share of rows a constant predicate keeps: ``constant`` (=), ``constant_neq`` (<>),
        ``is_null``, ``is_not_null``."""
        if self.null_frac is None:
            return None
        if use == "is_null":
            return self.null_frac
        if use == "is_not_null":
            return 1.0 - self.null_frac
        share = self.value_share(literal or "")
        if share is None:
            return None
        return share if use == "constant" else max(1.0 - share - self.null_frac, 0.0)


def shape_constant(facts: ColumnFacts | None, use: str, literal: str | None) -> tuple[bool, str]:
    """Whether a constant predicate may become a partial-index predicate, and why (not)."""
    if facts is None:
        return False, "no statistics for the column"
    name = facts.column
    if use in ("is_null", "is_not_null"):
        if not facts.nullable:
            return False, f"{name} is NOT NULL"
    elif facts.key or _KEY_NAME.search(name):
        return False, f"{name} looks like a key: treated as a parameter"
    elif facts.distinct is None or facts.distinct > CATEGORICAL_MAX_DISTINCT:
        return False, f"{name} has many distinct values: treated as a parameter"
    share = facts.predicate_share(use, literal)
    if share is None:
        return False, f"no statistics for {name}"
    if share > PARTIAL_MAX_SHARE:
        return False, f"keeps {share:.0%} of the rows: a partial index would not be small"
    return True, f"keeps {share:.1%} of the rows"


def read_column_facts(conn: Any) -> dict[str, ColumnFacts]:
    """Every user column's facts, by "schema.table.column"."""
    types = {(t, c): (kind, udt, nullable) for t, c, kind, udt, nullable
             in conn.execute(_COLUMNS).fetchall()}
    keys = set(conn.execute(_KEYS).fetchall())
    stats: dict[tuple[str, str], tuple[Any, ...]] = {
        (r[0], r[1]): r[2:] for r in conn.execute(_STATS).fetchall()}
    out: dict[str, ColumnFacts] = {}
    for (table, column), (kind, udt, nullable) in types.items():
        data_type = udt.lstrip("_") + "[]" if kind == "ARRAY" else kind
        row = stats.get((table, column))
        facts = ColumnFacts(table, column, data_type, nullable=bool(nullable),
                            key=(table, column) in keys)
        if row:
            null_frac, n_distinct, width, corr, values, freqs, reltuples = row
            distinct = float(n_distinct) if n_distinct >= 0 else -float(n_distinct) * float(reltuples)
            facts = ColumnFacts(table, column, data_type, distinct, float(null_frac),
                                None if corr is None else float(corr), int(width or 0),
                                dict(zip(values or [], map(float, freqs or []), strict=False)),
                                bool(nullable), (table, column) in keys)
        out[f"{table}.{column}"] = facts
    return out


def _literal_text(literal: str, data_type: str) -> str | None:
    """The text PostgreSQL prints for a SQL literal's value (as pg_stats lists values)."""
    text = literal.strip()
    cast = re.match(r"(?is)^CAST\((.*) AS [^)]*\)$", text)
    if cast:
        text = cast.group(1).strip()
    if text.upper() in ("TRUE", "FALSE"):
        return "t" if text.upper() == "TRUE" else "f"
    if text.startswith("'") and text.endswith("'") and len(text) >= 2:
        value = text[1:-1].replace("''", "'")
        if data_type == "boolean":
            return "t" if value.lower() in ("t", "true", "yes", "on", "1") else "f"
        return value
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return text
    return None
