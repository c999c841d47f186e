"""Loading a dataset: create the database (marked as the workbench's), apply the schema, generate the
data on the server, add constraints and indexes, VACUUM ANALYZE, record what was loaded.

Data is generated server-side (``INSERT ... SELECT ... FROM generate_series``) from deterministic
hash-based pseudo-random values (``hashint8extended`` is stable: hash partitioning depends on it),
so the same seed and scale give byte-identical tables on any day; tables of one dependency wave
load in parallel on separate connections; foreign keys and secondary indexes are added after the
data, as pg_dump restores do.

>>> result = load("shop", scale=0.2, seed=42)          # doctest: +SKIP
>>> result.tables["orders.orders"]["rows"]             # doctest: +SKIP
60000
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from workbench.connect import connect
from workbench.databases import create_database, read_marker, set_meta
from workbench.datasets import DATASETS_DIR, Dataset, get_dataset
from workbench.dsn import describe, libpq_env
from workbench.errors import WorkbenchError
from workbench.folders import now_iso
from workbench.tools import pgbench_path, server_version

PARALLEL_LOADERS = max(2, min(4, os.cpu_count() or 2))
MAINTENANCE_WORK_MEM = "256MB"
# pgbench -i steps: drop, create tables, client-side generate (COPY), vacuum, primary keys.
PGBENCH_STEPS = "dtgvp"
# Built after the data: keys, indexes, and a partition's index attached to its partitioned
# table's (pg_dump's ALTER INDEX ... ATTACH PARTITION, once both exist).
_DEFERRED = re.compile(r"^\s*(ALTER\s+TABLE\b.*\bADD\s+CONSTRAINT\b|CREATE\s+(UNIQUE\s+)?INDEX\b"
                       r"|ALTER\s+INDEX\b.*\bATTACH\s+PARTITION\b)", re.IGNORECASE | re.DOTALL)
_FOREIGN_KEY = re.compile(r"\bFOREIGN\s+KEY\b", re.IGNORECASE)
_VARIABLE = re.compile(r"(?<!:):([A-Za-z_]\w*)")

# Deterministic pseudo-random helpers, kept in the workbench's own schema.
HELPERS = """
CREATE OR REPLACE FUNCTION workbench.u(i bigint, salt integer, seed bigint) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT ((hashint8extended(i, seed * 1000003 + salt) >> 11) & 9007199254740991)::float8
          / 9007199254740992.0 $$;
CREATE OR REPLACE FUNCTION workbench.skewed(u float8, n bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT ((least(n, greatest(1, floor(exp(u * ln(n + 1)))::bigint)) - 1) * 1000003 % n) + 1 $$;
CREATE OR REPLACE FUNCTION workbench.spread(start timestamptz, days float8, fraction float8)
RETURNS timestamptz LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT start + make_interval(secs => fraction * days * 86400) $$;
"""


@dataclass
class LoadResult:
    """What was loaded where."""

    database: str
    dataset: str
    scale: float
    seed: int
    seconds: float
    dsn: str
    tables: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The ``workbench load --json`` document."""
        return {"database": self.database, "dataset": self.dataset, "scale": self.scale,
                "seed": self.seed, "seconds": round(self.seconds, 3), "tables": self.tables}


def load(
    name_or_path: str | Path, *, scale: float = 1.0, seed: int = 42, database: str | None = None,
    dsn: str | None = None, replace: bool = False, allow_destructive: bool = False,
    progress: bool = True,
) -> LoadResult:
    """Load a dataset into a new database (default name: the dataset's) and return what was loaded.

    >>> load("shop", scale=0.05, database="shop_small").to_json()["tables"]["orders.orders"]  # doctest: +SKIP
    {'rows': 15000, 'bytes': 1179648}
    """
    dataset = get_dataset(name_or_path)
    scale, seed = check_scale_seed(scale, seed)
    if dataset.pgbench_init:
        scale = float(max(1, round(scale)))  # pgbench -i takes whole scale factors only
    db = database or dataset.name
    started = time.perf_counter()
    target = create_database(
        db, dsn, replace=replace, allow_destructive=allow_destructive, dataset=dataset.name,
        dataset_path=str(dataset.path), scale=scale, seed=seed, load_status="loading",
        load_started_at=now_iso(),
    )
    try:
        if dataset.pgbench_init:
            pgbench_init(target, db, scale)
            with connect(target) as conn:
                tables = table_sizes(conn, dataset)
        else:
            tables = _generate(dataset, target, scale, seed, progress)
        with connect(target) as conn:
            seconds = time.perf_counter() - started
            set_meta(conn, load_status="complete", load_finished_at=now_iso(),
                     load_seconds=round(seconds, 3), server_version=server_version(conn),
                     tables=tables, variables=dataset.variables(scale))
    except BaseException as exc:
        _mark_failed(target, exc)
        raise
    return LoadResult(db, dataset.name, scale, seed, seconds, target, tables)


def ensure_loaded(name_or_path: str | Path, *, scale: float = 1.0, seed: int = 42,
                  database: str | None = None, dsn: str | None = None, replace: bool = False,
                  progress: bool = True) -> str:
    """The DSN of a database holding the dataset at this scale and seed: the one already loaded,
    or a new load when the database does not exist. A database holding anything else is never
    replaced unasked: that is a one-line error naming what it holds and the choices.

    >>> ensure_loaded("shop", scale=0.2)   # doctest: +SKIP
    'host=... dbname=shop'
    """
    from workbench.connect import resolve_dsn
    from workbench.databases import exists

    dataset = get_dataset(name_or_path)
    scale, seed = check_scale_seed(scale, seed)
    db = database or dataset.name
    if exists(db, dsn) and not replace:
        with connect(dsn, database=db) as conn:
            marker = read_marker(conn) or {}
        holds = (marker.get("dataset"), marker.get("load_status"), marker.get("scale"),
                 marker.get("seed"))
        if holds == (dataset.name, "complete", scale, seed) or (
                holds[:2] == (dataset.name, "complete") and holds[3] == seed
                and float(holds[2] or -1) == scale):
            return resolve_dsn(dsn, db)
        what = (f"{marker.get('dataset')} at scale {marker.get('scale')}, seed {marker.get('seed')}"
                f" ({marker.get('load_status')})" if marker else "a database the workbench did "
                "not create")
        raise WorkbenchError(
            f"database {db} holds {what}, not {dataset.name} at scale {scale:g}, seed {seed}",
            f"pass replace=True (CLI: --replace) to reload it, or another database such as "
            f"{dataset.name}_s{f'{scale:g}'.replace('.', 'p')}")
    return load(dataset.path, scale=scale, seed=seed, database=db, dsn=dsn, replace=replace,
                progress=progress).dsn


def check_loaded(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """The metadata of a completely loaded dataset database; a clear error otherwise."""
    marker = read_marker(conn)
    where = describe(conn.info.dsn)
    if marker is None or "dataset" not in marker:
        raise WorkbenchError(f"{where} holds no workbench dataset",
                             "load one first with `workbench load NAME`")
    status = marker.get("load_status")
    if status != "complete":
        # "loading" left behind means the loader died without a word (killed, machine reset).
        reason = marker.get("load_error") or "still loading, or the loader was killed"
        source = marker["dataset"]
        path = marker.get("dataset_path")
        if path and Path(path).resolve().parent != DATASETS_DIR:
            source = path
        raise WorkbenchError(
            f"the load of {marker['dataset']} into {where} is incomplete ({reason})",
            f"load it again with `workbench load {source} "
            f"--database {conn.info.dbname} --scale {marker.get('scale', 1):g} "
            f"--seed {marker.get('seed', 42)} --replace`",
        )
    return marker


def check_scale_seed(scale: Any, seed: Any) -> tuple[float, int]:
    """Validated scale (> 0, fractions allowed) and seed (an integer)."""
    try:
        value = float(scale)
    except (TypeError, ValueError):
        raise WorkbenchError(f"scale must be a number, got {scale!r}", "e.g. --scale 0.2") from None
    if not math.isfinite(value) or not value > 0:
        raise WorkbenchError(f"scale must be a finite number > 0, got {scale!r}",
                             "e.g. --scale 0.2 or --scale 1")
    if isinstance(seed, bool) or not isinstance(seed, int) and not str(seed).lstrip("-").isdigit():
        raise WorkbenchError(f"seed must be an integer, got {seed!r}", "e.g. --seed 42")
    return value, int(seed)


def table_sizes(conn: psycopg.Connection[Any], dataset: Dataset) -> dict[str, dict[str, int]]:
    """Rows (exact) and bytes (heap + TOAST) of every table of the dataset."""
    sizes = {}
    for name in sorted(dataset.tables):
        schema, table = name.split(".")
        ident = sql.Identifier(schema, table)
        rows = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(ident)).fetchone()[0]
        size = conn.execute("SELECT pg_table_size(%s::regclass)", [_regclass(name)]).fetchone()[0]
        sizes[name] = {"rows": int(rows), "bytes": int(size)}
    return sizes


# -- generation ----------------------------------------------------------------------------------


def _generate(
    dataset: Dataset, dsn: str, scale: float, seed: int, progress: bool
) -> dict[str, dict[str, int]]:
    from tqdm.auto import tqdm

    variables = {"seed": seed, **dataset.variables(scale)}
    schema, deferred = _schema_statements(dataset)
    with connect(dsn) as conn:
        conn.execute(HELPERS)
        with conn.transaction():
            for statement in schema:
                conn.execute(statement)  # type: ignore[arg-type]  # the dataset's own schema file
    foreign = [s for s in deferred if _FOREIGN_KEY.search(s)]
    rows = {name: dataset.rows(name, scale) for name in dataset.tables}
    # Each table's keys and indexes are built right after its own data, so no worker waits at a
    # phase barrier; statements about no dataset table run at the end.
    builds = {name: [s for s in deferred if s not in foreign and _mentions(s, name)]
              for name in rows}
    others = [s for s in deferred if s not in foreign and not any(s in b for b in builds.values())]
    bar = tqdm(total=2 * len(rows) + 1, desc=f"load {dataset.name}", unit="step",
               disable=not progress, leave=False)
    pool = ThreadPoolExecutor(PARALLEL_LOADERS)
    try:
        with _cancelled_on_interrupt(pool):
            for wave in dataset.load_order():
                wave = sorted(wave, key=lambda name: -rows[name])  # largest first: finish together
                _all(pool, bar, [(_table, dsn, dataset, name, {**variables, "rows": rows[name]},
                                  builds[name]) for name in wave])
            for statement in others:
                _run_one(dsn, statement)
            # Only now, with no loading transaction left open in the database, can VACUUM mark
            # every page all-visible; a table vacuumed while another was still being written
            # would keep an empty visibility map, and index-only scans (plans) would vary by run.
            names = sorted(rows, key=lambda name: -rows[name])
            done = _all(pool, bar, [(_finish, dsn, name) for name in names])
            # Foreign keys validate after ANALYZE: with statistics the planner checks a small
            # table's references through the other's primary key instead of hashing all of it.
            for batch in _disjoint_rounds(foreign, list(rows)):
                _all(pool, None, [(_run_one, dsn, statement) for statement in batch])
            with connect(dsn) as conn:
                _sync_identities(conn)
            bar.update()
    finally:
        bar.close()
    return dict(sorted(zip(names, done, strict=True)))


# Connections of the loader's workers, so that an interruption can cancel what they are running.
_ACTIVE: set[psycopg.Connection[Any]] = set()
_ACTIVE_LOCK = threading.Lock()
_STOPPING = threading.Event()


@contextlib.contextmanager
def _cancelled_on_interrupt(pool: ThreadPoolExecutor) -> Iterator[None]:
    """On Ctrl-C (or any failure) no queued table starts and running statements are cancelled,
    so a load stops promptly; the database is then marked incomplete by :func:`load`."""
    _STOPPING.clear()
    try:
        yield
    except BaseException:
        _STOPPING.set()
        pool.shutdown(wait=False, cancel_futures=True)
        with _ACTIVE_LOCK:
            for conn in list(_ACTIVE):
                with contextlib.suppress(Exception):
                    conn.cancel_safe(timeout=5)
        pool.shutdown(wait=True)
        raise
    finally:
        pool.shutdown(wait=True)


@contextlib.contextmanager
def _worker_connection(dsn: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection of a loading worker, registered so it can be cancelled."""
    if _STOPPING.is_set():
        raise WorkbenchError("the load was interrupted", "load it again with --replace")
    with connect(dsn) as conn:
        with _ACTIVE_LOCK:
            _ACTIVE.add(conn)
        try:
            yield conn
        finally:
            with _ACTIVE_LOCK:
                _ACTIVE.discard(conn)


def _table(dsn: str, dataset: Dataset, table: str, variables: dict[str, Any],
           builds: list[str]) -> None:
    """Generate one table and build its keys and indexes."""
    _fill(dsn, dataset, table, variables)
    for statement in builds:
        _run_one(dsn, statement)


def _disjoint_rounds(statements: list[str], tables: list[str]) -> list[list[str]]:
    """Statements grouped into rounds in which no two mention the same table.

    ADD FOREIGN KEY locks both of its tables, so foreign keys of one round validate side by side
    without waiting on each other (and without a lock-order deadlock).
    """
    rounds: list[tuple[set[str], list[str]]] = []
    for statement in statements:
        touched = {table for table in tables if _mentions(statement, table)}
        for used, batch in rounds:
            if not used & touched:
                used |= touched
                batch.append(statement)
                break
        else:
            rounds.append((touched, [statement]))
    return [batch for _, batch in rounds]


def _all(pool: ThreadPoolExecutor, bar: Any, calls: list[tuple[Any, ...]]) -> list[Any]:
    """Run calls on the pool; the first failure is raised once the others have finished.

    ``bar`` (or None) advances once per call."""
    jobs = [pool.submit(*call) for call in calls]
    for job in jobs:
        job.exception()
    results = []
    for job in jobs:
        results.append(job.result())
        if bar is not None:
            bar.update()
    return results


def _finish(dsn: str, table: str) -> dict[str, int]:
    """VACUUM (ANALYZE) one table, then count its rows and measure it (heap + TOAST).

    VACUUM too, not only ANALYZE: autovacuum would otherwise visit every freshly inserted table
    in the middle of the first benchmark run.
    """
    ident = sql.Identifier(*table.split("."))
    with _worker_connection(dsn) as conn:
        conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(ident))
        rows, size = conn.execute(sql.SQL("SELECT (SELECT count(*) FROM {}), pg_table_size(%s)")
                                  .format(ident), [_regclass(table)]).fetchone()
    return {"rows": int(rows), "bytes": int(size)}


def _regclass(table: str) -> str:
    return sql.Identifier(*table.split(".")).as_string()


def _mentions(statement: str, table: str) -> bool:
    schema, name = table.split(".")
    return re.search(rf"\b{re.escape(schema)}\s*\.\s*{re.escape(name)}\b", statement) is not None


def _fill(dsn: str, dataset: Dataset, table: str, variables: dict[str, Any]) -> None:
    spec = dataset.tables[table]
    if spec.generate is None:
        return
    with _worker_connection(dsn) as conn:
        text = render(spec.generate.read_text(), variables, conn, where=str(spec.generate))
        # Large generate_series() results stay in memory instead of a temporary file.
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET work_mem = '256MB'")
        conn.execute("SET TimeZone = 'UTC'")  # the same bytes whatever the server's zone
        try:
            conn.execute(text)  # type: ignore[arg-type]  # the dataset's generator, values bound
        except psycopg.Error as exc:
            raise WorkbenchError(
                f"{spec.generate}: generating {table} failed: {str(exc).splitlines()[0]}",
                "fix the generator SQL",
            ) from None


def _run_one(dsn: str, statement: Any) -> None:
    with _worker_connection(dsn) as conn:
        # Our own workers already use every core; one sort in memory per index build.
        conn.execute("SELECT set_config('maintenance_work_mem', %s, false), "
                     "set_config('max_parallel_maintenance_workers', '0', false)",
                     [MAINTENANCE_WORK_MEM])
        conn.execute(statement)


def render(text: str, variables: dict[str, Any], conn: psycopg.Connection[Any], where: str) -> str:
    """Replace ``:name`` placeholders with SQL literals (``::casts`` are left alone)."""
    def literal(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            raise WorkbenchError(f"{where}: unknown variable :{name}",
                                 f"use one of {', '.join(sorted(variables))}")
        return sql.Literal(variables[name]).as_string(conn)

    return _VARIABLE.sub(literal, _strip_comments(text))


def _schema_statements(dataset: Dataset) -> tuple[list[str], list[str]]:
    files = sorted(dataset.migrations.rglob("V*__*.sql"), key=_version_key)
    if not files:
        raise WorkbenchError(f"{dataset.migrations}: no V<version>__<name>.sql migrations",
                             "add migrations/V1__init.sql with the schema")
    now, later = [], []
    for path in files:
        for statement in split_statements(path.read_text()):
            (later if _DEFERRED.match(statement) else now).append(statement)
    return now, later


def split_statements(text: str) -> list[str]:
    """Split SQL on top-level semicolons (quotes, dollar quotes and comments respected)."""
    statements, current, i = [], [], 0
    pattern = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|(\$\w*\$).*?\1|;",
                         re.DOTALL)
    for match in pattern.finditer(text):
        current.append(text[i:match.start()])
        token = match.group(0)
        if token == ";":
            statement = "".join(current).strip()
            if statement:
                statements.append(statement)
            current = []
        elif not token.startswith(("--", "/*")):
            current.append(token)
        i = match.end()
    tail = ("".join(current) + text[i:]).strip()
    if tail:
        statements.append(tail)
    return statements


def _strip_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))


def _version_key(path: Path) -> tuple[int, ...]:
    version = path.name[1:].split("__", 1)[0]
    return tuple(int(p) for p in re.split(r"[._]", version) if p.isdigit())


def _sync_identities(conn: psycopg.Connection[Any]) -> None:
    rows = conn.execute(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns "
        "WHERE is_identity = 'YES' AND table_schema NOT IN ('workbench', 'pg_catalog')"
    ).fetchall()
    for schema, table, column in rows:
        conn.execute(
            sql.SQL("SELECT setval(pg_get_serial_sequence(%s, %s), "
                    "coalesce((SELECT max({}) FROM {}), 0) + 1, false)").format(
                sql.Identifier(column), sql.Identifier(schema, table)),
            [f'"{schema}"."{table}"', column],
        )


def pgbench_init(dsn: str, database: str, scale: float, steps: str = PGBENCH_STEPS) -> None:
    """pgbench's own TPC-B-like tables, by the pgbench of the workbench's installation.

    >>> pgbench_init(dsn, "tpcb", 1)  # doctest: +SKIP
    """
    env = libpq_env(dsn)
    factor = max(1, round(scale))
    result = subprocess.run(
        [str(pgbench_path()), "-i", "-I", steps, "-s", str(factor), "--quiet", database],
        env=env, capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["exit " + str(result.returncode)])[-1]
        raise WorkbenchError(f"pgbench -i failed: {last}", "see `workbench doctor`")


def _mark_failed(dsn: str, exc: BaseException) -> None:
    reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc).splitlines()[0][:200]
    try:
        with connect(dsn) as conn:
            set_meta(conn, load_status="incomplete", load_error=reason)
    except (WorkbenchError, psycopg.Error):
        pass  # the server itself is gone; the marker still says "loading"
