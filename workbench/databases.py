"""Databases the workbench owns: created, marked, dropped; and the guard on destructive steps.

A database is the workbench's when it carries the schema ``workbench`` with the table
``workbench.meta`` (dataset, scale, seed, versions, load status and times). Nothing else of the
workbench's goes into a dataset's own schemas. Destructive steps (load, drop, build index, migrate)
call :func:`require_owned` first.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from workbench import __version__
from workbench.connect import connect, resolve_dsn
from workbench.dsn import describe
from workbench.errors import UnsafeOperation, WorkbenchError

META_SCHEMA = "workbench"
MAINTENANCE_DB = "postgres"


def create_database(
    name: str, dsn: str | None = None, *, replace: bool = False, allow_destructive: bool = False,
    **meta: Any,
) -> str:
    """Create a database marked as the workbench's; return its DSN.

    An existing database is replaced only with ``replace=True`` (and, when it is not the
    workbench's, ``allow_destructive=True``).

    >>> create_database("shop_test", dataset="shop")  # doctest: +SKIP
    'host=/work/main/.workbench/pg18/sock port=50123 user=postgres dbname=shop_test'
    """
    check_name(name)
    if exists(name, dsn):
        if not replace:
            raise WorkbenchError(
                f"database {name} already exists on {describe(resolve_dsn(dsn))}",
                "pass --replace to load it again, or choose another --database",
            )
        drop_database(name, dsn, allow_destructive=allow_destructive)
    with connect(dsn, database=_maintenance_db(dsn)) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    target = resolve_dsn(dsn, database=name)
    with connect(target) as conn:
        mark(conn, created_at=_now(), **meta)
    return target


def drop_database(name: str, dsn: str | None = None, *, allow_destructive: bool = False) -> bool:
    """Drop a database the workbench owns (or any, with ``allow_destructive``); False if absent.

    >>> drop_database("shop_test")  # doctest: +SKIP
    True
    """
    check_name(name)
    if not exists(name, dsn):
        return False
    with connect(dsn, database=name) as conn:
        require_owned(conn, allow_destructive, f"drop database {name}")
    drop_forced(name, dsn)
    return True


def drop_forced(name: str, dsn: str | None = None) -> None:
    """``DROP DATABASE IF EXISTS ... WITH (FORCE)``, no questions asked (callers decide whether
    they may). A Ctrl-C during it does not leave the database behind: psycopg cancels the
    statement on the interrupt, so the drop is made once more before the interrupt goes on."""
    def drop() -> None:
        with connect(dsn, database=_maintenance_db(dsn)) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))

    try:
        drop()
    except KeyboardInterrupt:
        drop()
        raise


def exists(name: str, dsn: str | None = None) -> bool:
    """Whether a database of that name exists on the server."""
    with connect(dsn, database=_maintenance_db(dsn)) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    return row is not None


def mark(conn: psycopg.Connection[Any], **meta: Any) -> None:
    """Mark the connected database as the workbench's and record metadata."""
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(META_SCHEMA)))
    conn.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {}.meta (key text PRIMARY KEY, value jsonb NOT NULL, "
            "updated_at timestamptz NOT NULL DEFAULT now())"
        ).format(sql.Identifier(META_SCHEMA))
    )
    set_meta(conn, workbench_version=__version__, **meta)
    _install_statistics(conn)


def _install_statistics(conn: psycopg.Connection[Any]) -> None:
    """pg_stat_statements' view, kept in the workbench schema (not the dataset's), when loadable."""
    try:
        with conn.transaction():
            conn.execute(
                sql.SQL("CREATE EXTENSION IF NOT EXISTS pg_stat_statements SCHEMA {}").format(
                    sql.Identifier(META_SCHEMA)
                )
            )
    except psycopg.Error:
        pass  # not preloaded or not permitted here: runs then report statements as unavailable


def set_meta(conn: psycopg.Connection[Any], **values: Any) -> None:
    """Record metadata values (JSON) in ``workbench.meta``.

    >>> set_meta(conn, load_status="complete", seed=42)  # doctest: +SKIP
    """
    query = sql.SQL(
        "INSERT INTO {}.meta (key, value) VALUES (%s, %s) "
        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()"
    ).format(sql.Identifier(META_SCHEMA))
    with conn.cursor() as cur:
        for key, value in values.items():
            cur.execute(query, [key, Jsonb(value)])


def read_marker(conn: psycopg.Connection[Any]) -> dict[str, Any] | None:
    """The metadata of a workbench database, or None when the database is not the workbench's.

    >>> read_marker(conn)["dataset"]  # doctest: +SKIP
    'shop'
    """
    row = conn.execute("SELECT to_regclass('workbench.meta') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return None
    rows = conn.execute(
        sql.SQL("SELECT key, value FROM {}.meta ORDER BY key").format(sql.Identifier(META_SCHEMA))
    ).fetchall()
    return {key: value for key, value in rows}


def require_owned(conn: psycopg.Connection[Any], allow_destructive: bool, action: str) -> None:
    """Refuse a destructive step on a database that is not the workbench's, unless allowed.

    >>> require_owned(conn, False, "build indexes")  # doctest: +SKIP
    Traceback (most recent call last):
    workbench.errors.UnsafeOperation: refusing to build indexes on localhost:5432/app: ...
    """
    if allow_destructive or read_marker(conn) is not None:
        return
    raise UnsafeOperation(
        f"refusing to {action} on {describe(conn.info.dsn)}: it is not a database the workbench "
        "created",
        "pass --allow-destructive (library: allow_destructive=True) if you mean to change it",
    )


def check_name(name: str) -> None:
    """A database name PostgreSQL will keep as given (1 to 63 bytes)."""
    if not name or len(name.encode()) > 63:
        raise WorkbenchError(
            f"database name {name!r} must be 1 to 63 bytes long", "choose a shorter --database"
        )


def _maintenance_db(dsn: str | None) -> str:
    # CREATE/DROP DATABASE run from the maintenance database, as createdb does.
    del dsn
    return MAINTENANCE_DB


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
