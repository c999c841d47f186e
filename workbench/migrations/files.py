"""Flyway-convention migration files: ``V<version>__<description>.sql`` (versioned),
``U<version>__<description>.sql`` (undo), ``R__<description>.sql`` (repeatable).

Versions compare numerically by dotted parts (``V1_1`` is 1.1, as in Flyway; 1.10 > 1.9).
Checksums are Flyway's: CRC32 over the file's lines in UTF-8 without their line breaks (a BOM
removed), as a signed 32-bit integer, so a history shared with Flyway agrees.

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

_NAME = re.compile(r"^(?P<prefix>[VU])(?P<version>\d+(?:[._]\d+)*)__(?P<desc>.+)\.sql$")
_REPEATABLE = re.compile(r"^R__(?P<desc>.+)\.sql$")
_NON_TRANSACTIONAL = [
    re.compile(r"^\s*CREATE\s+(UNIQUE\s+)?INDEX\s+CONCURRENTLY\b", re.I),
    re.compile(r"^\s*DROP\s+INDEX\s+CONCURRENTLY\b", re.I),
    re.compile(r"^\s*REINDEX\b.*\bCONCURRENTLY\b", re.I | re.S),
    re.compile(r"^\s*(VACUUM|CREATE\s+DATABASE|DROP\s+DATABASE|ALTER\s+SYSTEM)\b", re.I),
    re.compile(r"^\s*ALTER\s+TABLE\b.*\bDETACH\s+PARTITION\b.*\bCONCURRENTLY\b", re.I | re.S),
]


@dataclass(frozen=True)
class Statement:
    """One statement of a file and the line it starts on."""

    line: int
    sql: str

    @property
    def transactional(self) -> bool:
        """False for statements PostgreSQL refuses inside a transaction block."""
        return not any(p.match(self.sql) for p in _NON_TRANSACTIONAL)


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

    @property
    def script(self) -> str:
        """The file name, as Flyway records it."""
        return self.path.name

    @property
    def transactional(self) -> bool:
        """True when every statement can run inside one transaction."""
        return all(s.transactional for s in self.statements)

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
    """Flyway's checksum: CRC32 of the lines (UTF-8, without line breaks, BOM removed), signed.

    >>> flyway_checksum("SELECT 1;\\n") == flyway_checksum("SELECT 1;\\r\\n")
    True
    """
    crc = 0
    for index, line in enumerate(text.splitlines()):
        if index == 0:
            line = line.lstrip("\ufeff")
        crc = zlib.crc32(line.encode("utf-8"), crc)
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def split_statements(text: str) -> list[Statement]:
    """Statements on top-level semicolons, with the line each starts on (comments, quotes,
    dollar quotes and double-quoted identifiers respected)."""
    pattern = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|(\$\w*\$).*?\1|;",
                         re.DOTALL)
    statements: list[Statement] = []
    buffer: list[str] = []
    start: int | None = None
    pos = 0

    def flush(end: int) -> None:
        nonlocal buffer, start
        sql = "".join(buffer).strip()
        if sql and start is not None:
            statements.append(Statement(start, sql))
        buffer, start = [], None

    def note_start(chunk: str, offset: int) -> None:
        nonlocal start
        if start is None and chunk.strip():
            lead = len(chunk) - len(chunk.lstrip())
            start = text.count("\n", 0, offset + lead) + 1

    for match in pattern.finditer(text):
        chunk = text[pos:match.start()]
        note_start(chunk, pos)
        buffer.append(chunk)
        token = match.group(0)
        if token == ";":
            flush(match.start())
        elif token.startswith(("--", "/*")):
            buffer.append(" ")
        else:
            note_start(token, match.start())
            buffer.append(token)
        pos = match.end()
    note_start(text[pos:], pos)
    buffer.append(text[pos:])
    flush(len(text))
    return statements


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
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkbenchError(f"cannot read {path}: {exc}", "check the file") from None
    if repeat:
        return Migration(path, "repeatable", None, None, repeat["desc"].replace("_", " "),
                         flyway_checksum(text), split_statements(text))
    assert match is not None
    kind = "versioned" if match["prefix"] == "V" else "undo"
    return Migration(path, kind, parse_version(match["version"]), match["version"].replace("_", "."),
                     match["desc"].replace("_", " "), flyway_checksum(text), split_statements(text))


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
