"""Your own system as a dataset: schema, statistics and top statements of a live server, turned
into a dataset folder that ``workbench load`` generates at any scale.

The import reads only the catalogs, ``pg_stats``, ``pg_stat_statements`` and ``pg_dump
--schema-only`` of the source, in one read-only snapshot: no row of a user table is read and
nothing is written there. The stages, one module each: :mod:`~workbench.importer.source` (what is
read), :mod:`~workbench.importer.models` (a column's distribution as an SQL function),
:mod:`~workbench.importer.generate` (tables, keys, generator SQL),
:mod:`~workbench.importer.statements` (statements as pgbench scripts),
:mod:`~workbench.importer.files` and :mod:`~workbench.importer.folder` (the folder, atomically);
:mod:`~workbench.importer.fidelity` (how close a loaded copy is to its source).

>>> result = import_dataset("postgresql://reader@prod/app", "datasets/app", top=50)  # doctest: +SKIP
>>> result.to_json()["tables"]["orders.orders"]["rows"]                             # doctest: +SKIP
300000
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench import __version__
from workbench.dsn import describe
from workbench.errors import WorkbenchError
from workbench.folders import now_iso
from workbench.importer import files as render
from workbench.importer import source
from workbench.importer.folder import check_target, write_folder
from workbench.importer.generate import TableModel, build_tables
from workbench.importer.models import FUNCTION_SCHEMA
from workbench.importer.statements import (
    Catalog,
    NotParameterizable,
    ScriptPlan,
    parameterize,
    referenced_tables,
)
from workbench.tools import server_version

DEFAULT_TOP = 50
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass
class ImportResult:
    """What an import wrote, and what it left out and why."""

    out: Path
    name: str
    source: str
    server_version: str
    schemas: list[str]
    tables: dict[str, TableModel]
    scripts: list[ScriptPlan]
    skipped_statements: list[dict[str, Any]] = field(default_factory=list)
    unrelated_statements: int = 0
    beyond_top: int = 0
    top: int = DEFAULT_TOP
    seconds: float = 0.0
    imported_at: str = ""

    def to_json(self) -> dict[str, Any]:
        """The ``workbench import --json`` document (also saved as import.json)."""
        return {
            "out": str(self.out), "name": self.name, "source": self.source,
            "server_version": self.server_version, "schemas": self.schemas,
            "imported_at": self.imported_at, "workbench_version": __version__,
            "seconds": round(self.seconds, 3),
            "tables": {name: model.to_json() for name, model in self.tables.items()},
            "statements": [p.to_json() for p in self.scripts],
            "skipped_statements": self.skipped_statements,
            "unrelated_statements": self.unrelated_statements, "top": self.top,
            "beyond_top": self.beyond_top,
        }

    def summary(self) -> str:
        """A few lines for people."""
        generated = [m for m in self.tables.values() if not m.skipped]
        rows = sum(m.rows for m in generated if not m.source.partition_of)  # roots count them
        lines = [f"imported {self.source} (PostgreSQL {self.server_version}) into {self.out} in "
                 f"{self.seconds:.1f} s: {len(generated)} of {len(self.tables)} tables "
                 f"({rows:,} rows at scale 1), {len(self.scripts)} statements as scripts"]
        lines += [f"  table {n} not generated: {m.skipped}" for n, m in self.tables.items()
                  if m.skipped]
        lines += [f"  column {n}.{c.column} left to its default: {c.reason}"
                  for n, m in self.tables.items() for c in m.columns if c.skipped]
        lines += [f"  statement {s['queryid']} left out: {s['reason']}"
                  for s in self.skipped_statements]
        return "\n".join(lines)


def import_dataset(
    dsn: str, out: str | Path, *, top: int = DEFAULT_TOP, schemas: list[str] | None = None,
    replace: bool = False, name: str | None = None,
) -> ImportResult:
    """Import the schema, statistics and top statements of the server at ``dsn`` as a dataset
    folder ``out`` (its name: the folder's, unless given).

    >>> import_dataset(prod_dsn, "datasets/prod", top=20, schemas=["orders"]).name  # doctest: +SKIP
    'prod'
    """
    started = time.perf_counter()
    out = Path(out)
    name = name or out.name
    if not _NAME.match(name):
        raise WorkbenchError(f"dataset name {name!r} must be lower-case letters, digits and _",
                             "choose an --out folder named like that")
    if top < 0:
        raise WorkbenchError(f"--top must be >= 0, got {top}", "e.g. --top 50")
    check_target(out, replace)
    with source.source_connection(dsn) as conn:
        snapshot = source.export_snapshot(conn)
        version = server_version(conn)
        chosen = list(schemas) if schemas else source.default_schemas(conn)
        if not chosen:
            raise WorkbenchError(f"{describe(dsn)} has no table outside the system schemas",
                                 "name the schemas to import with --schemas")
        if FUNCTION_SCHEMA in chosen:
            raise WorkbenchError(f"the source has a schema named {FUNCTION_SCHEMA}, which the "
                                 "imported dataset uses for its value functions",
                                 "leave it out with --schemas")
        source.check_schemas(conn, chosen)
        tables = source.read_tables(conn, chosen)
        _check_tables(conn, tables, chosen)
        foreign_keys = source.read_foreign_keys(conn, tables)
        statements = source.read_statements(conn) if top else []
        ddl = source.dump_schema(dsn, chosen, snapshot)
        models = build_tables(tables, foreign_keys,
                              lambda values, kind: source.numbers(conn, values, kind))
        catalog = _catalog(tables, models)
        plans, skipped, unrelated, beyond = _scripts(conn, statements, catalog, top)
    result = ImportResult(out, name, describe(dsn), version, chosen, models, plans, skipped,
                          unrelated, beyond, top, imported_at=now_iso())
    result.seconds = time.perf_counter() - started
    write_folder(out, _files(result, ddl), replace)
    return result


def _check_tables(conn: Any, tables: list[source.SourceTable], schemas: list[str]) -> None:
    if not tables:
        raise WorkbenchError(f"no tables in schemas {', '.join(schemas)}",
                             "name schemas that hold tables with --schemas")
    hidden = source.hidden_tables(conn, tables)
    if hidden:
        role = conn.info.user
        raise WorkbenchError(
            f"role {role} cannot read pg_stats of {len(hidden)} tables ({', '.join(hidden[:3])}"
            + (", ..." if len(hidden) > 3 else "") + "): pg_stats shows only columns the role "
            "may select; the import reads statistics, never rows",
            f"GRANT {source.READ_ALL_DATA} TO {role}, or GRANT SELECT on those tables")
    names: dict[str, str] = {}
    for table in tables:
        other = names.setdefault(table.name, table.qualified)
        if other != table.qualified:
            raise WorkbenchError(
                f"tables {other} and {table.qualified} share the name {table.name}: the "
                f"workload's n_{table.name} variable would be ambiguous",
                "import one of the schemas at a time with --schemas")
    if all(not t.analyzed for t in tables):
        raise WorkbenchError("no table of the chosen schemas has statistics",
                             "run ANALYZE on the source first")


def _catalog(tables: list[source.SourceTable], models: dict[str, TableModel]) -> Catalog:
    return Catalog(
        tables={t.qualified: t for t in tables},
        models={name: {c.column: c for c in m.columns} for name, m in models.items()},
        variables={t.qualified: f"n_{t.name}" for t in tables},
    )


def _scripts(conn: Any, statements: list[source.SourceStatement], catalog: Catalog, top: int
             ) -> tuple[list[ScriptPlan], list[dict[str, Any]], int, int]:
    """The top statements about the imported tables as scripts, the others with their reason."""
    relevant, unrelated, skipped = [], 0, []
    schemas = {t.split(".", 1)[0] for t in catalog.tables}
    for statement in statements:
        tables = referenced_tables(statement.query, catalog)
        if tables:
            relevant.append(statement)
        elif tables is None and any(f"{s}." in statement.query for s in schemas):
            skipped.append({"queryid": statement.queryid, "calls": statement.calls,
                            "query": statement.query, "reason": "does not parse"})
        else:
            unrelated += 1
    plans = []
    for rank, statement in enumerate(relevant[:top], start=1):
        tables = referenced_tables(statement.query, catalog) or []
        verb = statement.query.split(None, 1)[0].lower() if statement.query.split() else "query"
        name = f"q{rank:02d}_{re.sub(r'[^a-z]', '', verb) or 'query'}_{tables[0].split('.')[1]}"
        try:
            plans.append(parameterize(statement, catalog, _slug(name),
                                      lambda text: source.parameter_types(conn, text)))
        except (NotParameterizable, WorkbenchError) as exc:
            skipped.append({"queryid": statement.queryid, "calls": statement.calls,
                            "query": statement.query, "reason": str(exc)})
    return plans, skipped, unrelated, max(0, len(relevant) - top)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", name.lower())


def _files(result: ImportResult, ddl: str) -> dict[str, str]:
    header = (f"Imported by `workbench import` from {result.source} (PostgreSQL "
              f"{result.server_version}) on {result.imported_at}: schemas "
              f"{', '.join(result.schemas)}.")
    description = (f"Look-alike of {result.source}: {len(result.tables)} tables and "
                   f"{len(result.scripts)} statements, generated from its planner statistics")
    services = [s for s in result.schemas if any(m.source.schema == s
                                                 for m in result.tables.values())]
    files = {
        "dataset.toml": render.manifest(result.name, description, services, result.tables,
                                        result.scripts, header),
        "migrations/V1__schema.sql": render.schema_migration(ddl, header + "\npg_dump "
                                                             "--schema-only, without owners, "
                                                             "grants and session settings."),
        "migrations/V2__synthetic_values.sql": render.values_migration(result.tables),
        "README.md": render.readme(result, header),
        "import.json": render.import_json(result.to_json()),
    }
    files.update(render.generators(result.tables))
    files.update({f"workload/{p.name}.sql": p.script() for p in result.scripts})
    return files
