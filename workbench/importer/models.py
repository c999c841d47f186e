"""Column models: the distribution ``pg_stats`` describes, as one SQL function per column.

A column's value is drawn in two steps. ``u``, a number in [0, 1,000,000), picks one of the most
common values with its frequency (``UNIT`` picks none); otherwise ``p``, a position in [0, n) for
a table of n rows, picks one of the column's other values: positions are cut into as many equal
slots as the column has distinct values at n rows, and a slot's value is read off the histogram
(interpolated between its bounds for numbers and times, a bound with a short code appended for
text, so every slot has its own value). The same function serves the generator (each row brings
its own ``u`` and its position, which follows the column's physical correlation) and the
workload (``u`` and ``p`` drawn by pgbench: a hot value is asked for as often as it occurs, the
others uniformly). A foreign-key column draws positions of its parent's key instead, so every
value it takes exists there, hot parents first.

The functions are IMMUTABLE, so with constant arguments the planner folds a call to its value:
a statement that compares a column with ``synthetic.orders__status(:u1, :p1, :n_orders)`` is
planned as with the literal.

>>> Distinct(ratio=0.5).sql("n")
'greatest(1, round((n) * 0.5))::bigint'
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass, field
from typing import Any

from pglast.keywords import RESERVED_KEYWORDS, TYPE_FUNC_NAME_KEYWORDS

from workbench.importer.estimate import expected_estimate, sample_rows, solve
from workbench.importer.source import ColumnStats, SourceColumn, SourceTable

UNIT = 1_000_000            # u in [0, UNIT) picks a most common value by frequency; UNIT: none
FUNCTION_SCHEMA = "synthetic"
_INTEGERS = {"int2", "int4", "int8"}
_FLOATS = {"float4", "float8"}
_TIMES = {"timestamptz", "timestamp", "date"}
_JSON = {"json", "jsonb"}
_SIMPLE = re.compile(r"^[a-z_][a-z0-9_]*$")
_SENTINEL = 2**62             # closes the list of skipped integers (never reached)
MAX_DISCRETE_DIGITS = 4       # numeric with up to 4 decimals is drawn as integers of 10^-4
_KEYWORDS = {k.lower() for k in (*RESERVED_KEYWORDS, *TYPE_FUNC_NAME_KEYWORDS)}

def _rank_sql() -> str:
    """The rank among non-common integers chosen for position p (body of integer_at), in
    integer arithmetic: bucket i = floor((p + 1/2) k / n), then value j of the bucket's count
    by the position's place inside the bucket, spread over the bucket's integers."""
    k = "cardinality(a)"
    i = f"least(((2 * p + 1) * {k}) / (2 * n), {k} - 1)"
    avail = f"a[{i} + 1]"
    count = f"greatest(1, least({avail}, round(lam)::bigint))"
    j = f"least((((2 * p + 1) * {k} - 2 * n * {i}) * {count}) / (2 * n), {count} - 1)"
    return f"(r[{i} + 1] + ((2 * {j} + 1) * {avail}) / (2 * {count}))"


_RANK = _rank_sql()



def ident(name: str) -> str:
    """An identifier as SQL: bare when PostgreSQL would keep it as written, else quoted.

    >>> ident("orders"), ident("Order"), ident("user")
    ('orders', '"Order"', '"user"')
    """
    if _SIMPLE.match(name) and name not in _KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A string literal (standard_conforming_strings).

    >>> literal("it's")
    "'it''s'"
    """
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Distinct:
    """How many slots (distinct non-common values) a column has at n rows."""

    ratio: float | None = None      # slots = ratio * n (distinct values grow with the table)
    constant: int | None = None     # slots = min(n, constant) (a fixed set of values)
    unique: bool = False            # one slot per position

    def sql(self, n: str) -> str:
        """The slot count as SQL, for n rows given as SQL."""
        if self.unique:
            return f"({n})"
        if self.ratio is not None:
            return f"greatest(1, round(({n}) * {self.ratio!r}))::bigint"
        return f"least(({n}), {max(1, self.constant or 1)})::bigint"

    def at(self, n: int) -> int:
        """The slot count for n rows."""
        if self.unique:
            return n
        if self.ratio is not None:
            return max(1, round(n * self.ratio))
        return min(n, max(1, self.constant or 1))


# Generic helpers of the value functions (migration V2). Their arguments are positions and
# constants, so the planner inlines them into a generator and folds them in a statement.
HELPERS = f"""
CREATE FUNCTION {FUNCTION_SCHEMA}.interpolate(p bigint, n bigint, slots bigint, b float8[])
RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
SELECT b[least(floor(least((floor(p::float8 * slots / n) + 0.5) / slots, 1.0)
                     * (cardinality(b) - 1))::int, cardinality(b) - 2) + 1]
     + (b[least(floor(least((floor(p::float8 * slots / n) + 0.5) / slots, 1.0)
                      * (cardinality(b) - 1))::int, cardinality(b) - 2) + 2]
        - b[least(floor(least((floor(p::float8 * slots / n) + 0.5) / slots, 1.0)
                        * (cardinality(b) - 1))::int, cardinality(b) - 2) + 1])
     * (least((floor(p::float8 * slots / n) + 0.5) / slots, 1.0) * (cardinality(b) - 1)
        - least(floor(least((floor(p::float8 * slots / n) + 0.5) / slots, 1.0)
                      * (cardinality(b) - 1))::int, cardinality(b) - 2))
$fn$;
COMMENT ON FUNCTION {FUNCTION_SCHEMA}.interpolate(bigint, bigint, bigint, float8[]) IS
'The value of position p of n: slot floor(p * slots / n), read off the histogram b at the
slot''s middle quantile, linearly between two bounds.';

CREATE FUNCTION {FUNCTION_SCHEMA}.integer_at(p bigint, n bigint, x bigint[], r bigint[],
                                             a bigint[], t bigint[], lam float8)
RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
SELECT x[1] + {_RANK} + width_bucket({_RANK}, t)
$fn$;
COMMENT ON FUNCTION {FUNCTION_SCHEMA}.integer_at(bigint, bigint, bigint[], bigint[], bigint[],
                                                 bigint[], float8) IS
'The integer at position p of n: histogram bucket i (bounds x) by the position, then one of
least(a[i], lam) values spread over the a[i] integers of the bucket that are not common values
(r: rank of each bound among them; t: where the common values interrupt them).';

CREATE FUNCTION {FUNCTION_SCHEMA}.text_at(s bigint, slots bigint, b text[], pad integer)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
SELECT CASE WHEN slots <= cardinality(b)
            THEN b[least(1 + floor(s::float8 * cardinality(b) / slots)::int, cardinality(b))]
            ELSE b[1 + least(floor(least((s::float8 + 0.5) / slots, 1.0)
                                   * (cardinality(b) - 1))::int, cardinality(b) - 2)]
                 || ' ' || to_hex(s) END
       || CASE WHEN pad > 0 THEN ' ' || left(repeat(md5(s::text), pad / 32 + 1), pad) ELSE ''
          END
$fn$;
COMMENT ON FUNCTION {FUNCTION_SCHEMA}.text_at(bigint, bigint, text[], integer) IS
'Text slot s of slots: a histogram bound while there are fewer slots than bounds; else the
bound of the slot''s quantile, a space and the slot in hex (unique, and in the bound''s place
in sort order); then pad characters where the source''s values are wider than its histogram
shows (values over 1 kB are left out of it).';
"""


@dataclass
class IntegerDomain:
    """The integers a histogram spans, less the common values (for exact distinct counts)."""

    bounds: list[int]       # x: histogram bounds in integer units
    ranks: list[int]        # r: rank of each bound among the integers that are not common
    available: list[int]    # a: such integers per bucket
    skips: list[int]        # t: common values as "after how many others" thresholds
    lam: float              # values per bucket (capped by a[i]) for ``slots`` slots
    slots: int


@dataclass
class ColumnModel:
    """How one column is generated (or why it is not)."""

    table: str                    # schema.table
    column: str
    type_sql: str
    kind: str                     # int serial numeric float date timestamptz timestamp text
    #                               uuid pool filler nulls fk skip
    function: str = ""            # synthetic.<table>__<column>
    null_frac: float = 0.0
    mcv_array: str | None = None  # array literal of the most common values
    mcv_count: int = 0
    thresholds: list[int] = field(default_factory=list)   # cumulative, of the non-null rows
    mcv_values: list[str] = field(default_factory=list)
    frequencies: list[float] = field(default_factory=list)  # of the non-null rows
    distinct: Distinct = field(default_factory=Distinct)
    bounds: list[float] | None = None                     # histogram as numbers
    bounds_array: str | None = None                       # histogram as an array literal
    bounds_count: int = 0
    digits: int = 0
    domain: IntegerDomain | None = None   # integers (and days, numeric units) of the histogram
    by_position: bool = False             # generator picks common values by position (order)
    pad: int = 0                          # text: filler appended to reach the observed width
    order: int = 1                # 1..K: K blocks shuffled; 0 in order; -1 reversed
    width: int = 0
    array_type: bool = False
    salt: int = 0
    parent: ColumnModel | None = None
    mcv_positions: list[int] = field(default_factory=list)
    parent_table: str | None = None
    reason: str = ""              # why it is skipped, or what was approximated
    source_rows: int = 0
    base_type: str = ""           # pg_type name of the (base) type
    category: str = ""            # its pg_type.typcategory
    sample: int = 30_000          # rows ANALYZE samples for it

    @property
    def skipped(self) -> bool:
        """True when the generator leaves this column to its default (or NULL)."""
        return self.kind == "skip"

    @property
    def unique(self) -> bool:
        """One value per position."""
        return self.distinct.unique

    @property
    def common_cut(self) -> int:
        """u below this picks a most common value."""
        return self.thresholds[-1] if self.thresholds else 0

    def arguments(self) -> str:
        """The SQL function's argument list."""
        extra = ", m bigint" if self.kind == "fk" else ""
        return f"u integer, p bigint, n bigint{extra}"

    def call(self, u: str, p: str, n: str, m: str | None = None) -> str:
        """A call of the column's function."""
        args = [u, p, n] + ([m] if self.kind == "fk" and m is not None else [])
        return f"{self.function}({', '.join(args)})"

    # -- SQL ---------------------------------------------------------------------------------

    def create_function(self) -> str:
        """The CREATE FUNCTION statement (the value drawn from u, p, n [, m])."""
        body = self.expression("u", "p", "n", "m")
        tag = "$fn$"
        while tag in body:
            tag = f"$fn{len(tag)}$"
        return (f"CREATE FUNCTION {self.function}({self.arguments()}) RETURNS {self.type_sql}\n"
                f"LANGUAGE sql IMMUTABLE PARALLEL SAFE AS {tag}\nSELECT {body}\n{tag}")

    def expression(self, u: str, p: str, n: str, m: str = "m") -> str:
        """The value as one SQL expression of the arguments (no nested SQL function, so the
        planner can inline it into a generator and fold it in a statement)."""
        if self.kind == "nulls":
            return f"NULL::{self.type_sql}"
        if self.kind == "fk":
            assert self.parent is not None
            rest = self._fk_rest(p, n, m)
            common = self._fk_common(u, m) if self.mcv_count else None
        else:
            rest = self.rest(p, n)
            common = self._common(u) if self.mcv_count else None
        if common is None:
            return rest
        return f"CASE WHEN ({u}) < {self.common_cut} THEN {common}\n       ELSE {rest} END"

    def _common(self, u: str) -> str:
        index = self._common_index(u)
        return self._pick(self.mcv_array or "{}", index)

    def _common_index(self, u: str) -> str:
        if self.mcv_count == 1:
            return "1"
        steps = "{" + ",".join(str(t) for t in [0, *self.thresholds[:-1]]) + "}"
        return f"width_bucket(({u}), '{steps}'::int[])"

    def _pick(self, array: str, index: str) -> str:
        if self.array_type:  # an array of arrays has no SQL type: index the text, then cast
            return f"({literal(array)}::text[])[{index}]::{self.type_sql}"
        return f"({literal(array)}::{self.type_sql}[])[{index}]"

    def _fk_common(self, u: str, m: str) -> str:
        assert self.parent is not None
        positions = "{" + ",".join(str(x) for x in self.mcv_positions) + "}"
        position = f"('{positions}'::bigint[])[{self._common_index(u)}] % ({m})"
        return self.parent.rest(position, m)

    def _fk_rest(self, p: str, n: str, m: str) -> str:
        assert self.parent is not None
        slots = f"least({self.distinct.sql(n)}, ({m}))"
        slot = self._slot(p, n, slots)
        position = f"floor(({slot})::float8 * ({m}) / {slots})::bigint"
        return self.parent.rest(position, m)

    def _slot(self, p: str, n: str, slots: str | None = None) -> str:
        if self.distinct.unique and slots is None:
            return f"({p})"
        slots = slots or self.distinct.sql(n)
        return f"floor(({p})::float8 * {slots} / ({n}))::bigint"

    def rest(self, p: str, n: str) -> str:
        """The value of position p among n rows when no common value was picked."""
        slots = self.distinct.sql(n)
        slot = self._slot(p, n)
        schema = FUNCTION_SCHEMA
        if self.kind == "serial":
            b0, bk = self._ends()
            step = f"greatest(1, floor(({bk!r} - {b0!r}) / {slots}::float8))::bigint"
            return f"({int(b0)} + ({slot}) * {step})::{self.type_sql}"
        if self.domain is not None:
            d = self.domain
            lam = f"{d.lam!r} * {slots} / {d.slots}"
            value = (f"{schema}.integer_at(({p}), ({n}), {_ints(d.bounds)}, {_ints(d.ranks)}, "
                     f"{_ints(d.available)}, {_ints([*d.skips, _SENTINEL])}, {lam})")
            return self._from_units(value, units=True)
        if self.kind in ("int", "numeric", "float", "date", "timestamptz", "timestamp"):
            assert self.bounds is not None
            array = "'{" + ",".join(repr(b) for b in self.bounds) + "}'::float8[]"
            return self._from_units(f"{schema}.interpolate(({p}), ({n}), {slots}, {array})",
                                    units=False)
        if self.kind == "text":
            assert self.bounds_array is not None
            return (f"{schema}.text_at({slot}, {slots}, {literal(self.bounds_array)}::text[], "
                    f"{self.pad})::{self.type_sql}")
        if self.kind == "uuid":
            return f"md5('{self.salt}:' || ({slot})::text)::uuid"
        if self.kind == "pool" and self.bounds_array:
            return self._pick(self.bounds_array, f"1 + ({slot}) % {self.bounds_count}")
        if self.kind in ("filler", "wide"):
            return self._filler(slot)
        # only common values are known: cycle through them
        return self._pick(self.mcv_array or "{}", f"1 + ({slot}) % {max(1, self.mcv_count)}")

    def _ends(self) -> tuple[float, float]:
        if self.bounds:
            return self.bounds[0], self.bounds[-1]
        return 1.0, float(max(1, self.source_rows))

    def _from_units(self, value: str, units: bool) -> str:
        """A number (integer units, epoch seconds, days) as a value of the column's type."""
        if self.kind == "int":
            return f"round({value})::{self.type_sql}"
        if self.kind == "numeric" and units:
            return f"(({value})::numeric / {10 ** self.digits})::{self.type_sql}"
        if self.kind == "numeric":
            return f"round(({value})::numeric, {self.digits})::{self.type_sql}"
        if self.kind == "float":
            return f"({value})::{self.type_sql}"
        if self.kind == "date":
            return f"(date '1970-01-01' + round({value})::int)::{self.type_sql}"
        if self.kind == "timestamptz":
            return f"to_timestamp({value})::{self.type_sql}"
        return f"timezone('UTC', to_timestamp({value}))::{self.type_sql}"

    def _filler(self, slot: str) -> str:
        """Values of the observed width where statistics say nothing else: hex text of the
        slot's hash (JSON: one key holding it; bytea: its bytes)."""
        width = max(1, self.width)
        if self.base_type in _JSON:
            width = max(1, width - 11)  # {"v" : ""} and the length byte
        if self.base_type == "bytea":
            width *= 2
        text = f"left(repeat(md5(({slot})::text), {width // 32 + 1}), {width})"
        if self.base_type in _JSON:
            return f"json_build_object('v', {text})::{self.type_sql}"
        if self.base_type == "bytea":
            return f"decode({text}, 'hex')::{self.type_sql}"
        return f"{text}::{self.type_sql}"

    def to_json(self) -> dict[str, Any]:
        """What import.json records of the column."""
        out: dict[str, Any] = {"column": self.column, "type": self.type_sql, "kind": self.kind}
        if not self.skipped:
            out.update(function=self.function, null_frac=self.null_frac,
                       common_values=self.mcv_count, histogram_bounds=self.bounds_count,
                       unique=self.unique, order=self.order)
            if self.distinct.ratio is not None and not self.unique:
                out["slots_per_row"] = self.distinct.ratio
            elif self.distinct.constant is not None:
                out["slots"] = self.distinct.constant
            if self.parent_table:
                out["references"] = self.parent_table
        if self.reason:
            out["note"] = self.reason
        return out


# -- building models from statistics ---------------------------------------------------------------


def function_name(table: SourceTable, column: str) -> str:
    """``synthetic.<table>__<column>`` (shortened with a hash when too long)."""
    name = f"{table.name}__{column}"
    if len(name.encode()) > 63 or not _SIMPLE.match(name):
        digest = f"{zlib.crc32(f'{table.qualified}.{column}'.encode()):08x}"
        cleaned = re.sub(r"[^a-z0-9_]", "_", name.lower())[:50]
        name = f"{cleaned}_{digest}"
    return f"{FUNCTION_SCHEMA}.{ident(name)}"


def salt_of(table: str, column: str) -> int:
    """A stable hash salt per column (workbench.u takes an integer salt)."""
    return zlib.crc32(f"{table}.{column}".encode()) % 1_000_003


def column_model(table: SourceTable, column: SourceColumn, unique: bool,
                 numbers: Any) -> ColumnModel:
    """The model of one column from its statistics (``numbers(values, type)`` converts histogram
    bounds to numbers on the source server)."""
    model = ColumnModel(table.qualified, column.name, column.type_sql, "skip",
                        function_name(table, column.name), array_type=column.is_array,
                        salt=salt_of(table.qualified, column.name),
                        source_rows=max(0, table.rows), base_type=column.base_type,
                        category=column.category, sample=sample_rows(column.stattarget))
    stats = column.stats
    if stats is None:
        return _without_stats(model, column, table)
    model.width = stats.avg_width
    model.null_frac = min(1.0, max(0.0, stats.null_frac))
    if model.null_frac >= 0.9999:
        model.kind = "nulls"
        return model
    _common_values(model, stats, column, unique)
    model.order = order_from(stats.correlation)
    model.kind = _choose_kind(model, column, stats, unique, numbers)
    if stats.histogram:
        model.bounds_array = stats.histogram_array
        model.bounds_count = len(stats.histogram)
    if model.kind == "skip":
        return model
    rows = max(1, table.rows)
    if model.kind == "common":
        _only_common(model)
        model.distinct = Distinct(constant=max(1, model.mcv_count))
    else:
        model.distinct = distinct_model(stats, rows, model, unique)
    if model.kind == "text":
        model.pad = _text_pad(model, stats, table.rows)
    if model.kind in ("int", "date", "numeric") and model.bounds and not unique \
            and model.digits <= MAX_DISCRETE_DIGITS:
        model.domain = integer_domain(model, stats, numbers, rows)
    _order_common_values(model, stats, numbers)
    return model


def _choose_kind(model: ColumnModel, column: SourceColumn, stats: ColumnStats, unique: bool,
                 numbers: Any) -> str:
    """How the column's values are made, from its type and what pg_stats has of it."""
    kind = _kind(column, stats)
    if kind == "skip":
        model.reason = (f"no generator for type {column.type_sql}: pg_stats has neither common "
                        "values nor a histogram of it")
        return kind
    if kind in ("int", "numeric", "float", "date", "timestamptz", "timestamp"):
        model.bounds = numbers(stats.histogram, column.base_type) if stats.histogram else None
        if model.bounds is None or len(model.bounds) < 2:
            kind = "serial" if unique and column.base_type in _INTEGERS else \
                ("pool" if stats.histogram else "common")
    if kind == "numeric":
        model.digits = min(10, max((len(v.split(".", 1)[1]) for v in stats.histogram or []
                                    if "." in v), default=0))
    if kind == "int" and unique:
        return "serial"
    if kind == "text" and not stats.histogram and _wide_rest(model, stats, column):
        return "wide"
    if kind in ("text", "pool") and not stats.histogram:
        kind = "common"
    if kind == "common" and not model.mcv_count:
        model.reason = "no values known: pg_stats has neither common values nor a histogram"
        return "skip"
    if unique and kind == "pool":
        model.reason = f"unique {column.type_sql} values cannot be drawn from a fixed pool"
        return "skip"
    return kind


def _text_pad(model: ColumnModel, stats: ColumnStats, rows: int) -> int:
    """Bytes to append to each non-common value so the average width is the source's: ANALYZE
    leaves values over 1 kB out of the histogram but not out of avg_width."""
    rest = 1.0 - model.null_frac - sum(stats.mcf or [])
    if rest < 0.01 or not stats.histogram:
        return 0
    non_null = 1.0 - model.null_frac
    slots = model.distinct.at(max(1, rows)) if model.distinct.ratio or model.distinct.constant \
        else rows
    code = 1 + len(f"{slots:x}") if slots > len(stats.histogram) else 0
    bound = sum(len(b.encode()) for b in stats.histogram) / len(stats.histogram) + code + 1
    common = sum(f * (len(v.encode()) + 1) for v, f in zip(stats.mcv or [], stats.mcf or [],
                                                          strict=False))
    expected = (common + rest * bound) / non_null
    missing = stats.avg_width - expected
    if missing < 8 or missing < 0.2 * expected:
        return 0
    return min(100_000, round(missing * non_null / rest))


def _wide_rest(model: ColumnModel, stats: ColumnStats, column: SourceColumn) -> bool:
    """Text whose other values are all too wide for the histogram (ANALYZE leaves values over
    1 kB out of it): they get filler of the width they must have for avg_width to come out."""
    rest = 1.0 - model.null_frac - sum(stats.mcf or [])
    if rest < 0.001 or _source_distinct(stats, max(1, model.source_rows), model) \
            <= model.mcv_count:
        return False
    common = sum(f * (len(v.encode()) + 4) for v, f in zip(stats.mcv or [], stats.mcf or [],
                                                           strict=False))
    model.width = max(1, round((stats.avg_width * (1 - model.null_frac) - common) / rest) - 4)
    model.reason = f"values beyond the common ones are wider than the histogram keeps: filler " \
                   f"of {model.width} bytes"
    return True


def _without_stats(model: ColumnModel, column: SourceColumn, table: SourceTable) -> ColumnModel:
    if not table.analyzed:
        model.reason = "the table was never analysed on the source"
    elif column.category == "S" or column.base_type in (*_JSON, "bytea"):
        model.kind = "filler"
        model.width = 32
        model.distinct = Distinct(ratio=1.0)
        model.reason = "no statistics for this column: filler values"
        return model
    else:
        model.reason = f"no statistics for type {column.type_sql}: cannot generate its values"
    return model


def _kind(column: SourceColumn, stats: ColumnStats) -> str:
    base = column.base_type
    if column.is_array:
        return "pool"
    if base in _INTEGERS:
        return "int"
    if base == "numeric":
        return "numeric"
    if base in _FLOATS:
        return "float"
    if base in _TIMES:
        return base
    if base == "uuid":
        return "uuid"
    if column.category == "S":
        return "text"
    if stats.histogram or stats.mcv:
        return "pool"
    if base in (*_JSON, "bytea"):
        return "filler"
    return "skip"


def _common_values(model: ColumnModel, stats: ColumnStats, column: SourceColumn,
                   unique: bool = False) -> None:
    # A column generated unique (one value per position) has no common value: a key column
    # whose values repeat in the source (each id once per region in a (region, id) key) may
    # still have a most-common list, and drawing from it would repeat keys.
    if not stats.mcv or not stats.mcf or unique:
        return
    non_null = max(1e-9, 1.0 - model.null_frac)
    model.mcv_values = list(stats.mcv)
    model.frequencies = [f / non_null for f in stats.mcf]
    model.mcv_array = stats.mcv_array
    model.mcv_count = len(stats.mcv)
    model.thresholds = _cuts(model.frequencies)


def _cuts(frequencies: list[float]) -> list[int]:
    """Cumulative thresholds of u for the frequencies (of the non-null rows)."""
    total, cuts = 0.0, []
    for freq in frequencies:
        total += freq
        cuts.append(min(UNIT, round(total * UNIT)))
    return cuts


def _only_common(model: ColumnModel) -> None:
    """Every non-null value is one of the common values: spread their frequencies over all."""
    total = sum(model.frequencies)
    if not total:
        return
    model.frequencies = [f / total for f in model.frequencies]
    model.thresholds = _cuts(model.frequencies)
    model.thresholds[-1] = UNIT


def _order_common_values(model: ColumnModel, stats: ColumnStats, numbers: Any) -> None:
    """For a column stored in (or against) its sort order, list the common values in value
    order so the generator can place them by position, keeping the order."""
    if abs(model.order) in (1, 2) or model.mcv_count < 1 or model.array_type \
            or model.kind in ("pool", "filler"):
        return
    keys: list[Any] | None
    if model.base_type in (*_INTEGERS, *_FLOATS, *_TIMES, "numeric"):
        keys = numbers(model.mcv_values, model.base_type)
    elif model.category == "S" or model.base_type in ("uuid", "bool"):
        keys = list(model.mcv_values)
    else:
        keys = None
    if keys is None or len(keys) != model.mcv_count:
        return
    full = model.thresholds[-1] == UNIT
    order = sorted(range(model.mcv_count), key=lambda i: keys[i])  # positions carry the sign
    model.mcv_values = [model.mcv_values[i] for i in order]
    model.frequencies = [model.frequencies[i] for i in order]
    model.mcv_array = array_literal(model.mcv_values)
    model.thresholds = _cuts(model.frequencies)
    if full:
        model.thresholds[-1] = UNIT
    model.by_position = True


def array_literal(values: list[str]) -> str:
    """A PostgreSQL array literal of text forms (every element quoted).

    >>> array_literal(['a', 'b "c"', 'd\\\\e'])
    '{"a","b \\\\"c\\\\"","d\\\\\\\\e"}'
    """
    quoted = ('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return "{" + ",".join(quoted) + "}"


def _ints(values: list[int]) -> str:
    return "'{" + ",".join(str(int(v)) for v in values) + "}'::bigint[]"


def integer_domain(model: ColumnModel, stats: ColumnStats, numbers: Any, rows: int
                   ) -> IntegerDomain | None:
    """The histogram's integers (days; numeric in units of its last decimal) without the common
    values, and how many values each bucket gets for the column's distinct count."""
    assert model.bounds is not None
    unit = 10 ** model.digits if model.kind == "numeric" else 1
    bounds = [round(b * unit) for b in model.bounds]
    if any(b > a for a, b in zip(bounds[1:], bounds, strict=False)) or bounds[-1] - bounds[0] > 2**53:
        return None
    common = numbers(model.mcv_values, model.base_type) if model.mcv_values else []
    skipped = sorted({round(c * unit) for c in common or []
                      if bounds[0] <= round(c * unit) <= bounds[-1]})

    def rank(x: int) -> int:  # integers of [bounds[0], x) that are not common values
        return (x - bounds[0]) - sum(1 for m in skipped if m < x)

    ranks = [rank(b) for b in bounds]
    available = [ranks[i + 1] - ranks[i] for i in range(len(bounds) - 1)]
    available[-1] += 1 if bounds[-1] not in skipped else 0
    skips = [m - bounds[0] - j for j, m in enumerate(skipped)]
    per_bucket = rows / max(1, len(available))

    def estimate(level: float) -> float:
        groups = [(v, per_bucket / v) for v in (max(1.0, min(c, level)) for c in available)]
        return _estimate(model, stats, rows, groups)

    level = solve(estimate, _source_distinct(stats, rows, model), 1.0,
                  float(max(available, default=1)))
    return IntegerDomain(bounds, ranks, available, skips, level, model.distinct.at(rows))


def order_from(correlation: float | None) -> int:
    """Physical order from pg_stats' correlation: 0 in order, -1 reversed, else K blocks in order
    with the rows shuffled inside each (correlation about 1 - 1/K², so K = 1: none; negative:
    the blocks reversed).

    >>> order_from(1.0), order_from(-0.999), order_from(0.1), order_from(0.8), order_from(-0.8)
    (0, -1, 1, 2, -2)
    """
    if correlation is None:
        return 1
    c = abs(correlation)
    if c >= 0.995:
        return 0 if correlation > 0 else -1
    blocks = max(1, round(1.0 / math.sqrt(1.0 - c)))
    if blocks > 50:
        return 0 if correlation > 0 else -1
    return blocks if correlation >= 0 or blocks == 1 else -blocks


def distinct_model(stats: ColumnStats, rows: int, model: ColumnModel, unique: bool) -> Distinct:
    """Slots for the non-common values, so many that ANALYZE on the clone is expected to report
    the source's n_distinct (see :mod:`workbench.importer.estimate`)."""
    if unique:
        return Distinct(unique=True)
    slots = solve(lambda d: _estimate(model, stats, rows, [(d, rows / d)]),
                  _source_distinct(stats, rows, model), 1.0, float(rows))
    if stats.n_distinct < 0:
        return Distinct(ratio=slots / rows)
    return Distinct(constant=max(1, round(slots)))


def _source_distinct(stats: ColumnStats, rows: int, model: ColumnModel) -> float:
    """The source's n_distinct as a count of values."""
    nd = stats.n_distinct
    if nd == 0:  # unknown to ANALYZE
        nd = float(model.mcv_count + max(0, model.bounds_count - 1)) or -1.0
    return max(1.0, -nd * rows if nd < 0 else nd)


def _estimate(model: ColumnModel, stats: ColumnStats, rows: int,
              groups: list[tuple[float, float]]) -> float:
    rest = max(0.0, 1.0 - model.null_frac - sum(stats.mcf or []))
    common = [f * rows for f in stats.mcf or []]
    return expected_estimate(common, groups, rest, rows, model.sample, model.null_frac)


def parent_row_sql(driver: ColumnModel, u: str, p: str, n: str, m: str,
                   referenced: ColumnModel | None = None) -> str:
    """The parent row (1..m) a child row draws for a multi-column foreign key, spread like its
    most distinct referencing column (``driver``): its most common values' shares on as many
    hot parents (each value's parent fixed by its hash, so hot parents stay hot at any scale),
    the rest over as many parent rows as it has distinct values, times the parent rows per
    distinct value of the column it references (``referenced``: an id repeated once per region
    in a (region, id) key stands for two parent rows), at most m."""
    slots = driver.distinct.sql(n)
    if referenced is not None and not referenced.unique:
        slots = f"floor(({slots})::float8 * ({m}) / greatest(1, {referenced.distinct.sql(m)}))"
    slots = f"least(({slots})::bigint, ({m}))"
    slot = driver._slot(p, n, slots)
    rest = f"1 + floor(({slot})::float8 * ({m}) / {slots})::bigint"
    if not driver.mcv_count:
        return rest
    hashes = "{" + ",".join(str(zlib.crc32(v.encode())) for v in driver.mcv_values) + "}"
    hot = f"1 + ('{hashes}'::bigint[])[{driver._common_index(u)}] % ({m})"
    return f"CASE WHEN ({u}) < {driver.common_cut} THEN {hot} ELSE {rest} END"


def link_foreign_key(child: ColumnModel, parent: ColumnModel, mcv_values: list[str] | None,
                     parent_rows: int) -> None:
    """Make a column draw its values from its parent key's positions (hot parents kept)."""
    child.kind = "fk"
    child.parent = parent
    child.parent_table = parent.table
    child.mcv_positions = [_parent_position(parent, v, parent_rows) for v in mcv_values or []]


def _parent_position(parent: ColumnModel, value: str, parent_rows: int) -> int:
    """The parent position whose key is this value (ids as they are), else a stable spread."""
    if parent.kind == "serial":
        b0, bk = parent._ends()
        step = max(1, math.floor((bk - b0) / max(1, parent_rows)))
        try:
            number = int(value)
        except ValueError:
            number = None
        if number is not None and number >= b0 and (number - int(b0)) % step == 0:
            return (number - int(b0)) // step
    return zlib.crc32(value.encode()) % max(1, parent_rows)
