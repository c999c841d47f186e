"""What the importer reads from the source server: catalog, planner statistics, statements, schema.

Everything here reads the system catalogs, ``pg_stats``, ``pg_stat_statements`` and the output of
``pg_dump --schema-only``; no query reads a row of a user table, and the session is read-only
(``default_transaction_read_only``), so the source cannot be changed by mistake. ``pg_stats`` only
shows the columns the role may SELECT (PostgreSQL's own rule), so the role needs that privilege
(or ``pg_read_all_data``) even though it never uses it; statements of other roles in
``pg_stat_statements`` need ``pg_read_all_stats``.

>>> with source_connection(dsn) as conn:                     # doctest: +SKIP
...     tables = read_tables(conn, ["orders"])
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from workbench.advisor.existing import ForeignKey, foreign_keys
from workbench.connect import connection_error
from workbench.dsn import describe, libpq_env
from workbench.errors import WorkbenchError
from workbench.tools import pg_bin, tool_version

# Schemas never imported: the system's and the workbench's own marker schema.
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast", "workbench")
READ_ALL_STATS = "pg_read_all_stats"
READ_ALL_DATA = "pg_read_all_data"


@dataclass(frozen=True)
class ColumnStats:
    """One row of ``pg_stats``: what ANALYZE saw of a column (arrays kept as PostgreSQL text)."""

    null_frac: float
    avg_width: int
    n_distinct: float
    mcv: list[str] | None = None          # most common values, each as its text form
    mcv_array: str | None = None          # the same, as PostgreSQL's array literal
    mcf: list[float] | None = None        # their frequencies (fractions of all rows)
    histogram: list[str] | None = None    # histogram bounds, each as text
    histogram_array: str | None = None    # the same, as an array literal
    correlation: float | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form (values as text)."""
        return {"null_frac": self.null_frac, "avg_width": self.avg_width,
                "n_distinct": self.n_distinct, "mcv": self.mcv, "mcf": self.mcf,
                "histogram": self.histogram, "correlation": self.correlation}


@dataclass
class SourceColumn:
    """A column of an imported table."""

    name: str
    type_sql: str          # format_type(), schema-qualified where needed
    base_type: str         # pg_type.typname of the type (or of a domain's base type)
    category: str          # pg_type.typcategory of the base type
    is_array: bool
    not_null: bool
    identity: str = ""     # 'a' always, 'd' by default
    generated: str = ""    # 's' stored, 'v' virtual
    default: str | None = None
    typmod: int = -1
    stattarget: int | None = None   # ALTER COLUMN ... SET STATISTICS (None: the default)
    stats: ColumnStats | None = None


@dataclass
class SourceTable:
    """An imported table: size, columns and keys."""

    schema: str
    name: str
    oid: int
    rows: int              # reltuples (-1: never analysed)
    pages: int
    bytes: int
    columns: list[SourceColumn] = field(default_factory=list)
    unique: list[tuple[str, ...]] = field(default_factory=list)   # PK and unique indexes
    analyzed: bool = True
    partitioned: bool = False
    # A partitioned table: its partitioning strategies (the root's and every sub-level's: range,
    # list, hash), its leaf partitions (schema.table) and those outside the imported schemas;
    # and whose statistics stand for it when it was never analysed itself.
    strategies: tuple[str, ...] = ()
    partitions: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    stats_from: str | None = None
    partition_of: str | None = None   # a leaf partition: its partitioned root
    bound: str = ""                   # a leaf partition: FOR VALUES ...
    foreign: bool = False             # a leaf partition that is a foreign table

    @property
    def qualified(self) -> str:
        """``schema.table``."""
        return f"{self.schema}.{self.name}"

    def column(self, name: str) -> SourceColumn | None:
        """A column by name."""
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class SourceStatement:
    """A normalized statement of ``pg_stat_statements``."""

    queryid: int
    query: str
    calls: int
    total_ms: float
    mean_ms: float
    rows: int


@contextmanager
def source_connection(dsn: str) -> Iterator[psycopg.Connection[Any]]:
    """A read-only session on the source with stable output formats, in one snapshot.

    The whole import reads inside one REPEATABLE READ READ ONLY transaction, whose snapshot
    pg_dump shares (``--snapshot``), so schema and statistics describe the same moment.
    """
    try:
        conn = psycopg.connect(dsn, autocommit=True, connect_timeout=10,
                               application_name="workbench import")
    except psycopg.OperationalError as exc:
        raise connection_error(dsn, exc) from None
    try:
        conn.execute("SET default_transaction_read_only = on")
        conn.execute("SET search_path = pg_catalog")   # format_type() qualifies every other type
        conn.execute("SET DateStyle = ISO")
        conn.execute("SET extra_float_digits = 3")
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield conn
    finally:
        with suppress(psycopg.Error):
            conn.execute("ROLLBACK")
        conn.close()


def default_schemas(conn: psycopg.Connection[Any]) -> list[str]:
    """Schemas holding at least one table, except the system's and the workbench's own."""
    rows = conn.execute(
        "SELECT DISTINCT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname <> ALL(%s) AND n.nspname !~ '^pg_' "
        "ORDER BY 1", [list(SYSTEM_SCHEMAS)]).fetchall()
    return [r[0] for r in rows]


def check_schemas(conn: psycopg.Connection[Any], schemas: list[str]) -> None:
    """Every named schema exists and is readable by this role."""
    for schema in schemas:
        row = conn.execute("SELECT has_schema_privilege(oid, 'USAGE') FROM pg_namespace "
                           "WHERE nspname = %s", [schema]).fetchone()
        if row is None:
            raise WorkbenchError(f"schema {schema!r} does not exist on {describe(conn.info.dsn)}",
                                 "list the schemas to import with --schemas")
        if not row[0]:
            raise WorkbenchError(f"role {conn.info.user} may not use schema {schema!r}",
                                 f"GRANT USAGE ON SCHEMA {schema} TO {conn.info.user}")


def read_tables(conn: psycopg.Connection[Any], schemas: list[str]) -> list[SourceTable]:
    """Tables of the schemas, with sizes, columns, keys and ``pg_stats`` (no row is read); a
    partitioned table is followed by its leaf partitions (those in the schemas)."""
    rows = conn.execute(
        "SELECT c.oid, n.nspname, c.relname, c.reltuples, c.relpages, pg_table_size(c.oid), "
        "       c.relkind "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname = ANY(%s) "
        "ORDER BY 2, 3", [schemas]).fetchall()
    tables = [SourceTable(schema, name, oid, max(int(reltuples), -1), int(pages), int(size or 0),
                          analyzed=reltuples >= 0, partitioned=kind == "p")
              for oid, schema, name, reltuples, pages, size, kind in rows]
    tables = _with_partitions(conn, tables, schemas)
    by_oid = {t.oid: t for t in tables}
    _read_columns(conn, by_oid)
    _read_unique(conn, by_oid)
    _read_stats(conn, schemas, {t.qualified: t for t in tables})
    _root_statistics(tables)
    return tables


_STRATEGIES = {"r": "range", "l": "list", "h": "hash"}


def _with_partitions(conn: psycopg.Connection[Any], tables: list[SourceTable],
                     schemas: list[str]) -> list[SourceTable]:
    """Each partitioned table followed by its leaf partitions (``pg_partition_tree``): their
    sizes and bounds; the root's row count is theirs when the root was never analysed (autovacuum
    never analyses a partitioned table)."""
    roots = {t.oid: t for t in tables if t.partitioned}
    if not roots:
        return tables
    for root_oid, strategies in conn.execute(
            "SELECT r.oid, array_agg(DISTINCT p.partstrat::text ORDER BY p.partstrat::text) "
            "FROM unnest(%s::oid[]) AS r(oid), pg_partition_tree(r.oid) AS t "
            "JOIN pg_partitioned_table p ON p.partrelid = t.relid GROUP BY r.oid",
            [list(roots)]).fetchall():
        roots[root_oid].strategies = tuple(_STRATEGIES.get(s, s) for s in strategies)
    leaves: dict[int, list[SourceTable]] = {oid: [] for oid in roots}
    for root_oid, oid, schema, name, reltuples, pages, size, kind, bound in conn.execute(
            "SELECT r.oid, c.oid, n.nspname, c.relname, c.reltuples, c.relpages, "
            "       pg_table_size(c.oid), c.relkind, pg_get_expr(c.relpartbound, c.oid) "
            "FROM unnest(%s::oid[]) AS r(oid), pg_partition_tree(r.oid) AS t "
            "JOIN pg_class c ON c.oid = t.relid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE t.isleaf ORDER BY r.oid, 3, 4", [list(roots)]).fetchall():
        root = roots[root_oid]
        leaf = SourceTable(schema, name, oid, max(int(reltuples), -1), int(pages),
                           int(size or 0), analyzed=reltuples >= 0 or kind == "f",
                           partition_of=root.qualified, bound=str(bound or ""),
                           foreign=kind == "f")
        root.partitions.append(leaf.qualified)
        if schema in schemas:
            leaves[root_oid].append(leaf)
        else:
            root.outside.append(leaf.qualified)
    out = []
    for table in tables:
        out.append(table)
        if table.partitioned:
            parts = leaves[table.oid]
            out += parts
            if any(p.analyzed for p in parts):  # the root's own reltuples may be stale or -1
                table.rows = sum(max(0, p.rows) for p in parts)
                table.analyzed = True
            table.pages = sum(p.pages for p in parts)
            table.bytes = sum(p.bytes for p in parts)
    return out


def _root_statistics(tables: list[SourceTable]) -> None:
    """A partitioned table never analysed itself (no inherited ``pg_stats``) described by its
    largest analysed partition's statistics: they are only used to draw the workload's
    parameters, never to generate rows."""
    by_name = {t.qualified: t for t in tables}
    for root in tables:
        if not root.partitioned or any(c.stats for c in root.columns):
            continue
        analysed = [by_name[p] for p in root.partitions
                    if p in by_name and by_name[p].analyzed and by_name[p].rows > 0]
        if not analysed:
            continue
        largest = max(analysed, key=lambda t: t.rows)
        for column in root.columns:
            leaf_column = largest.column(column.name)
            column.stats = leaf_column.stats if leaf_column else None
        root.stats_from = largest.qualified


def _read_columns(conn: psycopg.Connection[Any], by_oid: dict[int, SourceTable]) -> None:
    rows = conn.execute(
        "SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), b.typname, "
        "       b.typcategory, b.typelem <> 0 AND b.typlen = -1, a.attnotnull, a.attidentity, "
        "       a.attgenerated, pg_get_expr(d.adbin, d.adrelid), a.atttypmod, "
        "       nullif(a.attstattarget, -1) "
        "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
        "JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END "
        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attrelid, a.attnum", [list(by_oid)]).fetchall()
    for oid, name, type_sql, base, category, is_array, not_null, identity, generated, default, \
            typmod, target in rows:
        by_oid[oid].columns.append(SourceColumn(
            name, type_sql, base, category, bool(is_array), bool(not_null), identity or "",
            generated or "", default, int(typmod), None if target is None else int(target)))


def _read_unique(conn: psycopg.Connection[Any], by_oid: dict[int, SourceTable]) -> None:
    """Plain (not partial, not expression) unique indexes and primary keys, by column names."""
    rows = conn.execute(
        "SELECT i.indrelid, i.indisprimary, "
        "       array(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(num, pos) "
        "             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num "
        "             ORDER BY k.pos) "
        "FROM pg_index i WHERE i.indisunique AND i.indrelid = ANY(%s) AND i.indpred IS NULL "
        "  AND i.indexprs IS NULL ORDER BY i.indrelid, NOT i.indisprimary, i.indexrelid",
        [list(by_oid)]).fetchall()
    for oid, _primary, columns in rows:
        key = tuple(columns)
        if key and key not in by_oid[oid].unique:
            by_oid[oid].unique.append(key)


def _read_stats(conn: psycopg.Connection[Any], schemas: list[str],
                by_name: dict[str, SourceTable]) -> None:
    """A table's own ``pg_stats`` rows; a partitioned table's are its inherited ones (the whole
    tree: ANALYZE keeps no other for it)."""
    rows = conn.execute(
        "SELECT schemaname, tablename, attname, inherited, null_frac, avg_width, n_distinct, "
        "       most_common_vals::text, most_common_vals::text::text[], most_common_freqs, "
        "       histogram_bounds::text, histogram_bounds::text::text[], correlation "
        "FROM pg_stats WHERE schemaname = ANY(%s)", [schemas]).fetchall()
    for schema, table, column, inherited, null_frac, width, nd, mcv_array, mcv, mcf, \
            hist_array, hist, corr in rows:
        found = by_name.get(f"{schema}.{table}")
        col = found.column(column) if found and inherited == found.partitioned else None
        if col is None:
            continue
        col.stats = ColumnStats(float(null_frac), int(width), float(nd), mcv, mcv_array,
                                [float(f) for f in mcf] if mcf else None, hist, hist_array,
                                None if corr is None else float(corr))


def hidden_tables(conn: psycopg.Connection[Any], tables: list[SourceTable]) -> list[str]:
    """Tables whose ``pg_stats`` this role cannot see (no SELECT on any of their columns)."""
    if not tables:
        return []
    rows = conn.execute(
        "SELECT c.oid FROM pg_class c WHERE c.oid = ANY(%s) AND NOT has_table_privilege(c.oid, "
        "'SELECT') AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid "
        "AND a.attnum > 0 AND NOT a.attisdropped AND has_column_privilege(c.oid, a.attnum, "
        "'SELECT'))", [[t.oid for t in tables]]).fetchall()
    hidden = {r[0] for r in rows}
    return [t.qualified for t in tables if t.oid in hidden]


def read_foreign_keys(conn: psycopg.Connection[Any], tables: list[SourceTable]) -> list[ForeignKey]:
    """Foreign keys of the tables, with the tables they reference (imported or not). A leaf
    partition's are its root's (PostgreSQL's clones of them are not read)."""
    keys = foreign_keys(conn, [t.oid for t in tables if not t.partition_of])
    for leaf in (t for t in tables if t.partition_of):
        keys += [ForeignKey(fk.name, leaf.qualified, fk.columns, fk.references, fk.referenced)
                 for fk in keys if fk.table == leaf.partition_of]
    return keys


# -- pg_stat_statements ----------------------------------------------------------------------------


def statements_schema(conn: psycopg.Connection[Any]) -> str:
    """The schema of pg_stat_statements in the source database; a clear error when missing."""
    row = conn.execute("SELECT extnamespace::regnamespace::text FROM pg_extension "
                       "WHERE extname = 'pg_stat_statements'").fetchone()
    if row is None:
        raise WorkbenchError(
            f"pg_stat_statements is not installed in {describe(conn.info.dsn)}",
            "CREATE EXTENSION pg_stat_statements there (it must be in shared_preload_libraries), "
            "or pass --top 0 to import without a workload")
    return str(row[0]).strip('"')


def can_read_all_statements(conn: psycopg.Connection[Any]) -> bool:
    """Superuser or a member of pg_read_all_stats: other roles' statement texts are visible."""
    row = conn.execute("SELECT rolsuper OR pg_has_role(current_user, %s, 'USAGE') "
                       "FROM pg_roles WHERE rolname = current_user", [READ_ALL_STATS]).fetchone()
    return bool(row and row[0])


def read_statements(conn: psycopg.Connection[Any]) -> list[SourceStatement]:
    """Top-level statements of the source database, by total execution time."""
    schema = statements_schema(conn)
    query = sql.SQL(
        "SELECT queryid, query, calls, total_exec_time, mean_exec_time, rows "
        "FROM {}.pg_stat_statements WHERE toplevel AND calls > 0 "
        "AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "ORDER BY total_exec_time DESC, queryid").format(sql.Identifier(schema))
    try:
        with conn.transaction():
            rows = conn.execute(query).fetchall()
    except psycopg.errors.ObjectNotInPrerequisiteState as exc:
        raise WorkbenchError(f"pg_stat_statements cannot be read: {str(exc).splitlines()[0]}",
                             "add it to shared_preload_libraries and restart the source, "
                             "or pass --top 0") from None
    except psycopg.errors.InsufficientPrivilege:
        raise WorkbenchError(f"role {conn.info.user} may not read pg_stat_statements",
                             f"GRANT {READ_ALL_STATS} TO {conn.info.user}") from None
    hidden = sum(1 for r in rows if r[1] == "<insufficient privilege>")
    if hidden and not can_read_all_statements(conn):
        raise WorkbenchError(
            f"role {conn.info.user} cannot see {hidden} of the {len(rows)} statements in "
            "pg_stat_statements (other roles' statements)",
            f"GRANT {READ_ALL_STATS} TO {conn.info.user}")
    return [SourceStatement(int(qid), str(text), int(calls), float(total), float(mean),
                            int(nrows)) for qid, text, calls, total, mean, nrows in rows
            if qid is not None and text != "<insufficient privilege>"]


def parameter_types(conn: psycopg.Connection[Any], text: str) -> list[str]:
    """Types PostgreSQL infers for ``$1..$n`` of a statement (PREPARE, never executed)."""
    conn.execute("SAVEPOINT wb_prepare")
    try:
        conn.execute(sql.SQL("PREPARE wb_import_statement AS {}").format(sql.SQL(text)))  # type: ignore[arg-type]
        row = conn.execute("SELECT parameter_types::text[] FROM pg_prepared_statements "
                           "WHERE name = 'wb_import_statement'").fetchone()
        conn.execute("DEALLOCATE wb_import_statement")
    except psycopg.Error as exc:
        conn.execute("ROLLBACK TO SAVEPOINT wb_prepare")
        raise WorkbenchError(str(exc).strip().splitlines()[0]) from None
    conn.execute("RELEASE SAVEPOINT wb_prepare")
    return list(row[0]) if row and row[0] else []


def numbers(conn: psycopg.Connection[Any], values: list[str], base_type: str) -> list[float] | None:
    """Histogram bounds as numbers for interpolation: epoch seconds for timestamps, days for
    dates, the value for numbers; None when one is not finite. Computed from the literals alone."""
    conversions = {
        "timestamptz": "extract(epoch FROM x::timestamptz)",
        "timestamp": "extract(epoch FROM x::timestamp)",
        "date": "(x::date - date '1970-01-01')",
    }
    expression = conversions.get(base_type, "x::float8")
    try:
        with conn.transaction():
            row = conn.execute(sql.SQL("SELECT array_agg(({})::float8 ORDER BY o) "
                                       "FROM unnest(%s::text[]) WITH ORDINALITY AS v(x, o)")
                               .format(sql.SQL(expression)), [values]).fetchone()  # type: ignore[arg-type]
    except psycopg.Error:
        return None
    out = [float(v) for v in (row[0] or [])]
    if len(out) != len(values) or any(v != v or v in (float("inf"), float("-inf")) for v in out):
        return None
    return out


# -- schema ----------------------------------------------------------------------------------------

_PREAMBLE = re.compile(r"^\s*(SET\s+\w+\s*=|SELECT\s+pg_catalog\.set_config\()", re.IGNORECASE)
_COLUMN_OPTIONS = re.compile(r"^(ALTER\s+TABLE\s+.+\s+ALTER\s+COLUMN\s+.+\s+SET\s+)\((.*)\)$",
                             re.IGNORECASE | re.DOTALL)
_KNOWN_COLUMN_OPTIONS = {"n_distinct", "n_distinct_inherited"}


def export_snapshot(conn: psycopg.Connection[Any]) -> str | None:
    """The transaction's snapshot, for pg_dump --snapshot (None where it cannot be exported).

    Called first in the transaction (a snapshot cannot be exported from a savepoint); where the
    server refuses, the transaction starts again and pg_dump takes its own snapshot."""
    try:
        row = conn.execute("SELECT pg_export_snapshot()").fetchone()
    except psycopg.Error:
        conn.execute("ROLLBACK")
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return None
    return str(row[0]) if row else None


def dump_schema(dsn: str, schemas: list[str], snapshot: str | None = None) -> str:
    """``pg_dump --schema-only`` of the schemas: no owners, grants or statistics, and without the
    session settings of the dump's preamble (some do not exist on older servers)."""
    pg_dump = pg_bin("pg_dump")
    args = [str(pg_dump), "--schema-only", "--no-owner", "--no-privileges", "--no-tablespaces",
            "--no-security-labels", "--no-publications", "--no-subscriptions"]
    if _major(tool_version(pg_dump)) >= 18:
        args.append("--no-statistics")
    if snapshot:
        args.append(f"--snapshot={snapshot}")
    for schema in schemas:
        args += ["--schema", _dump_pattern(schema)]
    result = subprocess.run(args, env=libpq_env(dsn, with_database=True), capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or [f"exit {result.returncode}"])[-1]
        raise WorkbenchError(f"pg_dump --schema-only failed: {last}",
                             "the role needs USAGE on the schemas and may lock their tables")
    return clean_dump(result.stdout)


def clean_dump(text: str) -> str:
    """The dump's DDL: psql meta-commands (``\\restrict``) and preamble SETs removed, and
    column options PostgreSQL does not define (a distribution's own, e.g. Debian 15's
    ``pg_attver``) left out of ``ALTER COLUMN ... SET (...)``: other servers refuse them.

    >>> clean_dump("SET x = 1;\\nALTER TABLE ONLY s.t ALTER COLUMN a SET (pg_attver=5, n_distinct=-1);")
    'ALTER TABLE ONLY s.t ALTER COLUMN a SET (n_distinct=-1);\\n'
    """
    from workbench.loader import split_statements

    lines = [line for line in text.splitlines() if not line.startswith("\\")]
    kept = []
    for statement in split_statements("\n".join(lines)):
        if _PREAMBLE.match(statement):
            continue
        match = _COLUMN_OPTIONS.match(statement)
        if match:
            options = [o.strip() for o in match.group(2).split(",")
                       if o.split("=")[0].strip().lower() in _KNOWN_COLUMN_OPTIONS]
            if not options:
                continue
            statement = f"{match.group(1)}({', '.join(options)})"
        kept.append(statement)
    return "\n\n".join(s + ";" for s in kept) + "\n"


def _dump_pattern(schema: str) -> str:
    # pg_dump patterns treat * ? and upper case specially: quote the name to mean exactly it.
    return '"' + schema.replace('"', '""') + '"'


def _major(version: str) -> int:
    match = re.match(r"\d+", version)
    return int(match.group(0)) if match else 0
