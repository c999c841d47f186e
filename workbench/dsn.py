"""DSNs: parse, change the database, describe, and keep passwords out of anything shown or saved."""

from __future__ import annotations

import os
import re

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from workbench.errors import WorkbenchError

MASK = "***"

# postgresql://user:secret@host/db  ->  postgresql://user:***@host/db
_URI_PASSWORD = re.compile(r"(postgres(?:ql)?://[^:/@\s?#]*:)([^@\s]*)(@)")
# key=value form and URI query parameters: password=secret / password='se cret'
_KV_PASSWORD = re.compile(r"""(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&"]+)""", re.IGNORECASE)
_known_secrets: set[str] = set()


def parse(dsn: str) -> dict[str, str]:
    """Parse a libpq DSN (URI or key=value) into its parameters.

    >>> parse("postgresql://bob@db.example:5433/shop")["port"]
    '5433'
    """
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise WorkbenchError(
            f"cannot read the DSN {mask_dsn(dsn)!r}: {str(exc).splitlines()[0]}",
            "use a libpq URI such as postgresql://user@host:5432/db or key=value pairs",
        ) from None
    if params.get("password"):
        _known_secrets.add(str(params["password"]))
    return {k: str(v) for k, v in params.items() if v is not None}


def with_database(dsn: str, database: str | None) -> str:
    """The same server and credentials with another database name.

    >>> with_database("host=localhost dbname=postgres", "shop")
    'host=localhost dbname=shop'
    """
    if not database:
        return dsn
    parse(dsn)  # validate first, for a clear error
    return make_conninfo(dsn, dbname=database)


def mask_dsn(dsn: str) -> str:
    """The DSN with any password replaced by ***, safe to print or save.

    >>> mask_dsn("postgresql://bob:s3cret@db:5432/shop")
    'postgresql://bob:***@db:5432/shop'
    >>> mask_dsn("host=db password='a b' dbname=x")
    'host=db password=*** dbname=x'
    """
    masked = _URI_PASSWORD.sub(lambda m: f"{m.group(1)}{MASK}{m.group(3)}", dsn)
    return _KV_PASSWORD.sub(lambda m: f"{m.group(1)}{MASK}", masked)


def redact(text: str, *secrets: str) -> str:
    """Remove DSN passwords (and any given or previously seen secrets) from free text.

    Used on everything written to run folders and reports.

    >>> redact("connect to postgresql://u:pw@h/db failed", "pw")
    'connect to postgresql://u:***@h/db failed'
    """
    out = mask_dsn(text)
    for secret in sorted({*secrets, *_known_secrets}, key=len, reverse=True):
        if secret and len(secret) >= 3:
            out = out.replace(secret, MASK)
    return out


def describe(dsn: str) -> str:
    """A short "host:port/dbname" for messages (no user, no password).

    >>> describe("postgresql://u:pw@db.example:6432/shop")
    'db.example:6432/shop'
    """
    try:
        params = parse(dsn)
    except WorkbenchError:
        return mask_dsn(dsn)
    host = params.get("host") or params.get("hostaddr") or _env("PGHOST") or "localhost"
    port = params.get("port") or _env("PGPORT") or "5432"
    db = params.get("dbname") or _env("PGDATABASE") or params.get("user") or "postgres"
    return f"{host}:{port}/{db}"


def _env(name: str) -> str | None:
    return os.environ.get(name) or None


_LIBPQ_ENV = {"host": "PGHOST", "hostaddr": "PGHOSTADDR", "port": "PGPORT", "user": "PGUSER",
              "password": "PGPASSWORD", "dbname": "PGDATABASE", "sslmode": "PGSSLMODE",
              "passfile": "PGPASSFILE", "sslrootcert": "PGSSLROOTCERT", "options": "PGOPTIONS"}


def libpq_env(dsn: str, *, with_database: bool = False) -> dict[str, str]:
    """The process environment with the DSN's connection parameters as PG* variables, for the
    PostgreSQL client programs (pgbench, pg_dump): passwords never appear on a command line.
    PG* variables the DSN does not set still apply, as they would for libpq.

    >>> libpq_env("host=/tmp/s port=5433 user=u dbname=x")["PGPORT"]
    '5433'
    """
    env = dict(os.environ)
    for key, value in parse(dsn).items():
        if key in _LIBPQ_ENV and (key != "dbname" or with_database):
            env[_LIBPQ_ENV[key]] = value
    return env
