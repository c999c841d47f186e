"""Flyway-convention migration files: ``V<version>__<description>.sql`` (versioned),
``U<version>__<description>.sql`` (undo), ``R__<description>.sql`` (repeatable).

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

from workbench.errors import WorkbenchError
from workbench.migrations.sqltext import SqlText, Statement, parse_sql_text

_NAME = re.compile(r"^(?P<prefix>[VU])(?P<version>\d+(?:[._]\d+)*)__(?P<desc>.+)\.sql$")
_REPEATABLE = re.compile(r"^R__(?P<desc>.+)\.sql$")
@dataclass
class Migration:
    """A migration file."""

    path: Path
    kind: str  # "versioned", "undo" or "repeatable"
    version: tuple[int, ...] | None
    version_text: str | None
    description: str
    checksum: int
    statements: list[Statement] = field(default_factory=list)
    sql: SqlText | None = field(default=None, repr=False)

    @property
    def script(self) -> str:
        """The file name, as Flyway records it."""
        return self.path.name

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


def read_migration(path: Path) -> Migration:
    """One file, named by the convention."""
    path = Path(path)
    name = path.name
    match = _NAME.match(name)
    repeat = _REPEATABLE.match(name)
    if not match and not repeat:
        raise WorkbenchError(
            f"{path}: not a Flyway migration name",
            "name it V<version>__<description>.sql, U<version>__...sql or R__<description>.sql",
        )
    from workbench.folders import read_text

    text = read_text(path, "migration")
    sql = parse_sql_text(text.removeprefix("\ufeff"), str(path))
    if repeat:
        return Migration(path, "repeatable", None, None, repeat["desc"].replace("_", " "),
                         flyway_checksum(text), sql.statements, sql)
    assert match is not None
    kind = "versioned" if match["prefix"] == "V" else "undo"
    return Migration(path, kind, parse_version(match["version"]), match["version"].replace("_", "."),
                     match["desc"].replace("_", " "), flyway_checksum(text), sql.statements, sql)


def read_migrations(folder: Path) -> MigrationSet:
    """Every migration of a folder (or one file), checked for duplicates and orphan undos."""
    folder = Path(folder)
    if folder.is_file():
        files = [folder]
        folder = folder.parent
    elif folder.is_dir():
        files = sorted(p for p in folder.iterdir() if p.suffix == ".sql")
    else:
        raise WorkbenchError(f"no migrations at {folder}", "pass a folder of V<version>__*.sql files")
    versioned: dict[tuple[int, ...], Migration] = {}
    undo: dict[tuple[int, ...], Migration] = {}
    repeatable = []
    for path in files:
        migration = read_migration(path)
        if migration.kind == "repeatable":
            repeatable.append(migration)
            continue
        assert migration.version is not None
        target = versioned if migration.kind == "versioned" else undo
        if migration.version in target:
            raise WorkbenchError(
                f"{path}: version {migration.version_text} is also {target[migration.version].script}",
                "give each migration its own version",
            )
        target[migration.version] = migration
    for version, migration in undo.items():
        if version not in versioned and len(files) > 1:
            raise WorkbenchError(f"{migration.path}: undo of version {migration.version_text}, "
                                 "which has no versioned migration", "add V file or remove the U file")
    return MigrationSet(folder, [versioned[v] for v in sorted(versioned)], undo,
                        sorted(repeatable, key=lambda m: m.description))
