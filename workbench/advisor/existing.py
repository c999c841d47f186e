"""Existing indexes: read from the catalog, and judged: unused, duplicate, prefix-redundant.

>>> with connect(dsn) as conn:                                   # doctest: +SKIP
...     indexes = existing_indexes(conn)
...     report = judge_existing(indexes)
>>> report.redundant[0]["reason"]                                 # doctest: +SKIP
'prefix of orders.orders_customer_created_idx (customer_id, created_at)'
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg

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
       EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conindid = i.indexrelid) AS backs_constraint
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
    backs_constraint: bool = False

    @property
    def relation(self) -> str:
        """ "schema.table" of the indexed table."""
        return f"{self.schema}.{self.table}"

    def label(self) -> str:
        """ "schema.name (a, b)" for messages."""
        return f"{self.schema}.{self.name} ({', '.join(self.columns)})"


@dataclass
class ExistingReport:
    """What the advisor says about indexes already there."""

    unused: list[dict[str, Any]] = field(default_factory=list)
    redundant: list[dict[str, Any]] = field(default_factory=list)

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
            size_bytes=int(r[11]), idx_scan=int(r[12]), ddl=r[13], backs_constraint=r[14],
        )
        for r in rows
    ]


def covers(index: ExistingIndex, method: str, columns: tuple[str, ...],
           descending: tuple[bool, ...] = (), predicate: str | None = None) -> bool:
    """True when ``index`` already serves an index on ``columns``: same method and predicate, and
    the columns are a prefix of its key columns (btree: with the same or all-reversed ordering).

    >>> ix = ExistingIndex("s", "t", "i", "btree", ("a", "b"))
    >>> covers(ix, "btree", ("a",)), covers(ix, "btree", ("b",))
    (True, False)
    """
    if index.method != method or (index.predicate or None) != (predicate or None) or not index.valid:
        return False
    if method != "btree":
        return index.columns == columns
    if index.columns[: len(columns)] != columns:
        return False
    own = tuple(index.descending[: len(columns)]) or (False,) * len(columns)
    wanted = tuple(descending) or (False,) * len(columns)
    return own == wanted or own == tuple(not d for d in wanted)


def judge_existing(indexes: list[ExistingIndex], *, scans_known: bool = True) -> ExistingReport:
    """Unused (no scans, not backing a constraint), duplicate and prefix-redundant indexes.

    ``scans_known`` is False when statistics were reset too recently to call anything unused.
    """
    report = ExistingReport()
    for index in indexes:
        if scans_known and index.idx_scan == 0 and not index.backs_constraint:
            report.unused.append({
                "index": f"{index.schema}.{index.name}", "table": index.relation,
                "size_bytes": index.size_bytes, "reason": "no scans since statistics were reset",
            })
        for other in indexes:
            if other is index or other.relation != index.relation or index.backs_constraint:
                continue
            reason = _redundant_because(index, other)
            if reason:
                report.redundant.append({
                    "index": f"{index.schema}.{index.name}", "table": index.relation,
                    "size_bytes": index.size_bytes, "reason": reason, "kept": other.name,
                })
                break
    return report


def made_redundant(indexes: list[ExistingIndex], relation: str, method: str,
                   columns: tuple[str, ...]) -> list[ExistingIndex]:
    """Existing indexes that a new index on ``columns`` would make redundant (their keys are a
    prefix of the new one's), unless they back a constraint."""
    return [
        ix for ix in indexes
        if ix.relation == relation and ix.method == method == "btree" and not ix.backs_constraint
        and not ix.predicate and ix.columns == columns[: len(ix.columns)] and ix.columns != columns
    ]


def _redundant_because(index: ExistingIndex, other: ExistingIndex) -> str | None:
    if index.method != other.method or (index.predicate or None) != (other.predicate or None):
        return None
    same = (index.columns, index.descending, index.include) == (
        other.columns, other.descending, other.include)
    if same:
        # Of two identical indexes report the later name, so exactly one of the pair is flagged.
        return f"duplicate of {other.schema}.{other.name}" if index.name > other.name else None
    if index.method == "btree" and len(index.columns) < len(other.columns) and not index.unique \
            and covers(other, "btree", index.columns, index.descending) and not index.include:
        return f"prefix of {other.label()}"
    return None
