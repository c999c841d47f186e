"""PostgreSQL client programs (pgbench, pg_dump, psql) and version facts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import psycopg

from workbench.config import pg_bindir
from workbench.errors import WorkbenchError


def pg_bin(name: str) -> Path:
    """A client program from the PostgreSQL installation the workbench uses.

    WORKBENCH_PG_BINDIR if set, otherwise the embedded wheel's; ``WORKBENCH_PGBENCH`` overrides
    pgbench alone. Client programs of a newer major version work against older servers.

    >>> pg_bin("pg_dump").name
    'pg_dump'
    """
    if name == "pgbench" and os.environ.get("WORKBENCH_PGBENCH"):
        path = Path(os.environ["WORKBENCH_PGBENCH"]).expanduser()
        found = path if path.is_file() else shutil.which(str(path))
        if not found:
            raise WorkbenchError(
                f"WORKBENCH_PGBENCH={path} is not an executable file",
                "point it at a pgbench binary, or unset it to use the embedded one",
            )
        return Path(found)
    path = pg_bindir() / name
    if not path.is_file():
        raise WorkbenchError(
            f"{name} not found at {path}",
            "set WORKBENCH_PGBENCH / WORKBENCH_PG_BINDIR to a PostgreSQL installation that has it",
        )
    return path


def pgbench_path() -> Path:
    """The pgbench binary to drive (see :func:`pg_bin`)."""
    return pg_bin("pgbench")


def tool_version(path: Path) -> str:
    """Version printed by a PostgreSQL program's --version, e.g. '18.6'.

    >>> tool_version(pg_bin("pgbench"))  # doctest: +SKIP
    '18.6'
    """
    try:
        out = subprocess.run([str(path), "--version"], capture_output=True, text=True,
                             check=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise WorkbenchError(f"cannot run {path}: {exc}", "check the binary and its libraries") from None
    match = re.search(r"\d+(?:\.\d+)?", out)
    return match.group(0) if match else out.strip()


def server_version_num(conn: psycopg.Connection[Any]) -> int:
    """server_version_num of a connection, e.g. 180006."""
    return int(conn.info.server_version)


def server_version(conn: psycopg.Connection[Any]) -> str:
    """The server's version as it says it, e.g. '18.6'."""
    row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]).split()[0] if row else ""
