"""Capabilities probe: which server, which extensions, which pgbench."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from workbench.connect import connect
from workbench.tools import pgbench_path, server_version, server_version_num, tool_version

PROBED_EXTENSIONS = ("pg_stat_statements", "auto_explain", "hypopg")


@dataclass
class ExtensionState:
    """available: the server can load it now; installed: CREATE EXTENSION done in this database;
    installable: its files are present; preloaded: in shared_preload_libraries."""

    available: bool
    installed: bool
    installable: bool
    preloaded: bool


@dataclass
class Capabilities:
    """What ``workbench doctor`` reports."""

    server_version: str
    server_version_num: int
    extensions: dict[str, ExtensionState]
    pgbench_path: str
    pgbench_version: str
    settings: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The CLI contract: booleans per extension, plus details."""
        return {
            "server_version": self.server_version,
            "server_version_num": self.server_version_num,
            "extensions": {name: state.available for name, state in self.extensions.items()},
            "extension_details": {name: asdict(state) for name, state in self.extensions.items()},
            "pgbench": {"path": self.pgbench_path, "version": self.pgbench_version},
            "settings": self.settings,
        }


def probe(dsn: str | None = None, database: str | None = None) -> Capabilities:
    """Probe the server (starting the embedded one if no DSN) and the local pgbench.

    >>> probe().extensions["pg_stat_statements"].available  # doctest: +SKIP
    True
    """
    with connect(dsn, database=database) as conn:
        preload = {
            lib.strip()
            for lib in str(conn.execute("SHOW shared_preload_libraries").fetchone()[0]).split(",")
            if lib.strip()
        }
        files = {
            name
            for (name,) in conn.execute(
                "SELECT name FROM pg_available_extensions WHERE name = ANY(%s)",
                [list(PROBED_EXTENSIONS)],
            )
        }
        installed = {name for (name,) in conn.execute("SELECT extname FROM pg_extension")}
        states = {
            "pg_stat_statements": ExtensionState(
                available="pg_stat_statements" in files and "pg_stat_statements" in preload,
                installed="pg_stat_statements" in installed,
                installable="pg_stat_statements" in files,
                preloaded="pg_stat_statements" in preload,
            ),
            # auto_explain is a loadable module, not an extension: it works when preloaded.
            "auto_explain": ExtensionState(
                available="auto_explain" in preload, installed="auto_explain" in preload,
                installable="auto_explain" in preload, preloaded="auto_explain" in preload,
            ),
            "hypopg": ExtensionState(
                available="hypopg" in files, installed="hypopg" in installed,
                installable="hypopg" in files, preloaded=False,
            ),
        }
        settings = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name = ANY(%s) ORDER BY name",
                [list(MEASURED_SETTINGS)],
            ).fetchall()
        )
        version, version_num = server_version(conn), server_version_num(conn)
    bench = pgbench_path()
    return Capabilities(version, version_num, states, str(bench), tool_version(bench), settings)


MEASURED_SETTINGS = (
    "shared_preload_libraries", "track_io_timing", "track_wal_io_timing", "compute_query_id",
    "pg_stat_statements.track", "shared_buffers", "work_mem", "effective_cache_size",
    "random_page_cost", "jit", "max_connections", "max_wal_size", "synchronous_commit", "fsync",
    "wal_level", "max_parallel_workers_per_gather",
)
