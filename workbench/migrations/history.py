"""Applying, undoing and inspecting migrations with a history Flyway reads and writes too.

The history is Flyway's ``flyway_schema_history`` (same columns, primary key and index, in
``public`` by default, rows written exactly as Flyway writes them: types ``SQL``, ``UNDO_SQL``,
``BASELINE``, ``DELETE``), so a team can move between the tools. Every command that writes
takes Flyway's PostgreSQL advisory lock first, so two runners (of either tool) never interleave.

- ``apply`` validates first (as Flyway's validateOnMigrate: pending files allowed, Ignored ones
  only with ``out_of_order``) and applies nothing if the folder fails; files mixing statements
  that need a transaction-free run with others are refused unless ``mixed``.
- ``undo`` undoes the latest applied migration, or with ``target`` every applied version down to
  and including it, in reverse installed order (Flyway Teams' undo), recording ``UNDO_SQL``.
- ``repair`` removes failed rows, marks applied versions whose file is gone as deleted
  (``DELETE`` rows) and realigns checksums, descriptions and types with the files.
- ``baseline`` records a ``BASELINE`` row: versions at or below it are never run.

>>> apply(dsn, Path("datasets/shop/migration-examples/safe"))   # doctest: +SKIP
[Applied(version='2', script='V2__orders_gift_note.sql', ...)]
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from workbench.connect import connect, resolve_dsn
from workbench.databases import require_owned
from workbench.dsn import libpq_env
from workbench.errors import WorkbenchError
from workbench.migrations import flyway
from workbench.migrations.files import (
    RUN_EVENTS,
    MigrationSet,
    parse_version,
    read_migrations,
)
from workbench.migrations.runner import (
    HISTORY,
    LOCK_WAIT_S,
    Applied,
    fire,
    fire_after_error,
    history_table,
    migration_lock,
    mixed_error,
    record,
    run,
)
from workbench.tools import pg_bin

__all__ = ["Applied", "HISTORY", "applied_versions", "apply", "baseline", "ensure_history",
           "history_rows", "info", "repair", "schema_snapshot", "undo", "validate"]

BASELINE_DESCRIPTION = "<< Flyway Baseline >>"


def ensure_history(conn: psycopg.Connection[Any], schema: str = "public") -> None:
    """Create the history table as Flyway does (``createMetaDataTable.sql`` for PostgreSQL)."""
    exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL",
                          [f'"{schema}"."{HISTORY}"']).fetchone()[0]
    if exists:
        return
    table = history_table(schema)
    with conn.transaction():
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL(
            "CREATE TABLE {} (installed_rank INT NOT NULL, version VARCHAR(50), description "
            "VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, "
            "checksum INTEGER, installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT "
            "NULL DEFAULT now(), execution_time INTEGER NOT NULL, success BOOLEAN NOT NULL)"
        ).format(table))
        conn.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY (installed_rank)")
                     .format(table, sql.Identifier(f"{HISTORY}_pk")))
        conn.execute(sql.SQL("CREATE INDEX {} ON {} (success)").format(
            sql.Identifier(f"{HISTORY}_s_idx"), table))


def history_rows(conn: psycopg.Connection[Any], schema: str = "public") -> list[dict[str, Any]]:
    """Every history row, by installed_rank ([] when there is no history table)."""
    exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL",
                          [f'"{schema}"."{HISTORY}"']).fetchone()[0]
    if not exists:
        return []
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return list(cur.execute(sql.SQL("SELECT * FROM {} ORDER BY installed_rank").format(
            history_table(schema))).fetchall())


def applied_versions(rows: list[dict[str, Any]]) -> dict[tuple[int, ...], dict[str, Any]]:
    """Versions in force: applied successfully, not undone or deleted since (baselines count)."""
    return {i.version_key: i.applied for i in flyway.resolve(rows, [])
            if i.version_key is not None and i.applied is not None
            and i.state in ("Success", "Out of Order", "Baseline", "Future")
            and i.type in ("SQL", "BASELINE")}


@contextmanager
def _session(dsn: str | None, database: str | None, allow_destructive: bool, action: str,
             schema: str, lock_wait: float) -> Iterator[psycopg.Connection[Any]]:
    with connect(dsn, database=database) as conn:
        require_owned(conn, allow_destructive, action)
        with migration_lock(conn, schema, lock_wait):
            ensure_history(conn, schema)  # under the lock: two first runs cannot both create it
            if schema != "public":  # Flyway runs migrations with its schema first on search_path
                conn.execute("SELECT set_config('search_path', quote_ident(%s) || ', ' || "
                             "current_setting('search_path'), false)", [schema])
            yield conn


def _fail_on(problems: list[str], action: str) -> None:
    if problems:
        raise WorkbenchError(f"validation failed, nothing to {action}: " + "; ".join(problems),
                             "see `workbench migrate info`; fix the files or `migrate repair`")


def apply(dsn: str | None, folder: Path, *, target: str | None = None,
          database: str | None = None, allow_destructive: bool = False,
          history_schema: str = "public", out_of_order: bool = False, mixed: bool = False,
          lock_wait: float = LOCK_WAIT_S) -> list[Applied]:
    """Validate, then apply pending versioned migrations (up to ``target``) in version order,
    then new or changed repeatable ones."""
    migrations = read_migrations(Path(folder))
    done: list[Applied] = []
    with _session(dsn, database, allow_destructive, "apply migrations", history_schema,
                  lock_wait) as conn:
        infos = flyway.resolve(history_rows(conn, history_schema), migrations,
                               out_of_order=out_of_order, target=target)
        _fail_on(flyway.problems(infos, pending=True), "apply")
        todo = [i.resolved for i in infos if i.state in ("Pending", "Outdated")
                and i.resolved is not None and i.type in ("SQL",)]
        todo = sorted((m for m in todo if m.kind == "versioned"), key=lambda m: m.version) + \
            sorted((m for m in todo if m.kind == "repeatable"), key=lambda m: m.description)
        for migration in todo:
            if migration.mixed and not mixed:
                raise mixed_error(migration)
        versioned = [m for m in todo if m.kind == "versioned"]
        fire(conn, migrations, "beforeMigrate")
        try:
            for migration in versioned:
                done.append(run(conn, migration, history_schema, mixed=mixed,
                                callbacks=migrations))
            fire(conn, migrations, "afterVersioned")
            fire(conn, migrations, "beforeRepeatables")
            for migration in todo[len(versioned):]:
                done.append(run(conn, migration, history_schema, mixed=mixed,
                                callbacks=migrations))
        except WorkbenchError:
            fire_after_error(conn, migrations, "afterMigrateError")
            raise
        if done:
            fire(conn, migrations, "afterMigrateApplied")
        fire(conn, migrations, "afterMigrate")
    return done


def undo(dsn: str | None, folder: Path, *, target: str | None = None,
         database: str | None = None, allow_destructive: bool = False,
         history_schema: str = "public", mixed: bool = False,
         lock_wait: float = LOCK_WAIT_S) -> list[Applied]:
    """Undo the latest applied migration, or every applied version down to and including
    ``target``, in reverse installed order, each with its ``U`` file."""
    migrations = read_migrations(Path(folder))
    done: list[Applied] = []
    with _session(dsn, database, allow_destructive, "undo migrations", history_schema,
                  lock_wait) as conn:
        infos = flyway.resolve(history_rows(conn, history_schema), migrations)
        _fail_on(flyway.problems(infos, pending=True, ignored=True), "undo")
        applied = sorted((i for i in infos if i.type == "SQL" and i.version_key is not None
                          and i.state in ("Success", "Out of Order")),
                         key=lambda i: i.applied["installed_rank"], reverse=True)
        if target is None:
            chosen = applied[:1]
        else:
            limit = parse_version(target)
            chosen = [i for i in applied if i.version_key >= limit]
        if not chosen:
            raise WorkbenchError("no applied migration to undo" + (f" at or above {target}"
                                                                  if target else ""),
                                 "see `workbench migrate info`")
        missing = [i.version for i in chosen if i.version_key not in migrations.undo]
        if missing:
            raise WorkbenchError(f"no undo file for version {', '.join(missing)}",
                                 f"add U<version>__<description>.sql to {migrations.folder}")
        for info_ in chosen:
            undo_file = migrations.undo[info_.version_key]
            if undo_file.mixed and not mixed:
                raise mixed_error(undo_file)
        fire(conn, migrations, "beforeUndo")
        try:
            for info_ in chosen:
                done.append(run(conn, migrations.undo[info_.version_key], history_schema,
                                mixed=mixed, callbacks=migrations))
        except WorkbenchError:
            fire_after_error(conn, migrations, "afterUndoError")
            raise
        fire(conn, migrations, "afterUndo")
    return done


class MigrationInfo(list[dict[str, Any]]):
    """What :func:`info` returns: a list of one dict per migration (JSON as it is), shown as a
    table in notebooks and as aligned text by ``repr`` and ``workbench migrate info``."""

    COLUMNS = ("version", "description", "state", "script", "undo", "installed_on")

    def __init__(self, rows: Any = (), callbacks: list[dict[str, Any]] | None = None) -> None:
        super().__init__(rows)
        # SQL callbacks of the folder: script, event, and whether apply/undo runs them
        self.callbacks = callbacks or []

    def _rows(self) -> list[list[Any]]:
        return [["" if r.get(c) is None else r.get(c) for c in self.COLUMNS] for r in self]

    def text(self) -> str:
        """``version  type  state  script`` per migration (what ``migrate info`` prints), then
        the callbacks and whether the workbench runs them."""
        lines = [f"{r['version'] or '':>8}  {r['type']:<8} {r['state']:<15} {r['script']}"
                 for r in self] or ["no migrations"]
        lines += [f"{'':>8}  CALLBACK {c['event']:<15} {c['script']}"
                  + ("" if c["runs"] else "  (not run by the workbench)")
                  for c in self.callbacks]
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        from workbench.display import pretty, text_table

        pretty(printer, cycle, text_table(self.COLUMNS, self._rows()))

    def _repr_html_(self) -> str:
        from workbench.display import html_table

        states = ", ".join(f"{n} {s}" for s, n in sorted(
            {s: sum(1 for r in self if r["state"] == s) for s in {r["state"] for r in self}}.items()))
        return (f"<p><b>Migrations</b>: {states or 'none'}</p>"
                + html_table(self.COLUMNS, self._rows()))


def info(dsn: str | None, folder: Path, *, database: str | None = None,
         history_schema: str = "public", out_of_order: bool = False) -> MigrationInfo:
    """Every history row and file with its state, under Flyway's names (Pending, Success,
    Baseline, Below Baseline, Ignored, Out of Order, Undone, Deleted, Failed, Missing, Future,
    Outdated, Superseded, Above Target)."""
    migrations = read_migrations(Path(folder))
    with connect(dsn, database=database) as conn:
        rows = history_rows(conn, history_schema)
    callbacks = [{"script": c.script, "event": c.event, "runs": c.event in RUN_EVENTS}
                 for found in migrations.callbacks.values() for c in found]
    return MigrationInfo((i.to_json() for i in flyway.resolve(rows, migrations,
                                                          out_of_order=out_of_order)),
                         sorted(callbacks, key=lambda c: c["script"]))


def validate(dsn: str | None, folder: Path, *, database: str | None = None,
             history_schema: str = "public", out_of_order: bool = False) -> list[str]:
    """Flyway's validate: raises when a file is pending, ignored, failed, missing, changed
    (checksum, description or type) or an outdated repeatable; future versions are tolerated."""
    migrations = read_migrations(Path(folder))
    with connect(dsn, database=database) as conn:
        rows = history_rows(conn, history_schema)
    found = flyway.problems(flyway.resolve(rows, migrations, out_of_order=out_of_order),
                            ignored=out_of_order)
    if found:
        raise WorkbenchError("migrations do not match the history: " + "; ".join(found),
                             "apply pending files, restore changed ones, or `migrate repair`")
    return found


def repair(dsn: str | None, folder: Path | None = None, *, database: str | None = None,
           allow_destructive: bool = False, history_schema: str = "public",
           lock_wait: float = LOCK_WAIT_S) -> dict[str, Any]:
    """Flyway's repair, in one transaction: remove failed rows; with the folder, also mark
    applied versions whose file is gone as deleted and realign checksums, descriptions and
    types of applied rows with their files."""
    migrations = read_migrations(Path(folder)) if folder is not None else None
    with _session(dsn, database, allow_destructive, "repair the migration history",
                  history_schema, lock_wait) as conn, conn.transaction():
        table = history_table(history_schema)
        removed = conn.execute(sql.SQL("DELETE FROM {} WHERE NOT success").format(table)).rowcount
        deleted, aligned = [], []
        if migrations is not None:
            infos = flyway.resolve(history_rows(conn, history_schema), migrations,
                                   out_of_order=True)
            for item in infos:
                if item.state in flyway.MISSING_STATES and item.type not in flyway.SYNTHETIC:
                    row = item.applied
                    record(conn, history_schema, version=row["version"],
                           description=row["description"], kind="DELETE", script=row["script"],
                           checksum=row["checksum"], millis=0, success=row["success"])
                    deleted.append(row["version"] or row["description"])
            aligned = _realign(conn, table, infos, migrations)
    return {"removed": removed, "deleted": deleted, "aligned": aligned}


def _realign(conn: psycopg.Connection[Any], table: sql.Composed, infos: list[flyway.Info],
             migrations: MigrationSet) -> list[str]:
    aligned = []
    for item in infos:
        row, file = item.applied, item.resolved
        if row is None or file is None or file.version is None or item.state == "Ignored" \
                or row["type"] in flyway.SYNTHETIC:
            continue
        if (row["checksum"], row["description"], row["type"]) != (
                file.checksum, flyway.abbreviate(file.description), file.flyway_type):
            conn.execute(sql.SQL("UPDATE {} SET description = %s, type = %s, checksum = %s "
                                 "WHERE installed_rank = %s").format(table),
                         [flyway.abbreviate(file.description), file.flyway_type, file.checksum,
                          row["installed_rank"]])
            aligned.append(row["version"])
    return aligned


def baseline(dsn: str | None, *, version: str = "1", description: str = BASELINE_DESCRIPTION,
             database: str | None = None, allow_destructive: bool = False,
             history_schema: str = "public", lock_wait: float = LOCK_WAIT_S) -> dict[str, Any]:
    """Flyway's baseline: record that the schema is at ``version`` already (files at or below
    it are never run); refused when the history holds migrations."""
    parse_version(version)
    with _session(dsn, database, allow_destructive, "baseline the migration history",
                  history_schema, lock_wait) as conn:
        rows = [r for r in history_rows(conn, history_schema) if r["type"] != "SCHEMA"]
        if rows:
            raise WorkbenchError(
                f"{history_schema}.{HISTORY} already holds {len(rows)} row(s): a baseline must "
                "come first", "baseline a database before applying anything to it")
        record(conn, history_schema, version=version, description=description,
               kind="BASELINE", script=description, checksum=None, millis=0, success=True)
    return {"version": version, "description": description}


def schema_snapshot(dsn: str | None = None, database: str | None = None,
                    history_schema: str = "public") -> str:
    """``pg_dump --schema-only`` of the database without the workbench's own objects and the
    migration history: compare two snapshots to prove a round trip restored the schema."""
    env = libpq_env(resolve_dsn(dsn, database), with_database=True)
    out = subprocess.run(
        [str(pg_bin("pg_dump")), "--schema-only", "--no-owner", "--no-privileges",
         "--exclude-schema=workbench", f"--exclude-table={history_schema}.{HISTORY}"],
        env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise WorkbenchError(f"pg_dump failed: {out.stderr.strip().splitlines()[-1:]}",
                             "check the server and the pg_dump binary")
    lines = [ln for ln in out.stdout.splitlines()
             if ln and not ln.startswith(("--", "\\restrict", "\\unrestrict", "SET ", "SELECT "))]
    return "\n".join(lines)
