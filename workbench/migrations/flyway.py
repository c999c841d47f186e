"""Flyway's view of a history: which rows and files pair up, each one's state under Flyway's
name, and what ``validate`` objects to. Pure functions over history rows and files (no database),
following Flyway's ``MigrationInfoServiceImpl`` / ``MigrationInfoImpl``:

- rows are read in ``installed_rank`` order; a successful ``DELETE`` row (written by ``repair``)
  marks the latest earlier row of its version as Deleted, a successful ``UNDO_SQL`` row marks it
  Undone; neither counts as applied any more;
- a ``BASELINE`` row sets the baseline: files below it are Below Baseline, the file at it is the
  Baseline, and neither is ever run;
- a pending file below the latest applied version is Ignored (applied with ``out_of_order``,
  then shown Out of Order); an applied version no file has is Missing below the newest file's
  version and Future above it (tolerated by ``validate``, as Flyway's default ``*:future``);
- a repeatable is Outdated when its file changed since its latest run, Superseded for older runs.

>>> rows = [row(1, "1", "<< Flyway Baseline >>", "BASELINE", "<< Flyway Baseline >>", None)]
>>> [(i.version, i.state) for i in resolve(rows, [])]
[('1', 'Baseline')]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workbench.migrations.files import Migration, MigrationSet, parse_version

SYNTHETIC = ("SCHEMA", "BASELINE", "DELETE")
FAILED_STATES = ("Failed", "Failed (Missing)", "Failed (Future)")
MISSING_STATES = ("Missing", "Failed (Missing)")
FUTURE_STATES = ("Future", "Failed (Future)")
DESCRIPTION_LIMIT = 200


def row(rank: int, version: str | None, description: str, kind: str, script: str,
        checksum: int | None, success: bool = True) -> dict[str, Any]:
    """A history row as Flyway writes it (for tests and docs)."""
    return {"installed_rank": rank, "version": version, "description": description, "type": kind,
            "script": script, "checksum": checksum, "installed_by": "flyway",
            "installed_on": None, "execution_time": 0, "success": success}


def abbreviate(description: str) -> str:
    """Flyway's ``AbbreviationUtils``: at most 200 characters, ``...`` marking a cut."""
    return description if len(description) <= DESCRIPTION_LIMIT else description[:197] + "..."


@dataclass
class Info:
    """One line of ``migrate info``: a history row, a file, or both, and its state."""

    state: str
    applied: dict[str, Any] | None = None
    resolved: Migration | None = None
    out_of_order: bool = False
    deleted: bool = False
    undone: bool = False
    has_undo: bool = False
    version_key: tuple[int, ...] | None = field(default=None, repr=False)

    @property
    def version(self) -> str | None:
        """The version as recorded, else as the file names it."""
        if self.applied is not None:
            return self.applied["version"]
        return self.resolved.version_text if self.resolved else None

    @property
    def description(self) -> str:
        """The description as recorded, else the file's."""
        if self.applied is not None:
            return self.applied["description"]
        return self.resolved.description if self.resolved else ""

    @property
    def type(self) -> str:
        """SQL, UNDO_SQL, BASELINE, DELETE or SCHEMA."""
        if self.applied is not None:
            return self.applied["type"]
        return self.resolved.flyway_type if self.resolved else "SQL"

    @property
    def script(self) -> str:
        """The script (file name) as recorded, else the file's."""
        if self.applied is not None:
            return self.applied["script"]
        return self.resolved.script if self.resolved else ""

    def to_json(self) -> dict[str, Any]:
        """The ``migrate info --json`` row."""
        applied = self.applied or {}
        return {"version": self.version, "description": self.description, "type": self.type,
                "script": self.script, "state": self.state, "undo": self.has_undo,
                "installed_rank": applied.get("installed_rank"),
                "installed_on": str(applied["installed_on"]) if applied.get("installed_on")
                else None, "installed_by": applied.get("installed_by"),
                "execution_time": applied.get("execution_time"),
                "checksum": applied.get("checksum", self.resolved.checksum if self.resolved
                                        else None)}


def _key(version: str | None) -> tuple[int, ...] | None:
    return parse_version(version) if version is not None else None


def resolve(rows: list[dict[str, Any]], migrations: MigrationSet | list[Migration], *,
            out_of_order: bool = False, target: str | None = None) -> list[Info]:
    """Pair rows and files and give each Flyway's state, in ``migrate info`` order."""
    files = migrations if isinstance(migrations, MigrationSet) else _as_set(migrations)
    versioned = {m.version: m for m in files.versioned}
    repeatable = {m.description: m for m in files.repeatable}
    last_resolved = max(versioned, default=())
    limit = _key(target)
    rows = sorted(rows, key=lambda r: r["installed_rank"])
    infos: list[Info] = []
    baseline: tuple[int, ...] = ()
    for item in rows:
        if item["version"] is None:
            continue
        version = _key(item["version"])
        if item["type"] == "BASELINE":
            baseline = version
        info = Info("", item, version_key=version)
        if item["type"] in ("DELETE", "UNDO_SQL") and item["success"]:
            for earlier in reversed(infos):
                if earlier.version_key == version and earlier.type not in SYNTHETIC \
                        and earlier.type != "UNDO_SQL" and not (earlier.deleted or earlier.undone):
                    if item["type"] == "DELETE":
                        earlier.deleted = True
                    else:
                        earlier.undone = True
                    break
        infos.append(info)
    last_applied: tuple[int, ...] = ()
    for info in infos:
        if info.version_key > last_applied:
            if info.type not in ("DELETE", "UNDO_SQL") and not (info.deleted or info.undone):
                last_applied = info.version_key
        else:
            info.out_of_order = True
    matched = set()
    for info in infos:
        key = info.version_key
        info.resolved = files.undo.get(key) if info.type == "UNDO_SQL" else versioned.get(key)
        if info.type not in ("UNDO_SQL",) and key in files.undo:
            info.has_undo = True
        if info.resolved is not None and info.type not in ("DELETE", "UNDO_SQL") \
                and not (info.deleted or info.undone):
            matched.add(key)
        info.state = _applied_state(info, last_resolved)
    for version, migration in versioned.items():
        if version in matched:
            continue
        if version < baseline:
            state = "Below Baseline"
        elif limit is not None and version > limit:
            state = "Above Target"
        elif version < last_applied and not out_of_order:
            state = "Ignored"
        else:
            state = "Pending"
        infos.append(Info(state, None, migration, has_undo=version in files.undo,
                          version_key=version))
    infos += _repeatables(rows, repeatable)
    return sorted(infos, key=_order)


def _order(info: Info) -> tuple[Any, ...]:
    """Flyway's info order: below-baseline files, then every row by installed_rank, then
    pending versioned files by version, then pending repeatables by description."""
    if info.state == "Below Baseline":
        return (0, info.version_key or ())
    if info.applied is not None:
        return (1, info.applied["installed_rank"])
    if info.version_key is not None:
        return (2, info.version_key)
    return (3, info.description)


def _as_set(migrations: list[Migration]) -> MigrationSet:
    from pathlib import Path

    return MigrationSet(Path("."), sorted((m for m in migrations if m.kind == "versioned"),
                                          key=lambda m: m.version or ()),
                        {m.version: m for m in migrations if m.kind == "undo"},
                        [m for m in migrations if m.kind == "repeatable"])


def _applied_state(info: Info, last_resolved: tuple[int, ...]) -> str:
    item = info.applied
    assert item is not None
    if info.deleted:
        return "Deleted"
    if info.type == "DELETE":
        return "Success"
    if info.type == "BASELINE":
        return "Baseline"
    if info.undone:
        return "Undone"
    if info.resolved is None:
        future = info.version_key is not None and info.version_key >= last_resolved \
            and info.type != "UNDO_SQL"
        if item["success"]:
            return "Future" if future else "Missing"
        return "Failed (Future)" if future else "Failed (Missing)"
    if not item["success"]:
        return "Failed"
    return "Out of Order" if info.out_of_order else "Success"


def _repeatables(rows: list[dict[str, Any]], files: dict[str, Migration]) -> list[Info]:
    runs = [r for r in rows if r["version"] is None]
    deleted: set[int] = set()
    for item in runs:
        if item["type"] == "DELETE" and item["success"]:
            earlier = [r for r in runs if r["installed_rank"] < item["installed_rank"]
                       and r["description"] == item["description"] and r["type"] not in SYNTHETIC]
            if earlier:
                deleted.add(earlier[-1]["installed_rank"])
    latest: dict[str, int] = {}
    for item in runs:
        if item["type"] != "DELETE" and item["installed_rank"] not in deleted:
            latest[item["description"]] = max(latest.get(item["description"], 0),
                                              item["installed_rank"])
    infos, current = [], set()
    for item in runs:
        migration = files.get(item["description"])
        rank, is_latest = item["installed_rank"], latest.get(item["description"])
        if rank in deleted:
            state = "Deleted"
        elif item["type"] in ("SCHEMA", "DELETE"):
            state = "Success"
        elif migration is None:
            state = ("Missing" if item["success"] else "Failed (Missing)") if rank == is_latest \
                else "Superseded"
        elif not item["success"]:
            state = "Failed"
        elif rank != is_latest:
            state = "Superseded"
        elif item["checksum"] == migration.checksum:
            state = "Success"
            current.add(migration.description)
        else:
            state = "Outdated"
        infos.append(Info(state, item, migration))
    infos += [Info("Pending", None, m) for d, m in sorted(files.items()) if d not in current
              and not any(i.state == "Outdated" and i.resolved is m for i in infos)]
    return infos


def problems(infos: list[Info], *, pending: bool = False, ignored: bool = False,
             future: bool = True) -> list[str]:
    """What Flyway's ``validate`` reports (``pending``/``ignored``/``future``: whether those
    states are allowed; ``migrate`` allows pending ones, ``validate`` only future ones)."""
    baseline = max((i.version_key for i in infos if i.type == "BASELINE"), default=())
    out = []
    for info in infos:
        state, version = info.state, info.version
        if state in ("Above Target", "Deleted") or future and state in FUTURE_STATES:
            continue
        if state in FAILED_STATES:
            out.append(f"detected failed migration to version {version} ({info.description})"
                       if version else f"detected failed repeatable migration {info.description}")
        elif info.resolved is None and info.type not in SYNTHETIC and state != "Superseded":
            out.append(f"detected applied migration not resolved locally: "
                       f"{version or info.description} (run `migrate repair` to mark it deleted "
                       "if it was removed on purpose)")
        elif state == "Ignored" and not ignored:
            out.append(f"detected resolved migration not applied to database: {version} (below "
                       "the latest applied version: pass --out-of-order to apply it)")
        elif state == "Pending" and not pending:
            out.append(f"detected resolved migration not applied to database: "
                       f"{version or info.description} (run `migrate apply`)")
        elif state == "Outdated" and not pending:
            out.append(f"detected outdated resolved repeatable migration that should be "
                       f"re-applied to database: {info.description}")
        elif info.resolved is not None and info.applied is not None \
                and info.type != "DELETE" and (info.version_key is None
                                               or info.version_key > baseline):
            out += _mismatches(info, pending)
    return out


def _mismatches(info: Info, pending: bool) -> list[str]:
    applied, resolved = info.applied, info.resolved
    assert applied is not None and resolved is not None
    what = f"version {applied['version']}" if applied["version"] else applied["script"]
    if applied["type"] != resolved.flyway_type:
        return [f"migration type mismatch for migration {what}: applied to database "
                f"{applied['type']}, resolved locally {resolved.flyway_type}"]
    if (applied["version"] is not None or pending and info.state not in ("Outdated",
                                                                          "Superseded")) \
            and applied["checksum"] != resolved.checksum:
        return [f"migration checksum mismatch for migration {what}: applied to database "
                f"{applied['checksum']}, resolved locally {resolved.checksum}"]
    if abbreviate(resolved.description) != applied["description"]:
        return [f"migration description mismatch for migration {what}: applied to database "
                f"{applied['description']!r}, resolved locally {resolved.description!r}"]
    return []
