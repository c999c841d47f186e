"""What a killed or interrupted command can leave behind, found and cleaned.

- copies of template databases whose process is gone (``wb_copy_*``, see :mod:`workbench.copies`);
- staging folders of result folders (``.NAME.partial-PID``) under ``runs/``, ``experiments/``,
  ``rehearsals/`` and ``plans/``;
- pgbench log folders in the temporary folder (``workbench-run-PID-*``);
- INVALID indexes in databases the workbench owns (a build that was killed half-way; not one
  being built right now), dropped;
- ``wb_`` indexes the advisor or an experiment built in a database the workbench owns: listed
  with the statement that drops them (they may have been kept on purpose), dropped only when asked;
- template databases, only when asked (they are a cache: the next experiment reloads them).

Every command that starts a measurement cleans the first three itself; ``workbench cleanup``
does all of it on demand.

>>> cleanup(dry_run=True).to_json()["copies"]   # doctest: +SKIP
[]
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from psycopg import sql

from workbench.connect import connect, resolve_dsn
from workbench.copies import clean_leftovers, leftover_copies, templates
from workbench.databases import MAINTENANCE_DB, read_marker
from workbench.folders import clean_stale_partials

RESULT_FOLDERS = ("runs", "experiments", "rehearsals", "plans")


@dataclass
class CleanupReport:
    """What was found, and what was removed (nothing with ``dry_run``)."""

    copies: list[str] = field(default_factory=list)
    copies_in_use: list[str] = field(default_factory=list)
    partial_folders: list[str] = field(default_factory=list)
    temp_folders: list[str] = field(default_factory=list)
    invalid_indexes: list[str] = field(default_factory=list)
    workbench_indexes: list[dict[str, str]] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        """The ``workbench cleanup --json`` document."""
        return asdict(self)


def cleanup(dsn: str | None = None, *, dry_run: bool = False, drop_indexes: bool = False,
            drop_templates: bool = False, root: Path = Path(".")) -> CleanupReport:
    """Find (and unless ``dry_run`` remove) what killed or interrupted commands left behind."""
    server = resolve_dsn(dsn)
    report = CleanupReport(dry_run=dry_run)
    for item in leftover_copies(server):
        (report.copies if item["orphaned"] else report.copies_in_use).append(item["name"])
    if not dry_run:
        clean_leftovers(server)
    for name in RESULT_FOLDERS:
        folder = root / name
        report.partial_folders += [str(p) for p in _stale(folder, dry_run)]
    report.temp_folders = [str(p) for p in _stale_temp(dry_run)]
    for database in _owned_databases(server):
        with connect(server, database=database) as conn:
            for schema, name, valid in conn.execute(
                    "SELECT n.nspname, c.relname, i.indisvalid FROM pg_index i "
                    "JOIN pg_class c ON c.oid = i.indexrelid "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE (NOT i.indisvalid OR c.relname LIKE 'wb\\_%') AND NOT EXISTS ("
                    "  SELECT 1 FROM pg_stat_progress_create_index p "
                    "  WHERE p.index_relid = i.indexrelid) ORDER BY 1, 2").fetchall():
                statement = sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}.{}").format(
                    sql.Identifier(schema), sql.Identifier(name))
                text = statement.as_string(conn)
                if not valid:
                    report.invalid_indexes.append(f"{database}: {schema}.{name}")
                else:
                    report.workbench_indexes.append({"database": database,
                                                     "index": f"{schema}.{name}", "drop": text})
                if not dry_run and (not valid or drop_indexes):
                    conn.execute(statement)
    if drop_templates:
        report.templates = templates(server)
        if not dry_run:
            with connect(server, database=MAINTENANCE_DB) as conn:
                for name in report.templates:
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(name)))
    return report


def _owned_databases(dsn: str) -> list[str]:
    with connect(dsn, database=MAINTENANCE_DB) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate "
            "AND datname <> %s ORDER BY 1", [MAINTENANCE_DB]).fetchall()]
    owned = []
    for name in names:
        with contextlib.suppress(Exception), connect(dsn, database=name) as conn:
            if read_marker(conn) is not None:
                owned.append(name)
    return owned


def _stale(folder: Path, dry_run: bool) -> list[Path]:
    if dry_run:
        return [p for p in folder.glob(".*.partial-*") if _dead(p.name.rsplit("-", 1)[-1])]
    return clean_stale_partials(folder)


def _stale_temp(dry_run: bool) -> list[Path]:
    import shutil

    found = []
    prefix = "workbench-run-"
    for path in Path(tempfile.gettempdir()).glob(f"{prefix}*"):
        if _dead(path.name[len(prefix):].split("-", 1)[0]):
            found.append(path)
            if not dry_run:
                shutil.rmtree(path, ignore_errors=True)
    return found


def _dead(pid: str) -> bool:
    import os

    return pid.isdigit() and int(pid) != os.getpid() and not Path(f"/proc/{pid}").exists()
