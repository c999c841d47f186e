"""Cross-service impact of migrations: what each one changes, and whose statements notice.

For every migration: the objects it changes (tables, columns, types, constraints, indexes); for
every statement of the dataset's workload (each issued by a service), whether the change breaks it
(a column or table it uses is dropped or renamed) or may change its plan (an index or constraint
appears or goes on a table it reads, a column it filters or joins on changes type). A migration
owned by one service (``-- service: NAME`` in the file, else the service owning the first schema
it touches) that changes another service's schema is flagged.

>>> report = impact(Path("datasets/shop/migrations/examples/cross-service"), "shop")  # doctest: +SKIP
>>> report.migrations[0]["breaks"][0]["statement"]                                    # doctest: +SKIP
'lookup_by_email'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.advisor.workload import read_statement
from workbench.datasets import get_dataset
from workbench.migrations.files import read_migrations
from workbench.migrations.lint import _IDENT, _TABLE, _clauses, _plain
from workbench.plans.capture import workload_statements

_OWNER = re.compile(r"^\s*--\s*service:\s*(\w+)", re.M | re.I)


@dataclass(frozen=True)
class Change:
    """One object a migration changes."""

    kind: str  # drop_table, rename_table, drop_column, rename_column, alter_type, add_column,
    # add_constraint, drop_constraint, create_index, drop_index, set_not_null
    table: str
    column: str | None = None
    detail: str = ""


@dataclass
class ImpactReport:
    """Per migration: changes, owner, cross-service flag, statements broken or affected."""

    dataset: str
    migrations: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``workbench impact --json`` document."""
        return {"dataset": self.dataset, "migrations": self.migrations}


def impact(folder: Path, dataset: str | Path) -> ImpactReport:
    """Who each migration of ``folder`` affects among ``dataset``'s services."""
    ds = get_dataset(dataset)
    schema_owner = {s.schema: s.name for s in ds.services}
    script_service = {s.name: s.service for s in ds.scripts}
    statements = []
    for name, sql, _ in workload_statements(dataset):
        parsed = read_statement(name, sql)
        statements.append((name, script_service.get(name.split(".")[0], "?"), parsed))
    report = ImpactReport(ds.name)
    for migration in read_migrations(Path(folder)).versioned:
        changes = [c for s in migration.statements for c in changes_of(s.sql)]
        text = migration.path.read_text()
        owner_match = _OWNER.search(text)
        touched = sorted({c.table.split(".")[0] for c in changes})
        owner = owner_match[1] if owner_match else (schema_owner.get(touched[0]) if touched else None)
        foreign = sorted({schema_owner.get(s, s) for s in touched if schema_owner.get(s) != owner})
        breaks, affects = [], []
        for name, service, stmt in statements:
            for change in changes:
                verdict = _verdict(change, stmt)
                if verdict:
                    entry = {"statement": name, "service": service, "change": change.kind,
                             "object": f"{change.table}.{change.column}" if change.column
                             else change.table, "why": verdict[1]}
                    (breaks if verdict[0] == "breaks" else affects).append(entry)
        report.migrations.append({
            "script": migration.script, "version": migration.version_text, "owner": owner,
            "changes": [c.__dict__ for c in changes], "cross_service": bool(foreign),
            "other_services": foreign, "breaks": breaks, "may_change_plan": affects,
        })
    return report


def changes_of(sql: str) -> list[Change]:
    """The objects one statement changes."""
    text = _plain(sql)
    upper = text.upper()
    out: list[Change] = []

    def name(raw: str) -> str:
        parts = [p.strip().strip('"').lower() for p in raw.split(".")]
        return ".".join(parts) if len(parts) == 2 else f"public.{parts[0]}"

    if m := re.match(rf"^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?({_TABLE})\s", text, re.I):
        table = name(m[1])
        for clause in _clauses(upper):
            col = re.match(rf"^(?:ADD|DROP|ALTER|RENAME)\s+(?:COLUMN\s+)?(?:IF\s+(?:NOT\s+)?EXISTS\s+)?"
                           rf"({_IDENT})", clause)
            column = col[1].strip('"').lower() if col else None
            if clause.startswith("RENAME TO"):
                out.append(Change("rename_table", table, None, clause))
            elif clause.startswith("RENAME"):
                out.append(Change("rename_column", table, column, clause))
            elif re.match(r"^DROP\s+CONSTRAINT", clause):
                out.append(Change("drop_constraint", table, None, clause))
            elif re.match(r"^ADD\s+(CONSTRAINT|PRIMARY|UNIQUE|FOREIGN|CHECK)", clause):
                out.append(Change("add_constraint", table, None, clause))
            elif clause.startswith("DROP"):
                out.append(Change("drop_column", table, column, clause))
            elif clause.startswith("ADD"):
                out.append(Change("add_column", table, column, clause))
            elif re.search(r"\bTYPE\b", clause):
                out.append(Change("alter_type", table, column, clause))
            elif "SET NOT NULL" in clause:
                out.append(Change("set_not_null", table, column, clause))
    elif m := re.match(rf"^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?({_TABLE})", text, re.I):
        out.append(Change("drop_table", name(m[1])))
    elif m := re.match(rf"^CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?"
                       rf"(?:{_IDENT}\s+)?ON\s+(?:ONLY\s+)?({_TABLE})", text, re.I):
        out.append(Change("create_index", name(m[1])))
    elif re.match(r"^DROP\s+INDEX", upper):
        m = re.match(rf"^DROP\s+INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+EXISTS\s+)?({_TABLE})", text, re.I)
        out.append(Change("drop_index", name(m[1]) if m else "?", None, text))
    return out


def _verdict(change: Change, stmt: Any) -> tuple[str, str] | None:
    if stmt.error or change.table not in stmt.tables:
        return None
    columns = {u.column for u in stmt.uses if u.table == change.table}
    filters = {u.column for u in stmt.uses if u.table == change.table and u.use in
               ("equality", "range", "in", "join", "order_by", "like_prefix")}
    if change.kind in ("drop_table", "rename_table"):
        return "breaks", f"it reads {change.table}"
    if change.kind in ("drop_column", "rename_column") and change.column in columns:
        return "breaks", f"it uses {change.table}.{change.column}"
    if change.kind == "alter_type" and change.column in columns:
        return ("may_change_plan", f"it filters on {change.column}") if change.column in filters \
            else ("may_change_plan", f"it reads {change.column}")
    if change.kind in ("create_index", "drop_index", "add_constraint", "drop_constraint"):
        return "may_change_plan", f"it reads {change.table}"
    return None
