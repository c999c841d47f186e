"""One way to a database: a DSN (argument or WORKBENCH_DSN) or the embedded server, started on demand."""

from __future__ import annotations

import os
from typing import Any

import psycopg

from workbench.config import env_dsn
from workbench.dsn import describe, parse, with_database
from workbench.errors import ServerUnavailable, WorkbenchError

CONNECT_TIMEOUT_S = 10


def embedded_server(pg_bindir: str | os.PathLike[str] | None = None) -> Any:
    """The embedded server object (not started). Imported lazily: DSN users never need it."""
    from workbench.server import EmbeddedServer

    return EmbeddedServer(bindir=pg_bindir)


def resolve_dsn(
    dsn: str | None = None, database: str | None = None, *, start: bool = True,
    pg_bindir: str | os.PathLike[str] | None = None,
) -> str:
    """The DSN to use: the given one, WORKBENCH_DSN, or the embedded server (started if needed).

    >>> resolve_dsn("postgresql://u@db:5432/postgres", database="shop")
    'user=u dbname=shop host=db port=5432'
    """
    chosen = dsn or env_dsn()
    if chosen:
        parse(chosen)  # a clear error for a malformed DSN, before libpq's
    else:
        server = embedded_server(pg_bindir)
        chosen = server.start() if start else server.dsn()
    return with_database(chosen, database)


def is_embedded(dsn: str | None = None) -> bool:
    """True when commands without a DSN go to the embedded server."""
    return not (dsn or env_dsn())


def connect(
    dsn: str | None = None, database: str | None = None, *, autocommit: bool = True,
    pg_bindir: str | os.PathLike[str] | None = None, **kwargs: Any,
) -> psycopg.Connection[Any]:
    """A psycopg 3 connection to the right place, with a one-line error when it cannot be made.

    >>> with connect(database="postgres") as conn:  # doctest: +SKIP
    ...     conn.execute("select 1").fetchone()
    (1,)
    """
    target = resolve_dsn(dsn, database, pg_bindir=pg_bindir)
    kwargs.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
    kwargs.setdefault("application_name", "workbench")
    try:
        return psycopg.connect(target, autocommit=autocommit, **kwargs)
    except psycopg.OperationalError as exc:
        raise connection_error(target, exc) from None


def connection_error(dsn: str, exc: Exception) -> WorkbenchError:
    """Turn libpq's multi-line complaint into what went wrong and the likely fix."""
    where = describe(dsn)
    text = str(exc)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    detail = next((ln for ln in lines if "FATAL" in ln or "failed" in ln.lower()), lines[0] if lines else "")
    detail = detail.split("FATAL:", 1)[-1].strip()
    lowered = text.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return WorkbenchError(
            f"cannot connect to {where}: {detail}",
            "check the user and password in --dsn / WORKBENCH_DSN, PGPASSWORD or ~/.pgpass",
        )
    if "does not exist" in lowered and "database" in lowered:
        return WorkbenchError(
            f"cannot connect to {where}: {detail}",
            "create it with `workbench load`, or pick an existing one with --database",
        )
    if "refused" in lowered or "no such file" in lowered or "timeout" in lowered or "could not translate" in lowered:
        return ServerUnavailable(
            f"cannot connect to {where}: the server is not accepting connections",
            "is it running? start the embedded one with `workbench server start`, "
            "or fix the host/port in --dsn / WORKBENCH_DSN",
        )
    return WorkbenchError(f"cannot connect to {where}: {detail}", "check --dsn / WORKBENCH_DSN")


def dataset_database(dsn: str | None, database: str | None, dataset: str | None) -> str | None:
    """Which database a dataset command uses: ``--database``; else the DSN's own database unless
    it is the maintenance database ``postgres`` (or none is named); else the dataset's name.

    >>> dataset_database("host=h dbname=shop_copy", None, "shop")
    'shop_copy'
    >>> dataset_database(None, None, "shop")
    'shop'
    """
    if database:
        return database
    chosen = dsn or env_dsn()
    named = parse(chosen).get("dbname") if chosen else None
    if named and named != "postgres":
        return named
    return dataset
