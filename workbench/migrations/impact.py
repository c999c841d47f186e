"""Cross-service impact of migrations: what each one changes, and whose statements notice.

For every migration: the objects it changes (tables, columns, types, constraints, indexes); for
every statement of the dataset's workload (each issued by a service), whether the change breaks it
(a column or table it uses is dropped or renamed) or may change its plan (an index or constraint
appears or goes on a table it reads, a column it filters or joins on changes type). A migration
owned by one service (``-- service: NAME`` in the file, else the service owning the first schema
it touches) that changes another service's schema is flagged.

>>> report = impact(Path("datasets/shop/migration-examples/cross-service"), "shop")  # doctest: +SKIP
>>> report.migrations[0]["breaks"][0]["statement"]                                    # doctest: +SKIP
'lookup_by_email'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pglast import ast

from workbench.advisor.workload import read_statement
from workbench.datasets import get_dataset
from workbench.migrations.files import read_migrations
from workbench.migrations.rules.context import AT, CON, OBJ
from workbench.migrations.sqltext import Statement, parse_sql_text
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
        changes = [c for s in migration.statements for c in statement_changes(s)]
        from workbench.folders import read_text

        text = read_text(migration.path, "migration")
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
    """The objects the statements of some SQL change (parsed by PostgreSQL's parser).

    >>> [(c.kind, c.table, c.column) for c in changes_of("ALTER TABLE s.t DROP COLUMN a")]
    [('drop_column', 's.t', 'a')]
    """
    return [c for stmt in parse_sql_text(sql).statements for c in statement_changes(stmt)]


def _name(relation: Any) -> str:
    return f"{relation.schemaname or 'public'}.{relation.relname}"


_ACTIONS = {AT.AT_DropColumn: "drop_column", AT.AT_AddColumn: "add_column",
            AT.AT_AlterColumnType: "alter_type", AT.AT_SetNotNull: "set_not_null",
            AT.AT_DropConstraint: "drop_constraint", AT.AT_AddConstraint: "add_constraint"}


def statement_changes(stmt: Statement) -> list[Change]:
    """The objects one parsed statement changes."""
    node, text = stmt.node, stmt.sql
    out: list[Change] = []
    if isinstance(node, ast.AlterTableStmt) and node.objtype == OBJ.OBJECT_TABLE:
        table = _name(node.relation)
        for cmd in node.cmds:
            kind = _ACTIONS.get(cmd.subtype)
            column = cmd.name or getattr(cmd.def_, "colname", None)
            if kind == "add_constraint" and cmd.def_.contype == CON.CONSTR_NOTNULL:
                kind = "set_not_null"
            if kind:
                out.append(Change(kind, table, column if "column" in kind or kind in (
                    "alter_type", "set_not_null") else None, text))
    elif isinstance(node, ast.RenameStmt) and node.relation is not None:
        if node.renameType == OBJ.OBJECT_TABLE:
            out.append(Change("rename_table", _name(node.relation), None, text))
        elif node.renameType == OBJ.OBJECT_COLUMN:
            out.append(Change("rename_column", _name(node.relation), node.subname, text))
    elif isinstance(node, ast.DropStmt) and node.removeType == OBJ.OBJECT_TABLE:
        for names in node.objects:
            parts = [n.sval for n in names]
            out.append(Change("drop_table", ".".join(parts) if len(parts) > 1
                              else f"public.{parts[0]}"))
    elif isinstance(node, ast.IndexStmt):
        out.append(Change("create_index", _name(node.relation)))
    elif isinstance(node, ast.DropStmt) and node.removeType == OBJ.OBJECT_INDEX:
        for names in node.objects:
            parts = [n.sval for n in names]
            out.append(Change("drop_index", ".".join(parts), None, text))
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
