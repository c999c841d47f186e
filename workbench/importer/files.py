"""The files of an imported dataset: manifest, migrations, generators, scripts, README, import.json.

>>> files = dataset_files(result)        # doctest: +SKIP
>>> sorted(files)[:2]                    # doctest: +SKIP
['README.md', 'dataset.toml']
"""

from __future__ import annotations

import json
from typing import Any

from workbench.importer.folder import toml_string
from workbench.importer.generate import TableModel, generator_sql, has_generator
from workbench.importer.models import FUNCTION_SCHEMA, HELPERS
from workbench.importer.statements import ScriptPlan

MAX_WEIGHT_TOTAL = 2**31 - 1


def weights(plans: list[ScriptPlan]) -> dict[str, int]:
    """pgbench weights: calls, scaled down (at least 1 each) when their sum would overflow.

    >>> weights([])
    {}
    """
    total = sum(p.statement.calls for p in plans)
    factor = min(1.0, MAX_WEIGHT_TOTAL / total) if total else 1.0
    return {p.name: max(1, round(p.statement.calls * factor)) for p in plans}


def manifest(name: str, description: str, schemas: list[str], tables: dict[str, TableModel],
             plans: list[ScriptPlan], header: str) -> str:
    """dataset.toml."""
    lines = [f"# {line}" for line in header.splitlines()]
    lines += [f"name = {toml_string(name)}", f"description = {toml_string(description)}", ""]
    for schema in schemas:
        lines += ["[[services]]", f"name = {toml_string(schema)}",
                  f"schema = {toml_string(schema)}", ""]
    for table, model in tables.items():
        lines.append(f"[tables.{toml_string(table)}]")
        lines.append(f"rows_per_scale = {model.rows}")
        if model.skipped:
            lines.append(f"# not generated: {model.skipped}")
        elif model.filled_by:
            lines.append(f"# rows generated through {model.filled_by}")
        elif has_generator(model):
            lines.append(f"generate = {toml_string(f'generate/{table}.sql')}")
            if model.by_partition and model.depends_on:
                lines.append("depends_on = [" + ", ".join(toml_string(d) for d in
                                                          model.depends_on) + "]")
        else:
            lines.append("# rows generated partition by partition")
        lines.append("")
    for plan, weight in zip(plans, weights(plans).values(), strict=True):
        lines += ["[[workload]]", f"script = {toml_string(f'workload/{plan.name}.sql')}",
                  f"weight = {weight}", f"service = {toml_string(plan.service)}", ""]
    return "\n".join(lines)


def schema_migration(ddl: str, header: str) -> str:
    """V1: the source's schema as pg_dump wrote it."""
    return "".join(f"-- {line}\n" for line in header.splitlines()) + "\n" + ddl


def values_migration(tables: dict[str, TableModel]) -> str:
    """V2: the value functions, one per generated column."""
    lines = [
        "-- Value functions of the imported dataset: one per generated column, drawing values as",
        "-- the source's pg_stats describe them (most common values with their frequencies, the",
        "-- histogram for the rest, as many distinct values as n_distinct says at the loaded",
        "-- scale). Arguments: u in [0, 1000000) picks a common value by frequency (1000000: none),",
        "-- p in [0, n) a position among the table's n rows, m the parent table's rows (foreign",
        "-- keys). The generators (generate/) and the workload scripts (workload/) call them.",
        f"CREATE SCHEMA {FUNCTION_SCHEMA};", HELPERS]
    for model in tables.values():
        for column in model.generated:
            lines.append(f"-- {model.name}.{column.column} ({column.kind}"
                         + (f", references {column.parent_table}" if column.parent_table else "")
                         + ")")
            lines.append(column.create_function() + ";")
            lines.append("")
    return "\n".join(lines)


def generators(tables: dict[str, TableModel]) -> dict[str, str]:
    """generate/<schema.table>.sql for every generated table."""
    short = {name: model.source.name for name, model in tables.items()}
    return {f"generate/{name}.sql": generator_sql(model, short)
            for name, model in tables.items() if has_generator(model)}


def readme(result: Any, header: str) -> str:
    """README.md: what was imported and what was left out, with the reasons."""
    name, tables, plans = result.name, result.tables, result.scripts
    lines = [f"# {name}", "", header, "",
             "Load it with `workbench load PATH --scale 1` (scale 1 = the source's row counts). "
             "The most common values and histogram bounds in `migrations/V2__synthetic_values.sql` "
             "are values of the source's rows: treat this folder like `pg_stats` itself.", "",
             "## Tables", "",
             "| table | rows at scale 1 | generated columns | note |", "| --- | --- | --- | --- |"]
    for table, model in tables.items():
        note = model.skipped or (f"generated through {model.filled_by}" if model.filled_by
                                 else "; ".join(model.notes))
        generated = "through the root" if model.filled_by else \
            f"{len(model.generated)} of {len(model.columns)}"
        lines.append(f"| {table} | {model.rows:,} | {generated} | {note} |")
    columns = [(t, c) for t, m in tables.items() for c in m.columns if c.skipped or c.reason]
    if columns:
        lines += ["", "## Columns", ""]
        lines += [f"- `{t}.{c.column}` ({c.type_sql}): "
                  + ("left to its default: " if c.skipped else "") + c.reason for t, c in columns]
    lines += ["", "## Workload", "", "| script | calls | source |", "| --- | --- | --- |"]
    lines += [f"| {p.name} | {p.statement.calls:,} | `{_one_line(p.statement.query)}` |"
              for p in plans]
    if result.skipped_statements:
        lines += ["", "Statements left out:", ""]
        lines += [f"- queryid {s['queryid']} ({s['calls']:,} calls) `{_one_line(s['query'])}`: "
                  f"{s['reason']}" for s in result.skipped_statements]
    if result.beyond_top:
        lines += ["", f"{result.beyond_top} more statements about these tables are beyond the "
                  f"top {result.top} by total time."]
    if result.unrelated_statements:
        lines += ["", f"{result.unrelated_statements} other statements of pg_stat_statements "
                  "are not queries of these tables (transaction control, utility statements, "
                  "monitoring, other schemas) and were not imported."]
    lines += ["", "Each statement runs as its own transaction: pg_stat_statements does not say "
              "which statements shared one."]
    return "\n".join(lines) + "\n"


def _one_line(text: str, width: int = 100) -> str:
    flat = " ".join(text.split()).replace("|", "\\|").replace("`", "'")
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def import_json(document: dict[str, Any]) -> str:
    """import.json, stable key order."""
    return json.dumps(document, indent=2, default=str) + "\n"
