"""Tables to generate: a model per column, keys kept unique and foreign keys kept valid, and the
generator SQL the loader runs (``:rows``, ``:seed``, ``:n_<table>``).

Each row ``g`` draws, per column, its null flag and its common-value pick from
``workbench.u(g, salt, :seed)`` and its position from a permutation of the rows that follows the
column's physical correlation (in order, reversed, or shuffled within K blocks). The draws are
computed once per row in a sub-select (``OFFSET 0``) so the column functions inline over plain
columns.

>>> build_tables(tables, foreign_keys, numbers)        # doctest: +SKIP
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from workbench.advisor.existing import ForeignKey
from workbench.errors import WorkbenchError
from workbench.importer.models import (
    UNIT,
    ColumnModel,
    Distinct,
    column_model,
    ident,
    link_foreign_key,
    literal,
)
from workbench.importer.source import SourceTable

_NEXTVAL = re.compile(r"^nextval\('((?:[^']|'')+)'::regclass\)$")


@dataclass
class TableModel:
    """A table as the generator makes it."""

    source: SourceTable
    columns: list[ColumnModel] = field(default_factory=list)
    skipped: str = ""                      # why the table is left empty
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """``schema.table``."""
        return self.source.qualified

    @property
    def rows(self) -> int:
        """Rows at scale 1: the source's estimate (reltuples)."""
        return max(0, self.source.rows)

    @property
    def generated(self) -> list[ColumnModel]:
        """Columns with a value model."""
        return [c for c in self.columns if not c.skipped]

    def to_json(self) -> dict[str, Any]:
        """What import.json records of the table."""
        out: dict[str, Any] = {"rows": self.rows, "bytes": self.source.bytes,
                               "pages": self.source.pages,
                               "columns": [c.to_json() for c in self.columns]}
        if self.skipped:
            out["skipped"] = self.skipped
        if self.notes:
            out["notes"] = self.notes
        return out


def build_tables(tables: list[SourceTable], foreign_keys: list[ForeignKey], numbers: Any
                 ) -> dict[str, TableModel]:
    """A model per table; tables that cannot be generated say why (and so do their children)."""
    models: dict[str, TableModel] = {}
    for table in tables:
        unique, notes = _unique_columns(table, foreign_keys)
        model = TableModel(table, notes=notes)
        for column in table.columns:
            if column.generated:
                continue
            model.columns.append(column_model(table, column, column.name in unique, numbers))
        if table.partitioned:
            model.skipped = "partitioned tables are not generated yet"
        elif not table.analyzed:
            model.skipped = "never analysed on the source (run ANALYZE there): no statistics"
        elif table.rows <= 0:
            model.skipped = "empty on the source"
        models[table.qualified] = model
    for fk in foreign_keys:
        _link(models, fk)
    _require_not_null(models)
    _cascade(models, foreign_keys)
    return models


def _unique_columns(table: SourceTable, foreign_keys: list[ForeignKey]
                    ) -> tuple[set[str], list[str]]:
    """Columns generated unique: single-column keys, and for a multi-column key its most
    distinct column that is not a foreign key (one unique column keeps the whole key unique)."""
    unique = {key[0] for key in table.unique if len(key) == 1}
    referencing = {c for fk in foreign_keys if fk.table == table.qualified for c in fk.columns}
    notes = []
    for key in table.unique:
        if len(key) == 1 or unique & set(key):
            continue
        candidates = [c for c in key if c not in referencing] or list(key)
        chosen = max(candidates, key=lambda c: _distinctness(table, c))
        unique.add(chosen)
        notes.append(f"key ({', '.join(key)}) kept unique by generating {chosen} unique")
    return unique, notes


def _distinctness(table: SourceTable, column: str) -> float:
    col = table.column(column)
    if col is None or col.stats is None:
        return 0.0
    nd = col.stats.n_distinct
    return -nd * max(1, table.rows) if nd < 0 else nd


def _link(models: dict[str, TableModel], fk: ForeignKey) -> None:
    child = models[fk.table]
    if fk.references not in models:
        schema = fk.references.split(".", 1)[0]
        raise WorkbenchError(
            f"foreign key {fk.name} of {fk.table} references {fk.references}, which is not imported",
            f"add its schema: --schemas {','.join(sorted({child.source.schema, schema}))}")
    if len(fk.columns) != 1:
        child.skipped = child.skipped or (
            f"multi-column foreign key {fk.name} ({', '.join(fk.columns)}): not generated")
        return
    parent = models[fk.references]
    column = next(c for c in child.columns if c.column == fk.columns[0])
    key = next((c for c in parent.columns if c.column == fk.referenced[0]), None)
    if key is None or key.skipped or not key.unique or key.kind == "fk":
        why = "is itself a foreign key" if key is not None and key.kind == "fk" else \
            "is not generated"
        child.skipped = child.skipped or (
            f"foreign key {fk.name}: the key {fk.references}.{fk.referenced[0]} {why}")
        return
    if column.kind == "nulls":
        return
    if column.skipped:  # no statistics: each child row its own parent
        column.distinct = Distinct(ratio=1.0)
        column.reason = "no statistics: parents drawn uniformly"
    # the common values in the model's order (value order where it places them by position)
    link_foreign_key(column, key, column.mcv_values or None, max(1, parent.rows))


def _require_not_null(models: dict[str, TableModel]) -> None:
    for model in models.values():
        for column in model.columns:
            source = model.source.column(column.column)
            if column.skipped and source is not None and source.not_null \
                    and source.default is None and not source.identity:
                model.skipped = model.skipped or (
                    f"column {column.column} is NOT NULL and cannot be generated: {column.reason}")


def _cascade(models: dict[str, TableModel], foreign_keys: list[ForeignKey]) -> None:
    """A table referencing a table left empty is left empty too (its keys could not exist)."""
    changed = True
    while changed:
        changed = False
        for fk in foreign_keys:
            child, parent = models[fk.table], models.get(fk.references)
            if parent is None or not parent.skipped or child.skipped or fk.table == fk.references:
                continue
            child.skipped = f"references {fk.references}, which is not generated"
            changed = True


# -- generator SQL -------------------------------------------------------------------------------

_PRIMES: list[int] = []


def primes(count: int) -> list[int]:
    """The largest primes below 2^31: multipliers of the row permutations (coprime to any row
    count below them, and (g - 1) * P fits a bigint).

    >>> primes(2)
    [2147483647, 2147483629]
    """
    candidate = (_PRIMES[-1] - 2) if _PRIMES else 2**31 - 1
    while len(_PRIMES) < count:
        if all(candidate % d for d in range(3, int(candidate**0.5) + 1, 2)):
            _PRIMES.append(candidate)
        candidate -= 2
    return _PRIMES[:count]


def position_sql(order: int, prime: int, salt: int) -> str:
    """A row's position among ``:rows`` (a permutation of 0..rows-1 following the correlation)."""
    if order == 0:
        return "g - 1"
    if order == -1:
        return ":rows - g"
    offset = f"floor(workbench.u({salt}, 7, :seed) * :rows)::bigint"
    blocks = abs(order)
    if blocks == 1:
        shuffled = f"((g - 1) * {prime} + {offset}) % :rows"
    else:
        size = f"ceil(:rows / {blocks}.0)::bigint"
        start = f"((g - 1) / {size}) * {size}"
        shuffled = (f"{start} + (((g - 1) % {size}) * {prime} + {offset}) "
                    f"% least({size}, :rows - {start})")
    return f":rows - 1 - ({shuffled})" if order < 0 else shuffled


def generator_sql(model: TableModel, short_names: dict[str, str]) -> str:
    """The INSERT ... SELECT that fills a table (columns without a model take their default)."""
    columns = model.generated
    multipliers = primes(len(columns))
    inner, outer = ["g"], []
    for i, column in enumerate(columns, start=1):
        if column.kind == "nulls":
            outer.append(f"NULL::{column.type_sql}")
            continue
        u = "0"
        position = position_sql(column.order, multipliers[i - 1], column.salt)
        if column.by_position:
            # common values in value order along the physical order; the other rows' positions
            # stretched over all n, so their values still follow the histogram
            cut = column.common_cut / UNIT
            inner.append(f"floor((({position})::float8 + 0.5) * {UNIT} / :rows)::int AS u{i}")
            position = (f"least(:rows - 1, greatest(0, floor((({position}) - :rows * {cut!r}) / "
                        f"{1 - cut!r})))::bigint" if cut < 1 else "0")
            u = f"u{i}"
        elif column.mcv_count:
            inner.append(f"floor(workbench.u(g, {column.salt}, :seed) * {UNIT})::int AS u{i}")
            u = f"u{i}"
        inner.append(f"{position} AS p{i}")
        parent = f":n_{short_names[column.parent_table]}" if column.parent_table else None
        value = column.call(u, f"p{i}", ":rows", parent)
        if column.null_frac > 0:
            inner.append(f"workbench.u(g, {column.salt + 1}, :seed) < {column.null_frac!r} AS z{i}")
            value = f"CASE WHEN z{i} THEN NULL ELSE {value} END"
        outer.append(value)
    source = model.source
    always = any(c.identity == "a" for c in source.columns)
    names = ", ".join(ident(c.column) for c in columns)
    lines = [
        f"-- {model.name}: {model.rows:,} rows at scale 1 (the source's estimate), each column",
        "-- drawn from its pg_stats by the synthetic.* function of migration V2.",
        f"INSERT INTO {ident(source.schema)}.{ident(source.name)} ({names})"
        + (" OVERRIDING SYSTEM VALUE" if always else ""),
        "SELECT " + ",\n       ".join(outer),
        "  FROM (SELECT " + ",\n               ".join(inner),
        "          FROM generate_series(1::bigint, :rows) AS g",
        "        OFFSET 0) AS d;  -- OFFSET 0: each draw computed once per row",
    ]
    lines += _sequences(model)
    return "\n".join(lines) + "\n"


def _sequences(model: TableModel) -> list[str]:
    """Serial columns' sequences moved past the generated values (identities: the loader)."""
    out = []
    table = f"{ident(model.source.schema)}.{ident(model.source.name)}"
    for column in model.generated:
        source = model.source.column(column.column)
        match = _NEXTVAL.match(source.default or "") if source else None
        if match:
            sequence = match.group(1).replace("''", "'")
            out.append(f"SELECT setval({literal(sequence)}, coalesce(max({ident(column.column)}), "
                       f"0) + 1, false) FROM {table};")
    return out
