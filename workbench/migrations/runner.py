"""Running one migration file and recording it as Flyway does, under Flyway's advisory lock.

A file whose statements can all run in a transaction runs in one, with its history row: if it
fails, nothing of it stays and no row claims it (PostgreSQL has transactional DDL, so Flyway
records nothing either). A file of statements PostgreSQL refuses in a transaction (``CREATE INDEX
CONCURRENTLY`` ...) runs statement by statement; a failure is recorded with ``success = false``
and the error names the statement's line. A failed ``CREATE INDEX CONCURRENTLY`` or ``REINDEX
CONCURRENTLY`` leaves an INVALID index behind in PostgreSQL: the runner drops it (concurrently)
before reporting, and drops an INVALID leftover of the same name before building, so a retry
rebuilds the index instead of "succeeding" on top of an unusable one.

SQL callbacks run as Flyway runs them: ``beforeEachMigrate`` / ``afterEachMigrate`` (and the
undo ones) inside the migration's transaction, before and after its statements (a failing
callback fails the migration); ``afterEachMigrateError`` after a failure; the whole-operation
events (:func:`fire`) in a transaction of their own, or statement by statement when one cannot
run in a transaction (a ``VACUUM`` in ``afterMigrate``). Callbacks are never recorded.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from typing import Any

import psycopg
from pglast import ast
from psycopg import sql

from workbench.errors import WorkbenchError
from workbench.migrations.files import Migration, MigrationSet
from workbench.migrations.flyway import abbreviate
from workbench.migrations.sqltext import Statement, has_option

HISTORY = "flyway_schema_history"
# Flyway's PostgreSQLAdvisoryLockTemplate: "Flyway" in ASCII plus the history table's hashCode.
LOCK_MAGIC = (0x46 << 40) + (0x6C << 32) + (0x79 << 24) + (0x77 << 16) + (0x61 << 8) + 0x79
LOCK_WAIT_S = 50.0  # Flyway retries 50 times, a second apart
CLEANUP_TIMEOUT = "60s"  # how long dropping an INVALID leftover may wait for running writers


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


def java_hash(text: str) -> int:
    """Java's ``String.hashCode`` (UTF-16 code units, 32-bit wrap-around).

    >>> java_hash("hello")
    99162322
    """
    h = 0
    for unit in text.encode("utf-16-be").hex(" ", 2).split():
        h = (31 * h + int(unit, 16)) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def lock_key(schema: str) -> int:
    """The advisory lock Flyway takes for ``"schema"."flyway_schema_history"``."""
    return LOCK_MAGIC + java_hash(f'"{schema}"."{HISTORY}"')


@contextmanager
def migration_lock(conn: psycopg.Connection[Any], schema: str,
                   wait: float = LOCK_WAIT_S) -> Iterator[None]:
    """Hold Flyway's session advisory lock for the history table (Flyway and the workbench
    exclude each other), waiting up to ``wait`` seconds for another runner to finish."""
    key = lock_key(schema)
    deadline = time.monotonic() + wait
    while not conn.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()[0]:
        if time.monotonic() >= deadline:
            raise WorkbenchError(
                f"another migration runner holds the lock on {schema}.{HISTORY} "
                f"(advisory lock {key})", "wait for it to finish, then run the command again")
        time.sleep(min(1.0, max(0.05, wait / 50)))
    try:
        yield
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", [key])


def history_table(schema: str) -> sql.Composed:
    """``"schema"."flyway_schema_history"``."""
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(HISTORY))


def record(conn: psycopg.Connection[Any], schema: str, *, version: str | None, description: str,
           kind: str, script: str, checksum: int | None, millis: int, success: bool) -> None:
    """Insert a history row exactly as Flyway writes it (next installed_rank, current_user)."""
    conn.execute(sql.SQL(
        "INSERT INTO {0} (installed_rank, version, description, type, script, checksum, "
        "installed_by, execution_time, success) SELECT coalesce(max(installed_rank), 0) + 1, "
        "%s, %s, %s, %s, %s, current_user, %s, %s FROM {0}").format(history_table(schema)),
        [version, abbreviate(description), kind, script, checksum, millis, success])


def run(conn: psycopg.Connection[Any], migration: Migration, schema: str, *,
        mixed: bool = False, callbacks: MigrationSet | None = None) -> Applied:
    """Run a migration file and record it (see the module docstring), with the folder's
    ``beforeEach``/``afterEach`` callbacks around it."""
    if migration.mixed and not mixed:
        raise mixed_error(migration)
    each = "Undo" if migration.kind == "undo" else "Migrate"
    before, after = (callbacks.callbacks_for(f"{when}Each{each}") if callbacks else []
                     for when in ("before", "after"))
    started = time.perf_counter()
    timings: list[dict[str, Any]] = []
    if migration.transactional:
        try:
            with conn.transaction():
                _callbacks(conn, before, _execute)
                for stmt in migration.statements:
                    timings.append(_execute(conn, stmt))
                _callbacks(conn, after, _execute)
                _record(conn, migration, schema, started, True)
        except _CallbackFailed as failed:
            _after_error(conn, callbacks, each)
            raise failed.error(migration, "nothing of this migration was applied (it ran in one "
                               "transaction with its callbacks)") from None
        except psycopg.Error as exc:
            line = migration.statements[min(len(timings), len(migration.statements) - 1)].line
            _after_error(conn, callbacks, each)
            raise WorkbenchError(
                f"{migration.script}: line {line}: {_first_line(exc)}",
                "nothing of this migration was applied (it ran in one transaction); fix it and "
                "run again") from None
    else:
        _run_outside(conn, migration, schema, started, timings, callbacks, before, after)
    return Applied(migration.version_text, migration.script, migration.kind,
                   round(time.perf_counter() - started, 3), timings)


def _run_outside(conn: psycopg.Connection[Any], migration: Migration, schema: str,
                 started: float, timings: list[dict[str, Any]], callbacks: MigrationSet | None,
                 before: list[Migration], after: list[Migration]) -> None:
    """A file PostgreSQL cannot run in a transaction: statement by statement, a failure recorded
    and named by line, its callbacks around it."""
    each = "Undo" if migration.kind == "undo" else "Migrate"
    try:
        _callbacks(conn, before, _execute_outside)
    except _CallbackFailed as failed:
        _after_error(conn, callbacks, each)
        raise failed.error(migration, "nothing of this migration ran") from None
    for stmt in migration.statements:
        try:
            timings.append(_execute_outside(conn, stmt))
        except psycopg.Error as exc:
            cleaned = _clean_up(conn, stmt)
            _record(conn, migration, schema, started, False)
            _after_error(conn, callbacks, each)
            ran = ", ".join(str(t["line"]) for t in timings) or "none"
            raise WorkbenchError(
                f"{migration.script}: line {stmt.line}: {_first_line(exc)} (recorded as "
                f"failed; statements before it ran and stay applied: lines {ran}{cleaned})",
                "it ran outside a transaction: fix the cause, `workbench migrate repair`, "
                "then apply again") from None
    try:
        _callbacks(conn, after, _execute_outside)
    except _CallbackFailed as failed:
        _record(conn, migration, schema, started, False)
        _after_error(conn, callbacks, each)
        raise failed.error(migration, "its statements ran outside a transaction and stay "
                           "applied; recorded as failed: `workbench migrate repair`, then "
                           "apply again") from None
    _record(conn, migration, schema, started, True)


class _CallbackFailed(Exception):
    """A callback statement failed (the migration's own error message names it)."""

    def __init__(self, callback: Migration, line: int, exc: Exception) -> None:
        super().__init__(callback.script)
        self.callback, self.line, self.exc = callback, line, exc

    def error(self, migration: Migration | None, hint: str) -> WorkbenchError:
        around = f" (around {migration.script})" if migration is not None else ""
        return WorkbenchError(f"callback {self.callback.script}{around}: line {self.line}: "
                              f"{_first_line(self.exc)}", hint)


def _callbacks(conn: psycopg.Connection[Any], callbacks: list[Migration], execute: Any) -> None:
    for callback in callbacks:
        for stmt in callback.statements:
            try:
                execute(conn, stmt)
            except psycopg.Error as exc:
                raise _CallbackFailed(callback, stmt.line, exc) from None


def fire(conn: psycopg.Connection[Any], callbacks: MigrationSet | None, event: str) -> None:
    """Run the callbacks of a whole-operation event (``beforeMigrate``, ``afterMigrate``, ...):
    each file in one transaction, or statement by statement when it cannot run in one."""
    for callback in callbacks.callbacks_for(event) if callbacks else []:
        try:
            if callback.transactional:
                with conn.transaction():
                    _callbacks(conn, [callback], _execute)
            else:
                _callbacks(conn, [callback], _execute_outside)
        except _CallbackFailed as failed:
            raise failed.error(None, f"the {event} callback failed; fix it and run again") \
                from None


def fire_after_error(conn: psycopg.Connection[Any], callbacks: MigrationSet | None,
                     event: str) -> None:
    """An error event's callbacks after a failure: that failure is the news, not theirs."""
    with suppress(WorkbenchError):
        fire(conn, callbacks, event)


def _after_error(conn: psycopg.Connection[Any], callbacks: MigrationSet | None, each: str) -> None:
    fire_after_error(conn, callbacks, f"afterEach{each}Error")


def _clean_up(conn: psycopg.Connection[Any], stmt: Statement) -> str:
    """Drop what a failed concurrent build left, under a bounded statement_timeout (the
    migration may have set a short one); say what was done, or what is left to do."""
    previous = conn.execute("SELECT current_setting('statement_timeout')").fetchone()[0]
    conn.execute("SELECT set_config('statement_timeout', %s, false)", [CLEANUP_TIMEOUT])
    try:
        dropped = drop_invalid_leftovers(conn, stmt)
    except (psycopg.Error, WorkbenchError) as exc:
        return f"; could not drop the INVALID index it left ({_first_line(exc)}): run " \
               "`migrate repair` and apply again, which drops it before rebuilding"
    finally:
        conn.execute("SELECT set_config('statement_timeout', %s, false)", [previous])
    return f"; dropped the INVALID index {', '.join(dropped)} it left" if dropped else ""


def mixed_error(migration: Migration) -> WorkbenchError:
    """Flyway's refusal of a file mixing transactional and non-transactional statements."""
    first = migration.mixed[0]
    return WorkbenchError(
        f"{migration.script} mixes transactional and non-transactional statements (line "
        f"{first.line}: {first.sql.split()[0].upper()} ... cannot run in a transaction)",
        "split the file, or pass --mixed to run each of its statements on its own (as Flyway's "
        "mixed=true)")


def _record(conn: psycopg.Connection[Any], migration: Migration, schema: str, started: float,
            success: bool) -> None:
    record(conn, schema, version=migration.version_text, description=migration.description,
           kind=migration.flyway_type, script=migration.script, checksum=migration.checksum,
           millis=int((time.perf_counter() - started) * 1000), success=success)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _execute(conn: psycopg.Connection[Any], stmt: Statement) -> dict[str, Any]:
    started = time.time()
    conn.execute(stmt.sql)  # type: ignore[call-overload]  # the migration file's own SQL
    return {"line": stmt.line, "started": started, "seconds": round(time.time() - started, 4),
            "sql": stmt.sql[:200]}


def _execute_outside(conn: psycopg.Connection[Any], stmt: Statement) -> dict[str, Any]:
    """One statement in autocommit; an INVALID leftover of the index it builds goes first."""
    unnamed_build = isinstance(stmt.node, ast.IndexStmt) and not stmt.node.idxname
    dropped = [] if unnamed_build else drop_invalid_leftovers(conn, stmt)
    timing = _execute(conn, stmt)
    if dropped:
        timing["dropped_invalid"] = dropped
    return timing


def _index_target(stmt: Statement) -> tuple[str | None, str | None, str | None]:
    """(schema, table, index name) a concurrent index build or reindex works on."""
    node = stmt.node
    if isinstance(node, ast.IndexStmt) and node.concurrent:
        return node.relation.schemaname, node.relation.relname, node.idxname
    if isinstance(node, ast.ReindexStmt) and has_option(node.params, "concurrently") \
            and node.relation is not None:
        return node.relation.schemaname, node.relation.relname, None
    return None, None, None


_INVALID = """
SELECT n.nspname, c.relname,
       EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.index_relid = c.oid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT i.indisvalid AND {where}
"""


def drop_invalid_namesake(conn: psycopg.Connection[Any], stmt: Statement) -> list[str]:
    """Before ``CREATE INDEX CONCURRENTLY [IF NOT EXISTS] name``: drop an INVALID index of that
    name left by an earlier failure, so the statement builds it again."""
    schema, table, name = _index_target(stmt)
    if not name or not isinstance(stmt.node, ast.IndexStmt):
        return []
    where = ("c.relname = %s AND c.relnamespace = coalesce(to_regnamespace(%s), "
             "(SELECT relnamespace FROM pg_class WHERE oid = to_regclass(%s)))")
    rows = conn.execute(_INVALID.format(where=where),  # type: ignore[arg-type]
                        [name, schema, _qualified(schema, table)]).fetchall()
    return _drop(conn, rows)


def drop_invalid_leftovers(conn: psycopg.Connection[Any], stmt: Statement) -> list[str]:
    """After a failed concurrent build or reindex: drop the INVALID indexes it left on its table
    (the named index, or REINDEX's ``*_ccnew``/``*_ccold`` copies)."""
    schema, table, name = _index_target(stmt)
    if table is None:
        return []
    if isinstance(stmt.node, ast.ReindexStmt):
        find_table = "SELECT indrelid FROM pg_index WHERE indexrelid = to_regclass(%s)" \
            if stmt.node.kind.name == "REINDEX_OBJECT_INDEX" else "SELECT to_regclass(%s)::oid"
        found = conn.execute(find_table, [_qualified(schema, table)]).fetchone()
        where = "i.indrelid = %s AND c.relname ~ '_cc(new|old)[0-9]*$'"
        rows = conn.execute(_INVALID.format(where=where),  # type: ignore[arg-type]
                            [found[0] if found else None]).fetchall()
    elif name:
        return drop_invalid_namesake(conn, stmt)
    else:
        rows = conn.execute(_INVALID.format(where="i.indrelid = to_regclass(%s)"),  # type: ignore[arg-type]
                            [_qualified(schema, table)]).fetchall()
    return _drop(conn, rows)


def _drop(conn: psycopg.Connection[Any], rows: list[Any]) -> list[str]:
    dropped = []
    for namespace, name, in_progress in rows:
        if in_progress:
            raise WorkbenchError(f"index {namespace}.{name} is INVALID and being built by another "
                                 "session", "wait for that build to finish, then run again")
        conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}.{}").format(
            sql.Identifier(namespace), sql.Identifier(name)))
        dropped.append(f"{namespace}.{name}")
    return dropped


def _qualified(schema: str | None, table: str | None) -> str:
    parts = [p for p in (schema, table) if p]
    return ".".join(f'"{p}"' for p in parts)
