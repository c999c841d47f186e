"""Build and drop indexes the safe way: CONCURRENTLY, timed and sized, never leaving one INVALID.

A failed or interrupted ``CREATE INDEX CONCURRENTLY`` leaves an INVALID index behind that still
slows every write; here any such leftover is dropped before the error is reported.

>>> built = build_index(dsn, "CREATE INDEX orders_customer_idx ON orders.orders (customer_id)")  # doctest: +SKIP
>>> built.size_bytes, round(built.seconds, 1)  # doctest: +SKIP
(2269184, 0.4)
>>> drop_index(dsn, built.schema, built.name)  # doctest: +SKIP
True
"""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import asdict, dataclass
from typing import Any

import psycopg
from psycopg import sql

from workbench.connect import connect
from workbench.databases import require_owned
from workbench.errors import WorkbenchError

_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)'
_CREATE_INDEX = re.compile(
    rf"^\s*CREATE\s+(?P<unique>UNIQUE\s+)?INDEX\s+(?P<concurrently>CONCURRENTLY\s+)?"
    rf"(?P<ifnot>IF\s+NOT\s+EXISTS\s+)?(?P<name>{_IDENT})\s+ON\s+(?:ONLY\s+)?"
    rf"(?P<table>(?:{_IDENT}\s*\.\s*)?{_IDENT})",
    re.IGNORECASE | re.DOTALL,
)


@dataclass
class IndexSpec:
    """An index to build: where, what it is called, and its DDL (always CONCURRENTLY)."""

    schema: str
    table: str
    name: str
    ddl: str

    @classmethod
    def from_ddl(cls, ddl: str, default_schema: str = "public") -> IndexSpec:
        """Read a CREATE INDEX statement; add CONCURRENTLY when it is missing.

        >>> IndexSpec.from_ddl("create index o_idx on orders.orders (customer_id)").ddl
        'create index CONCURRENTLY o_idx on orders.orders (customer_id)'
        """
        text = ddl.strip().rstrip(";").strip()
        match = _CREATE_INDEX.match(text)
        if not match:
            raise WorkbenchError(
                f"not a named CREATE INDEX statement: {text[:80]!r}",
                "write CREATE INDEX name ON schema.table (...); unnamed indexes cannot be dropped "
                "reliably",
            )
        parts = [_unquote(p.strip()) for p in _split_qualified(match.group("table"))]
        schema, table = (parts[0], parts[1]) if len(parts) == 2 else (default_schema, parts[0])
        if not match.group("concurrently"):
            at = match.start("name") - (len(match.group("ifnot") or ""))
            text = f"{text[:at]}CONCURRENTLY {text[at:]}"
        return cls(schema, table, _unquote(match.group("name")), text)


@dataclass
class BuiltIndex:
    """An index that was built: how long it took and how big it is."""

    schema: str
    table: str
    name: str
    ddl: str
    seconds: float
    size_bytes: int

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form."""
        return asdict(self)


def build_index(
    dsn: str | None, ddl: str | IndexSpec, *, allow_destructive: bool = False
) -> BuiltIndex:
    """Build one index CONCURRENTLY; on any failure drop what it left behind, then raise.

    >>> build_index(dsn, "CREATE INDEX c_email_idx ON accounts.customers (email)")  # doctest: +SKIP
    BuiltIndex(schema='accounts', table='customers', name='c_email_idx', ...)
    """
    spec = ddl if isinstance(ddl, IndexSpec) else IndexSpec.from_ddl(ddl)
    with connect(dsn) as conn:
        require_owned(conn, allow_destructive, f"build index {spec.name}")
        started = time.perf_counter()
        try:
            conn.execute(spec.ddl)  # type: ignore[arg-type]  # DDL text given by the user/advisor
        except (psycopg.Error, KeyboardInterrupt) as exc:
            _drop_if_invalid(dsn, spec)
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise WorkbenchError(
                f"building index {spec.name} on {spec.schema}.{spec.table} failed: "
                f"{str(exc).splitlines()[0]}",
                "nothing was left behind; fix the statement or the data and try again",
            ) from None
        seconds = time.perf_counter() - started
        size = index_size(conn, spec.schema, spec.name)
    return BuiltIndex(spec.schema, spec.table, spec.name, spec.ddl, seconds, size)


def build_all(dsn: str | None, ddls: list[str], *, allow_destructive: bool = False
              ) -> list[BuiltIndex]:
    """Build several indexes; when one fails (or Ctrl-C), drop those already built, then raise:
    all or nothing, never a half-built set left behind.

    >>> build_all(dsn, ["CREATE INDEX a_idx ON t (a)", "CREATE INDEX b_idx ON t (b)"])  # doctest: +SKIP
    """
    built: list[BuiltIndex] = []
    try:
        for ddl in ddls:
            built.append(build_index(dsn, ddl, allow_destructive=allow_destructive))
    except BaseException:
        for index in built:
            with contextlib.suppress(Exception):
                drop_index(dsn, index.schema, index.name, allow_destructive=allow_destructive)
        raise
    return built


def drop_index(
    dsn: str | None, schema: str, name: str, *, allow_destructive: bool = False
) -> bool:
    """DROP INDEX CONCURRENTLY IF EXISTS; True when there was one to drop."""
    with connect(dsn) as conn:
        require_owned(conn, allow_destructive, f"drop index {name}")
        existed = index_size(conn, schema, name) >= 0
        conn.execute(
            sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}.{}").format(
                sql.Identifier(schema), sql.Identifier(name)
            )
        )
    return existed


def index_size(conn: psycopg.Connection[Any], schema: str, name: str) -> int:
    """Size of an index in bytes, or -1 when there is none of that name."""
    row = conn.execute(
        "SELECT pg_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s AND c.relkind = 'i'",
        [schema, name],
    ).fetchone()
    return int(row[0]) if row else -1


def invalid_indexes(conn: psycopg.Connection[Any]) -> list[str]:
    """Every INVALID index of the database, as "schema.name"."""
    rows = conn.execute(
        "SELECT n.nspname || '.' || c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT i.indisvalid ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def _drop_if_invalid(dsn: str | None, spec: IndexSpec) -> None:
    # A fresh connection: the one that failed may be mid-cancel.
    with connect(dsn) as conn:
        row = conn.execute(
            "SELECT NOT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
            [spec.schema, spec.name],
        ).fetchone()
        if row and row[0]:
            conn.execute(
                sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}.{}").format(
                    sql.Identifier(spec.schema), sql.Identifier(spec.name)
                )
            )


def _split_qualified(name: str) -> list[str]:
    return [p for p in re.findall(r'"(?:[^"]|"")+"|[^.\s]+', name)]


def _unquote(ident: str) -> str:
    if ident.startswith('"') and ident.endswith('"'):
        return ident[1:-1].replace('""', '"')
    return ident.lower()
