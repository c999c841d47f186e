"""Applying and undoing migrations with a history Flyway can read.

The history table has Flyway's columns (``flyway_schema_history``: installed_rank, version,
description, type, script, checksum, installed_by, installed_on, execution_time, success) and
lives in ``public`` by default, where Flyway looks, so a team can move between the tools.

A migration whose statements can all run in a transaction runs in one, with its history row: if
it fails, nothing of it stays and no row claims it. A migration with a statement that cannot
(``CREATE INDEX CONCURRENTLY`` ...) runs statement by statement; if one fails, a row with
``success = false`` records it and the error names the statement's line and what did run before it
(``workbench migrate repair`` removes failed rows once the schema is fixed).

>>> apply(dsn, Path("datasets/shop/migrations-examples/safe"))   # doctest: +SKIP
[Applied(version='2', script='V2__orders_gift_note.sql', seconds=0.01)]
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from workbench.connect import connect, resolve_dsn
from workbench.databases import require_owned
from workbench.dsn import libpq_env
from workbench.errors import WorkbenchError
from workbench.migrations.files import Migration, MigrationSet, parse_version, read_migrations
from workbench.tools import pg_bin

HISTORY = "flyway_schema_history"


@dataclass
class Applied:
    """A migration (or undo) that ran."""

    version: str | None
    script: str
    kind: str
    seconds: float
    statements: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        """Plain JSON."""
        return asdict(self)


def _history(schema: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(HISTORY))


def ensure_history(conn: psycopg.Connection[Any], schema: str = "public") -> None:
    """Create the history table (Flyway's layout) if it is not there."""
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    conn.execute(sql.SQL(
        "CREATE TABLE IF NOT EXISTS {} (installed_rank integer NOT NULL PRIMARY KEY, "
        "version varchar(50), description varchar(200) NOT NULL, type varchar(20) NOT NULL, "
        "script varchar(1000) NOT NULL, checksum integer, installed_by varchar(100) NOT NULL, "
        "installed_on timestamp NOT NULL DEFAULT now(), execution_time integer NOT NULL, "
        "success boolean NOT NULL)").format(_history(schema)))
    conn.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (success)").format(
        sql.Identifier(f"{HISTORY}_s_idx"), _history(schema)))


def history_rows(conn: psycopg.Connection[Any], schema: str = "public") -> list[dict[str, Any]]:
    """Every history row, by installed_rank."""
    exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL",
                          [f'"{schema}"."{HISTORY}"']).fetchone()[0]
    if not exists:
        return []
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return list(cur.execute(sql.SQL("SELECT * FROM {} ORDER BY installed_rank").format(
            _history(schema))).fetchall())


def applied_versions(rows: list[dict[str, Any]]) -> dict[tuple[int, ...], dict[str, Any]]:
    """Versions in force: applied successfully and not undone since."""
    current: dict[tuple[int, ...], dict[str, Any]] = {}
    for row in rows:
        if row["version"] is None or not row["success"]:
            continue
        version = parse_version(row["version"])
        if row["type"] == "UNDO_SQL":
            current.pop(version, None)
        else:
            current[version] = row
    return current


def apply(dsn: str | None, folder: Path, *, target: str | None = None, database: str | None = None,
          allow_destructive: bool = False, history_schema: str = "public") -> list[Applied]:
    """Apply pending versioned migrations (up to ``target``), then changed repeatable ones."""
    migrations = read_migrations(Path(folder))
    limit = parse_version(target) if target else None
    done: list[Applied] = []
    with connect(dsn, database=database) as conn:
        require_owned(conn, allow_destructive, "apply migrations")
        ensure_history(conn, history_schema)
        rows = history_rows(conn, history_schema)
        _refuse_if_broken(rows, migrations)
        current = applied_versions(rows)
        top = max(current) if current else ()
        for migration in migrations.versioned:
            assert migration.version is not None
            if migration.version in current or (limit and migration.version > limit):
                continue
            if migration.version < top:
                raise WorkbenchError(
                    f"{migration.script} (version {migration.version_text}) is older than the "
                    f"applied version {'.'.join(map(str, top))}",
                    "give it a version above the latest applied one")
            done.append(_run(conn, migration, history_schema))
        latest = {r["script"]: r["checksum"] for r in rows if r["version"] is None and r["success"]}
        for migration in migrations.repeatable:
            if latest.get(migration.script) != migration.checksum:
                done.append(_run(conn, migration, history_schema))
    return done


def undo(dsn: str | None, folder: Path, *, target: str | None = None, database: str | None = None,
         allow_destructive: bool = False, history_schema: str = "public") -> list[Applied]:
    """Undo applied versions above ``target`` (default: the latest one only), newest first."""
    migrations = read_migrations(Path(folder))
    done: list[Applied] = []
    with connect(dsn, database=database) as conn:
        require_owned(conn, allow_destructive, "undo migrations")
        ensure_history(conn, history_schema)
        current = applied_versions(history_rows(conn, history_schema))
        if not current:
            raise WorkbenchError("no applied migration to undo", "see `workbench migrate info`")
        limit = parse_version(target) if target else sorted(current)[-2] if len(current) > 1 else ()
        for version in sorted(current, reverse=True):
            if version <= limit:
                break
            undo_file = migrations.undo.get(version)
            if undo_file is None:
                raise WorkbenchError(f"no undo file for version {'.'.join(map(str, version))}",
                                     f"add U{'.'.join(map(str, version))}__<description>.sql to "
                                     f"{migrations.folder}")
            done.append(_run(conn, undo_file, history_schema))
    return done


class MigrationInfo(list[dict[str, Any]]):
    """What :func:`info` returns: a list of one dict per migration (JSON as it is), shown as a
    table in notebooks and as aligned text by ``repr`` and ``workbench migrate info``."""

    COLUMNS = ("version", "description", "state", "script", "undo", "installed_on")

    def _rows(self) -> list[list[Any]]:
        return [["" if r.get(c) is None else r.get(c) for c in self.COLUMNS] for r in self]

    def text(self) -> str:
        """``version  state  script`` per migration."""
        return "\n".join(f"{r['version']:>6}  {r['state']:<9} {r['script']}" for r in self)

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
         history_schema: str = "public") -> MigrationInfo:
    """Every migration with its state: Pending, Success, Undone, Failed, Outdated, Missing."""
    migrations = read_migrations(Path(folder))
    with connect(dsn, database=database) as conn:
        rows = history_rows(conn, history_schema)
    current = applied_versions(rows)
    last = {parse_version(r["version"]): r for r in rows if r["version"] is not None}
    out = []
    for migration in migrations.versioned:
        assert migration.version is not None
        row = last.get(migration.version)
        if row is None:
            state = "Pending"
        elif not row["success"]:
            state = "Failed"
        elif migration.version not in current:
            state = "Undone"
        elif row["checksum"] != migration.checksum:
            state = "Outdated"
        else:
            state = "Success"
        out.append({"version": migration.version_text, "description": migration.description,
                    "type": "SQL", "script": migration.script, "state": state,
                    "undo": migration.version in migrations.undo,
                    "installed_on": str(row["installed_on"]) if row else None,
                    "execution_time": row["execution_time"] if row else None})
    known = {m.version for m in migrations.versioned}
    for version, row in current.items():
        if version not in known:
            out.append({"version": row["version"], "description": row["description"], "type": "SQL",
                        "script": row["script"], "state": "Missing", "undo": False,
                        "installed_on": str(row["installed_on"]), "execution_time": row["execution_time"]})
    return MigrationInfo(out)


def validate(dsn: str | None, folder: Path, *, database: str | None = None,
             history_schema: str = "public") -> list[str]:
    """Problems between the files and the history; raises when there is any."""
    problems = [f"{i['script']}: {i['state'].lower()}" for i in info(dsn, folder, database=database,
                                                                      history_schema=history_schema)
                if i["state"] in ("Failed", "Outdated", "Missing")]
    if problems:
        raise WorkbenchError("migrations do not match the history: " + "; ".join(problems),
                             "an applied file was edited (Outdated), failed, or is gone (Missing)")
    return problems


def repair(dsn: str | None, *, database: str | None = None, allow_destructive: bool = False,
           history_schema: str = "public") -> int:
    """Remove failed rows from the history (after fixing the schema by hand)."""
    with connect(dsn, database=database) as conn:
        require_owned(conn, allow_destructive, "repair the migration history")
        ensure_history(conn, history_schema)
        cur = conn.execute(sql.SQL("DELETE FROM {} WHERE NOT success").format(_history(history_schema)))
        return cur.rowcount


def _refuse_if_broken(rows: list[dict[str, Any]], migrations: MigrationSet) -> None:
    failed = [r for r in rows if not r["success"]]
    if failed:
        raise WorkbenchError(f"{failed[-1]['script']} failed earlier and is recorded as failed",
                             "fix the schema by hand, then run `workbench migrate repair`")
    for version, row in applied_versions(rows).items():
        migration = migrations.by_version(version)
        if migration is not None and row["type"] == "SQL" and row["checksum"] != migration.checksum:
            raise WorkbenchError(
                f"{migration.script} was edited after it was applied (checksum {migration.checksum}, "
                f"recorded {row['checksum']})",
                "restore the applied file and put the change in a new version")


def _run(conn: psycopg.Connection[Any], migration: Migration, schema: str) -> Applied:
    started = time.perf_counter()
    timings: list[dict[str, Any]] = []
    if migration.transactional:
        try:
            with conn.transaction():
                for stmt in migration.statements:
                    timings.append(_execute(conn, stmt.sql, stmt.line))
                _record(conn, migration, schema, time.perf_counter() - started, True)
        except psycopg.Error as exc:
            line = migration.statements[len(timings)].line if len(timings) < len(migration.statements) \
                else migration.statements[-1].line
            raise WorkbenchError(
                f"{migration.script}: line {line}: {str(exc).splitlines()[0]}",
                "nothing of this migration was applied (it ran in one transaction); fix it and retry",
            ) from None
    else:
        for stmt in migration.statements:
            try:
                timings.append(_execute(conn, stmt.sql, stmt.line))
            except psycopg.Error as exc:
                _record(conn, migration, schema, time.perf_counter() - started, False)
                ran = ", ".join(str(t["line"]) for t in timings) or "none"
                raise WorkbenchError(
                    f"{migration.script}: line {stmt.line}: {str(exc).splitlines()[0]} (statements "
                    f"before it ran and stay applied: lines {ran})",
                    "it ran outside a transaction; fix the schema, `workbench migrate repair`, retry",
                ) from None
        _record(conn, migration, schema, time.perf_counter() - started, True)
    return Applied(migration.version_text, migration.script, migration.kind,
                   round(time.perf_counter() - started, 3), timings)


def _execute(conn: psycopg.Connection[Any], text: str, line: int) -> dict[str, Any]:
    started = time.time()
    conn.execute(text)  # type: ignore[arg-type]  # the migration file's own SQL
    return {"line": line, "started": started, "seconds": round(time.time() - started, 4),
            "sql": text[:200]}


def _record(conn: psycopg.Connection[Any], migration: Migration, schema: str, seconds: float,
            success: bool) -> None:
    conn.execute(sql.SQL(
        "INSERT INTO {0} (installed_rank, version, description, type, script, checksum, "
        "installed_by, execution_time, success) SELECT coalesce(max(installed_rank), 0) + 1, "
        "%s, %s, %s, %s, %s, current_user, %s, %s FROM {0}").format(_history(schema)),
        [migration.version_text, migration.description, migration.flyway_type, migration.script,
         migration.checksum, int(seconds * 1000), success])


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


