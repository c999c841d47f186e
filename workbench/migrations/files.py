"""Flyway-convention migration files: ``V<version>__<description>.sql`` (versioned),
``U<version>__<description>.sql`` (undo), ``R__<description>.sql`` (repeatable), and SQL
callbacks named for a Flyway event (``beforeMigrate.sql``, ``afterEachMigrate__grants.sql``).

A folder is read as Flyway reads a location: with its subfolders, each file's ``script`` being
its path relative to the folder (what Flyway records in ``flyway_schema_history``); one version
twice anywhere in it is an error.

Versions compare numerically by dotted parts (``V1_1`` is 1.1, as in Flyway; 1.10 > 1.9).
Checksums are Flyway's (``ChecksumCalculator``): the file is read line by line as Java's
``BufferedReader.readLine`` splits it (on ``\n``, ``\r`` and ``\r\n`` only, nothing else), one
byte-order mark is removed from the first line, and CRC32 runs over the lines' UTF-8 bytes without
their line breaks; the result is stored as a signed 32-bit integer. A history shared with Flyway
therefore agrees. Statements come from PostgreSQL's own parser (:mod:`.sqltext`).

>>> folder = read_migrations(Path("datasets/shop/migrations"))     # doctest: +SKIP
>>> [m.version_text for m in folder.versioned]                     # doctest: +SKIP
['1']
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError
from workbench.migrations.sqltext import SqlText, Statement, parse_sql_text

_NAME = re.compile(r"^(?P<prefix>[VU])(?P<version>\d+(?:[._]\d+)*)__(?P<desc>.+)\.sql$")
_REPEATABLE = re.compile(r"^R__(?P<desc>.+)\.sql$")
# Flyway's callback events (org.flywaydb.core.api.callback.Event): a file named for one, with or
# without ``__<description>``, is a callback, not a migration, and is never recorded.
CALLBACK_EVENTS = (
    "beforeMigrate", "beforeEachMigrate", "beforeEachMigrateStatement",
    "afterEachMigrateStatement", "afterEachMigrateStatementError", "afterEachMigrate",
    "afterEachMigrateError", "beforeRepeatables", "afterVersioned", "afterMigrate",
    "afterMigrateApplied", "afterMigrateError", "beforeUndo", "beforeEachUndo",
    "beforeEachUndoStatement", "afterEachUndoStatement", "afterEachUndoStatementError",
    "afterEachUndo", "afterEachUndoError", "afterUndo", "afterUndoError", "beforeClean",
    "afterClean", "afterCleanError", "beforeValidate", "afterValidate", "afterValidateError",
    "beforeBaseline", "afterBaseline", "afterBaselineError", "beforeRepair", "afterRepair",
    "afterRepairError", "beforeInfo", "afterInfo", "afterInfoError", "createSchema",
    "afterMigrateOperationFinish", "afterInfoOperationFinish")
# ... and the ones the workbench runs (around apply and undo), in Flyway's order of firing.
RUN_EVENTS = ("beforeMigrate", "beforeEachMigrate", "afterEachMigrate", "afterEachMigrateError",
              "afterVersioned", "beforeRepeatables", "afterMigrateApplied", "afterMigrate",
              "afterMigrateError", "beforeUndo", "beforeEachUndo", "afterEachUndo",
              "afterEachUndoError", "afterUndo", "afterUndoError")


def callback_event(name: str) -> str | None:
    """The Flyway event a file name stands for, else None.

    >>> callback_event("afterMigrate__refresh_views.sql"), callback_event("V1__init.sql")
    ('afterMigrate', None)
    """
    if not name.endswith(".sql"):
        return None
    event = name.removesuffix(".sql").split("__", 1)[0]
    return event if event in CALLBACK_EVENTS else None
@dataclass
class Migration:
    """A migration file."""

    path: Path
    kind: str  # "versioned", "undo", "repeatable" or "callback"
    version: tuple[int, ...] | None
    version_text: str | None
    description: str
    checksum: int
    statements: list[Statement] = field(default_factory=list)
    sql: SqlText | None = field(default=None, repr=False)
    relative: str | None = None  # path below the folder read (subfolders included)
    event: str | None = None     # a callback's event

    @property
    def script(self) -> str:
        """The path relative to the folder it was read from, as Flyway records it."""
        return self.relative or self.path.name

    @property
    def transactional(self) -> bool:
        """True when every statement can run inside one transaction."""
        return all(s.transactional for s in self.statements)

    @property
    def mixed(self) -> list[Statement]:
        """The non-transactional statements of a file that also has transactional ones (Flyway
        refuses such a file unless ``mixed`` is on), else ``[]``."""
        outside = [s for s in self.statements if not s.transactional]
        return outside if outside and len(outside) < len(self.statements) else []

    @property
    def flyway_type(self) -> str:
        """``SQL`` or ``UNDO_SQL``."""
        return "UNDO_SQL" if self.kind == "undo" else "SQL"


@dataclass
class MigrationSet:
    """A folder of migrations: versioned in order, undo by version, repeatable."""

    folder: Path
    versioned: list[Migration]
    undo: dict[tuple[int, ...], Migration]
    repeatable: list[Migration]
    callbacks: dict[str, list[Migration]] = field(default_factory=dict)  # by event, by name

    def callbacks_for(self, event: str) -> list[Migration]:
        """The callbacks of an event, in Flyway's order (by file name)."""
        return self.callbacks.get(event, [])

    def by_version(self, version: tuple[int, ...]) -> Migration | None:
        """The versioned migration of a version."""
        return next((m for m in self.versioned if m.version == version), None)


def parse_version(text: str) -> tuple[int, ...]:
    """``"1_2"`` / ``"1.2"`` → ``(1, 2)``; trailing zeros do not matter (1.0 == 1).

    >>> parse_version("1_10") > parse_version("1.9")
    True
    """
    parts = [int(p) for p in re.split(r"[._]", text)]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def flyway_checksum(text: str) -> int:
    """Flyway's checksum of a file's text (see the module docstring), signed like Java's int.

    >>> flyway_checksum("SELECT 1;\\n") == flyway_checksum("SELECT 1;\\r\\n") == flyway_checksum("SELECT 1;")
    True
    >>> flyway_checksum("123\\r\\n456\\r789\\n") == -873187034   # CRC-32 check value 0xCBF43926
    True
    >>> flyway_checksum("a\\fb") == flyway_checksum("ab")   # form feed is no line break for Java
    False
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    crc = zlib.crc32(re.sub("[\r\n]", "", text).encode("utf-8"))
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def split_statements(text: str, name: str = "<sql>") -> list[Statement]:
    """Statements with the line each starts on, as PostgreSQL's parser splits them."""
    return parse_sql_text(text, name).statements


def read_migration(path: Path, relative: str | None = None) -> Migration:
    """One file, named by the convention (or for a callback event)."""
    path = Path(path)
    name = path.name
    match = _NAME.match(name)
    repeat = _REPEATABLE.match(name)
    event = callback_event(name)
    if not match and not repeat and not event:
        raise WorkbenchError(
            f"{path}: not a Flyway migration name",
            "name it V<version>__<description>.sql, U<version>__...sql, R__<description>.sql "
            "or for a callback event (beforeMigrate.sql, afterMigrate__<description>.sql)",
        )
    from workbench.folders import read_text

    text = read_text(path, "migration")
    sql = parse_sql_text(text.removeprefix("\ufeff"), str(path))
    if event:
        description = name.removesuffix(".sql").partition("__")[2].replace("_", " ")
        return Migration(path, "callback", None, None, description, flyway_checksum(text),
                         sql.statements, sql, relative, event)
    if repeat:
        return Migration(path, "repeatable", None, None, repeat["desc"].replace("_", " "),
                         flyway_checksum(text), sql.statements, sql, relative)
    assert match is not None
    kind = "versioned" if match["prefix"] == "V" else "undo"
    return Migration(path, kind, parse_version(match["version"]), match["version"].replace("_", "."),
                     match["desc"].replace("_", " "), flyway_checksum(text), sql.statements, sql,
                     relative)


def read_migrations(folder: Path) -> MigrationSet:
    """Every migration and callback of a folder and its subfolders (or one file), checked for
    duplicate versions and orphan undos."""
    folder = Path(folder)
    if folder.is_file():
        files = [folder]
        folder = folder.parent
    elif folder.is_dir():
        files = sorted((p for p in folder.rglob("*.sql") if p.is_file()),
                       key=lambda p: p.relative_to(folder).as_posix())
    else:
        raise WorkbenchError(f"no migrations at {folder}", "pass a folder of V<version>__*.sql files")
    versioned: dict[tuple[int, ...], Migration] = {}
    undo: dict[tuple[int, ...], Migration] = {}
    repeatable: dict[str, Migration] = {}
    callbacks: dict[str, list[Migration]] = {}
    for path in files:
        migration = read_migration(path, path.relative_to(folder).as_posix())
        if migration.kind == "callback":
            assert migration.event is not None
            callbacks.setdefault(migration.event, []).append(migration)
            continue
        if migration.kind == "repeatable":
            _unique(repeatable, migration.description, migration, "repeatable description")
            continue
        assert migration.version is not None
        target = versioned if migration.kind == "versioned" else undo
        _unique(target, migration.version, migration, "version")
    for version, migration in undo.items():
        if version not in versioned and len(files) > 1:
            raise WorkbenchError(f"{migration.path}: undo of version {migration.version_text}, "
                                 "which has no versioned migration", "add V file or remove the U file")
    for found in callbacks.values():
        found.sort(key=lambda m: m.path.name)
    return MigrationSet(folder, [versioned[v] for v in sorted(versioned)], undo,
                        sorted(repeatable.values(), key=lambda m: m.description), callbacks)


def _unique(seen: dict[Any, Migration], key: Any, migration: Migration, what: str) -> None:
    """Flyway refuses a location holding one version (or repeatable description) twice."""
    other = seen.get(key)
    if other is not None:
        label = migration.version_text if what == "version" else migration.description
        raise WorkbenchError(f"{migration.script}: {what} {label} is also {other.script}",
                             "give each migration its own version (subfolders included: "
                             "Flyway reads them too)")
    seen[key] = migration
