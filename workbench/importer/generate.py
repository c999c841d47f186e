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
    parent_row_sql,
)
from workbench.importer.source import SourceTable

_NEXTVAL = re.compile(r"^nextval\('((?:[^']|'')+)'::regclass\)$")


@dataclass
class RowKey:
    """A multi-column foreign key as generated: every child row copies one parent row's key
    (drawn with the spread of its most distinct referencing column, ``driver``)."""

    name: str
    columns: tuple[str, ...]
    parent: TableModel
    referenced: tuple[str, ...]
    driver: ColumnModel
    parts: list[TableModel] = field(default_factory=list)  # a partitioned parent's, generated


@dataclass
class TableModel:
    """A table as the generator makes it."""

    source: SourceTable
    columns: list[ColumnModel] = field(default_factory=list)
    skipped: str = ""                      # why the table is left empty
    notes: list[str] = field(default_factory=list)
    # Partitioned tables. by_partition: a range/list root whose rows are generated partition by
    # partition (each from its own statistics), its own generator only moving sequences past
    # them, after them (depends_on). filled_by: a partition of a hash-partitioned root that
    # generates all rows itself (PostgreSQL routes them).
    by_partition: bool = False
    filled_by: str | None = None
    depends_on: list[str] = field(default_factory=list)
    row_keys: list[RowKey] = field(default_factory=list)

    def row_key_columns(self) -> set[str]:
        """Columns whose values are copied from a parent row (multi-column foreign keys)."""
        return {c for key in self.row_keys for c in key.columns}

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
        if self.source.partitioned:
            out["partitioned"] = {"strategies": list(self.source.strategies),
                                  "partitions": self.source.partitions,
                                  "generated": "by partition" if self.by_partition else
                                  "through the partitioned table"}
        if self.source.partition_of:
            out["partition_of"] = self.source.partition_of
            out["bound"] = self.source.bound
        if self.filled_by:
            out["filled_by"] = self.filled_by
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
        if table.foreign:
            model.skipped = "a foreign table: its rows live on another server"
        elif not table.analyzed:
            model.skipped = "never analysed on the source (run ANALYZE there): no statistics"
        elif table.rows <= 0:
            model.skipped = "empty on the source"
        models[table.qualified] = model
    for model in models.values():
        if model.source.partitioned:
            _partitioned(model, models)
    referencing = {(fk.table, c) for fk in foreign_keys for c in fk.columns}
    for fk in sorted(foreign_keys, key=lambda fk: len(fk.columns) > 1):  # single-column first
        _link(models, fk, referencing)
    _check_row_keys(models)
    _require_not_null(models)
    _cascade(models, foreign_keys)
    for model in models.values():
        if model.by_partition:  # filled by its partitions: empty only when all of them are
            filled = [name for name in model.source.partitions
                      if name in models and not models[name].skipped]
            model.depends_on = filled
            model.skipped = "" if filled else "no partition of it is generated"
    return models


def _partitioned(root: TableModel, models: dict[str, TableModel]) -> None:
    """How a partitioned table is filled. Range and list partitions: each from its own
    statistics, straight into it (its rows, its value ranges, as the source has them). A tree
    with hash partitioning: the root generates every row from its own statistics and PostgreSQL
    routes each to its partition (a partition's statistics cannot say which values hash to it).
    """
    source = root.source
    leaves = [models[name] for name in source.partitions if name in models]
    root.by_partition = "hash" not in source.strategies
    outside = ", ".join(source.outside)
    if root.by_partition:  # its depends_on and skipped are settled once keys are linked
        root.skipped = ""
        root.notes.append(f"rows generated partition by partition ({len(leaves)} partitions)")
        if outside:
            root.notes.append(f"partitions outside the imported schemas are left out: {outside}")
        return
    if outside or any(leaf.source.foreign for leaf in leaves):
        root.skipped = root.skipped or (
            "hash partitions outside the imported schemas: " + outside if outside else
            "a hash partition is a foreign table: rows routed to it cannot be written here")
    elif source.stats_from:
        root.notes.append(f"statistics of its largest partition {source.stats_from} (the "
                          "partitioned table itself was never analysed)")
    for leaf in leaves:
        leaf.filled_by = source.qualified
        leaf.skipped = leaf.skipped if root.skipped else ""
        leaf.columns = []


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


def _link(models: dict[str, TableModel], fk: ForeignKey,
          referencing: set[tuple[str, str]]) -> None:
    child = models[fk.table]
    if child.filled_by:
        return
    if fk.references not in models:
        schema = fk.references.split(".", 1)[0]
        raise WorkbenchError(
            f"foreign key {fk.name} of {fk.table} references {fk.references}, which is not imported",
            f"add its schema: --schemas {','.join(sorted({child.source.schema, schema}))}")
    parent = models[fk.references]
    key = next((c for c in parent.columns if c.column == fk.referenced[0]), None)
    if len(fk.columns) != 1 or parent.by_partition or (parent.name, fk.referenced[0]) in \
            referencing:
        # copy whole parent rows: several columns, rows spread over partitions, or a key that
        # is itself drawn from a third table's keys (whatever order the keys are linked in)
        _link_row(models, child, parent, fk)
        return
    column = next(c for c in child.columns if c.column == fk.columns[0])
    if key is None or key.skipped or not key.unique:
        child.skipped = child.skipped or (
            f"foreign key {fk.name}: the key {fk.references}.{fk.referenced[0]} is not generated")
        return
    if column.kind == "nulls":
        return
    if column.skipped:  # no statistics: each child row its own parent
        column.distinct = Distinct(ratio=1.0)
        column.reason = "no statistics: parents drawn uniformly"
    # the common values in the model's order (value order where it places them by position)
    link_foreign_key(column, key, column.mcv_values or None, max(1, parent.rows))


def _link_row(models: dict[str, TableModel], child: TableModel, parent: TableModel,
              fk: ForeignKey) -> None:
    """The child's referencing columns copy one parent row's key columns, as the parent's own
    value functions make them at that row (for a table generated partition by partition: a
    row of one of its partitions, each in proportion to its rows)."""
    parts = [models[name] for name in parent.source.partitions
             if name in models and not models[name].skipped] if parent.by_partition else []
    for table in parts or [parent]:
        for name in fk.referenced:
            key = next((c for c in table.columns if c.column == name), None)
            if key is None or key.skipped:
                child.skipped = child.skipped or (
                    f"foreign key {fk.name}: the key column {table.name}.{name} is not generated")
                return
    # the spread over parents: the most distinct referencing column's (a low-cardinality one
    # such as a region would put every row on a handful of parents)
    first = max(fk.columns, key=lambda c: _distinctness(child.source, c))
    driver = next((c for c in child.columns if c.column == first), None)
    if driver is None or any(child.source.column(c) is None or child.source.column(c).generated
                             for c in fk.columns):
        child.skipped = child.skipped or (
            f"foreign key {fk.name}: a referencing column is a generated column")
        return
    if driver.kind == "nulls":   # never set in the source: NULL satisfies the key
        return
    if driver.skipped:  # no statistics: each child row its own parent
        driver.distinct = Distinct(ratio=1.0)
        driver.reason = "no statistics: parents drawn uniformly"
    child.row_keys.append(RowKey(fk.name, fk.columns, parent, fk.referenced, driver, parts))


def _check_row_keys(models: dict[str, TableModel]) -> None:
    """A row key copies values the parent's value functions make: not one whose key columns
    the parent itself copies from a third table (not generated yet)."""
    for child in models.values():
        for key in child.row_keys:
            for table in key.parts or [key.parent]:
                copied = set(key.referenced) & table.row_key_columns()
                if copied:
                    child.skipped = child.skipped or (
                        f"foreign key {key.name}: the key column {table.name}."
                        f"{sorted(copied)[0]} is itself copied from another table: not "
                        "generated yet")


def _require_not_null(models: dict[str, TableModel]) -> None:
    for model in models.values():
        copied = model.row_key_columns()
        for column in model.columns:
            if column.column in copied:
                continue
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


def position_sql(order: int, prime: int, salt: int, *, g: str = "g", rows: str = ":rows") -> str:
    """A row's position among ``rows`` (a permutation of 0..rows-1 following the correlation).

    >>> position_sql(-1, 7, 1, g="h", rows=":n_orders")
    ':n_orders - h'
    """
    if order == 0:
        return f"{g} - 1"
    if order == -1:
        return f"{rows} - {g}"
    offset = f"floor(workbench.u({salt}, 7, :seed) * {rows})::bigint"
    blocks = abs(order)
    if blocks == 1:
        shuffled = f"(({g} - 1) * {prime} + {offset}) % {rows}"
    else:
        size = f"ceil({rows} / {blocks}.0)::bigint"
        start = f"(({g} - 1) / {size}) * {size}"
        shuffled = (f"{start} + ((({g} - 1) % {size}) * {prime} + {offset}) "
                    f"% least({size}, {rows} - {start})")
    return f"{rows} - 1 - ({shuffled})" if order < 0 else shuffled


def has_generator(model: TableModel) -> bool:
    """Whether the table gets a generator file: not when it is left empty or filled through
    another table, nor when it is a root filled by its partitions with no sequence to move."""
    if model.skipped or model.filled_by:
        return False
    return not model.by_partition or bool(_sequences(model))


def generator_sql(model: TableModel, short_names: dict[str, str]) -> str:
    """The INSERT ... SELECT that fills a table (columns without a model take their default);
    for a root filled by its partitions, only its sequences moved past their values."""
    if model.by_partition:
        return "\n".join([
            f"-- {model.name}: partitioned; its partitions' generators write its rows. Once they",
            "-- are in, its sequences move past the values they hold.", *_sequences(model)]) + "\n"
    columns = model.generated
    multipliers = primes(len(columns) + len(model.row_keys))
    inner, values = ["g"], {}
    drawn: dict[str, dict[str, str]] = {}
    for i, column in enumerate(columns, start=1):
        draws = column_draws(column, multipliers[i - 1], "g", ":rows")
        drawn[column.column] = draws
        inner += [f"{expression} AS {kind}{i}" for kind, expression in draws.items()]
        values[column.column] = column_value(column, {kind: f"{kind}{i}" for kind in draws},
                                             ":rows", _parent_rows(column, short_names))
    for k, key in enumerate(model.row_keys, start=1):
        # the parent row h<k> each child row copies its key from
        draws = drawn.get(key.driver.column) or column_draws(
            key.driver, multipliers[len(columns) + k - 1], "g", ":rows")
        refs = {kind: f"({expression})" for kind, expression in draws.items()}
        parent_rows = "(" + " + ".join(f":n_{short_names[t.name]}" for t in key.parts) + ")" \
            if key.parts else f":n_{short_names[key.parent.name]}"
        referenced = key.parent.columns[[c.column for c in key.parent.columns].index(
            key.referenced[key.columns.index(key.driver.column)])]
        row = parent_row_sql(key.driver, refs.get("u", "0"), refs["p"], ":rows", parent_rows,
                             referenced)
        inner.append(f"{row} AS h{k}")
        if "z" in draws:
            inner.append(f"{draws['z']} AS hz{k}")
        for name, referenced in zip(key.columns, key.referenced, strict=True):
            value = _row_value(key, referenced, f"h{k}", parent_rows, short_names)
            values[name] = f"CASE WHEN hz{k} THEN NULL ELSE {value} END" if "z" in draws \
                else value
    outer = list(values.values())
    source = model.source
    always = any(c.identity == "a" for c in source.columns)
    names = ", ".join(ident(name) for name in values)
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
    if not model.source.partition_of:  # a partition's sequences move with its root's
        lines += _sequences(model)
    return "\n".join(lines) + "\n"


def column_draws(column: ColumnModel, prime: int, g: str, rows: str) -> dict[str, str]:
    """A column's draws for row ``g`` of ``rows``: ``u`` the common-value pick, ``p`` the
    position, ``z`` the null flag (each only when the column uses it). The generator computes
    them once per row; :func:`row_value_sql` inlines them."""
    if column.kind == "nulls":
        return {}
    draws = {}
    position = position_sql(column.order, prime, column.salt, g=g, rows=rows)
    if column.by_position:
        # common values in value order along the physical order; the other rows' positions
        # stretched over all n, so their values still follow the histogram
        cut = column.common_cut / UNIT
        draws["u"] = f"floor((({position})::float8 + 0.5) * {UNIT} / {rows})::int"
        position = (f"least({rows} - 1, greatest(0, floor((({position}) - {rows} * {cut!r}) / "
                    f"{1 - cut!r})))::bigint" if cut < 1 else "0")
    elif column.mcv_count:
        draws["u"] = f"floor(workbench.u({g}, {column.salt}, :seed) * {UNIT})::int"
    draws["p"] = position
    if column.null_frac > 0:
        draws["z"] = f"workbench.u({g}, {column.salt + 1}, :seed) < {column.null_frac!r}"
    return draws


def column_value(column: ColumnModel, refs: dict[str, str], rows: str,
                 parent_rows: str | None) -> str:
    """The column's value from its draws (``refs``: names or expressions of u, p, z)."""
    if column.kind == "nulls":
        return f"NULL::{column.type_sql}"
    value = column.call(refs.get("u", "0"), refs["p"], rows, parent_rows)
    return f"CASE WHEN {refs['z']} THEN NULL ELSE {value} END" if "z" in refs else value


def row_value_sql(model: TableModel, column_name: str, g: str, rows: str,
                  short_names: dict[str, str]) -> str:
    """What ``model``'s generator writes into ``column_name`` in row ``g`` of ``rows``, as one
    expression: a multi-column foreign key copies a whole parent row's key with it."""
    columns = model.generated
    index = next(i for i, c in enumerate(columns) if c.column == column_name)
    column = columns[index]
    draws = column_draws(column, primes(len(columns))[index], g, rows)
    return column_value(column, {kind: f"({expression})" for kind, expression in draws.items()},
                        rows, _parent_rows(column, short_names))


def _row_value(key: RowKey, column: str, h: str, rows: str, short_names: dict[str, str]) -> str:
    """Column ``column`` of parent row ``h``; of a partitioned parent, row h counts through its
    partitions in order (the first :n_<partition> rows are the first partition's, ...)."""
    if not key.parts:
        return row_value_sql(key.parent, column, h, rows, short_names)
    cases, before = [], "0"
    for part in key.parts:
        n = f":n_{short_names[part.name]}"
        local = f"({h} - {before})" if before != "0" else h
        cases.append(f"WHEN {h} <= {before} + {n} THEN "
                     f"{row_value_sql(part, column, local, n, short_names)}")
        before = f"{before} + {n}" if before != "0" else n
    return "CASE " + " ".join(cases) + " END"


def _parent_rows(column: ColumnModel, short_names: dict[str, str]) -> str | None:
    return f":n_{short_names[column.parent_table]}" if column.parent_table else None


def _sequences(model: TableModel) -> list[str]:
    """Serial columns' sequences moved past the generated values (identities: the loader)."""
    out = []
    table = f"{ident(model.source.schema)}.{ident(model.source.name)}"
    for column in model.columns if model.by_partition else model.generated:
        source = model.source.column(column.column)
        match = _NEXTVAL.match(source.default or "") if source else None
        if match:
            sequence = match.group(1).replace("''", "'")
            out.append(f"SELECT setval({literal(sequence)}, coalesce(max({ident(column.column)}), "
                       f"0) + 1, false) FROM {table};")
    return out
