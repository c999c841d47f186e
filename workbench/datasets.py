"""Datasets: a manifest (``dataset.toml``), schema migrations, data generators and a workload.

The format is documented in ``datasets/README.md``. Reading is strict: an unknown field, a missing
file, a dangling or cyclic ``depends_on`` is a one-line error naming the file and the field.

>>> shop = get_dataset("shop")
>>> [s.name for s in shop.services]
['accounts', 'catalog', 'orders', 'payments']
>>> shop.rows("orders.orders", scale=0.1)
30000
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError

MANIFEST = "dataset.toml"
DATASETS_DIR = Path(__file__).resolve().parents[1] / "datasets"

_TOP = {"name", "description", "services", "tables", "workload", "omitted_indexes", "loader",
        "pgbench_init"}
_SERVICE = {"name", "schema"}
_TABLE = {"rows_per_scale", "generate", "depends_on"}
_WORKLOAD = {"script", "weight", "service"}
_OMITTED = {"table", "columns", "why"}
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Service:
    """A service and the one schema it owns."""

    name: str
    schema: str


@dataclass(frozen=True)
class TableSpec:
    """A table, its size per unit of scale and its generator."""

    name: str  # "schema.table"
    rows_per_scale: int
    generate: Path | None
    depends_on: tuple[str, ...] = ()

    @property
    def schema(self) -> str:
        """The schema part of the name."""
        return self.name.split(".", 1)[0]

    @property
    def short(self) -> str:
        """The table part of the name."""
        return self.name.split(".", 1)[1]


@dataclass(frozen=True)
class WorkloadScript:
    """A pgbench script of the mix, its weight and the service that issues it."""

    name: str
    path: Path
    weight: int
    service: str


@dataclass(frozen=True)
class OmittedIndex:
    """An index the dataset leaves out on purpose (for the advisor to find)."""

    table: str
    columns: tuple[str, ...]
    why: str = ""


@dataclass
class Dataset:
    """A dataset read from its folder."""

    name: str
    path: Path
    description: str
    services: list[Service]
    tables: dict[str, TableSpec]
    scripts: list[WorkloadScript]
    omitted_indexes: list[OmittedIndex] = field(default_factory=list)
    pgbench_init: bool = False

    @property
    def migrations(self) -> Path:
        """The folder of Flyway-style schema migrations."""
        return self.path / "migrations"

    def rows(self, table: str, scale: float) -> int:
        """Rows of a table at a scale (at least one)."""
        return max(1, round(self.tables[table].rows_per_scale * scale))

    def variables(self, scale: float) -> dict[str, int]:
        """pgbench variables for the workload: ``n_<table>`` = rows of each table at this scale."""
        return {f"n_{spec.short}": self.rows(name, scale) for name, spec in self.tables.items()}

    def load_order(self) -> list[list[str]]:
        """Tables in waves: each wave depends only on earlier ones (loaded in parallel)."""
        done: set[str] = set()
        waves = []
        pending = dict(self.tables)
        while pending:
            wave = sorted(n for n, t in pending.items() if set(t.depends_on) <= done)
            waves.append(wave)
            done.update(wave)
            for name in wave:
                del pending[name]
        return waves

    def to_json(self) -> dict[str, Any]:
        """What ``workbench datasets --json`` prints for one dataset."""
        return {
            "name": self.name, "path": str(self.path), "description": self.description,
            "services": [{"name": s.name, "schema": s.schema} for s in self.services],
            "tables": {n: {"rows_per_scale": t.rows_per_scale} for n, t in self.tables.items()},
            "workload": [{"script": s.name, "weight": s.weight, "service": s.service}
                         for s in self.scripts],
            "omitted_indexes": [{"table": o.table, "columns": list(o.columns), "why": o.why}
                                for o in self.omitted_indexes],
        }


def list_datasets(root: Path = DATASETS_DIR) -> list[Dataset]:
    """Every dataset in the repository's ``datasets/`` folder.

    >>> [d.name for d in list_datasets()]
    ['events', 'shop', 'tpcb']
    """
    return [read_dataset(p.parent) for p in sorted(Path(root).glob(f"*/{MANIFEST}"))]


def get_dataset(name_or_path: str | Path) -> Dataset:
    """A dataset by name (in ``datasets/``) or by folder path."""
    candidate = Path(name_or_path)
    if (candidate / MANIFEST).is_file():
        return read_dataset(candidate)
    if (DATASETS_DIR / str(name_or_path) / MANIFEST).is_file():
        return read_dataset(DATASETS_DIR / str(name_or_path))
    known = ", ".join(d.name for d in list_datasets())
    raise WorkbenchError(
        f"no dataset {str(name_or_path)!r}", f"use one of: {known}, or a folder with a {MANIFEST}"
    )


def read_dataset(folder: Path) -> Dataset:
    """Read and validate ``folder/dataset.toml``."""
    folder = Path(folder).resolve()
    manifest = folder / MANIFEST
    try:
        data = tomllib.loads(manifest.read_text())
    except OSError as exc:
        raise WorkbenchError(f"cannot read {manifest}: {exc.strerror}", "check the path") from None
    except tomllib.TOMLDecodeError as exc:
        raise WorkbenchError(f"{manifest}: invalid TOML: {exc}", "fix the syntax") from None
    where = str(manifest)
    _known(data, _TOP, where, "")
    name = _require(data, "name", str, where)
    if not _NAME.match(name):
        raise WorkbenchError(f"{where}: name {name!r} must be lower-case letters, digits, _",
                             "rename the dataset")
    services = [
        Service(_require(s, "name", str, where, f"services[{i}]"),
                _require(s, "schema", str, where, f"services[{i}]"))
        for i, s in enumerate(_list(data, "services", where))
        if _known(s, _SERVICE, where, f"services[{i}]") is None
    ]
    schemas = {s.schema for s in services}
    tables = {}
    for tname, spec in dict(data.get("tables", {})).items():
        field_name = f"tables.{tname!r}"
        _known(spec, _TABLE, where, field_name)
        if tname.count(".") != 1 or tname.split(".")[0] not in schemas:
            raise WorkbenchError(f"{where}: {field_name}: name must be schema.table with a "
                                 "service's schema", "name a schema listed under [[services]]")
        rows = _require(spec, "rows_per_scale", int, where, field_name)
        if rows < 0:
            raise WorkbenchError(f"{where}: {field_name}.rows_per_scale must be >= 0, got {rows}",
                                 "give the rows at scale 1")
        generate = spec.get("generate")
        path = _file(folder, generate, where, f"{field_name}.generate") if generate else None
        depends = _names(spec.get("depends_on", []), where, f"{field_name}.depends_on")
        tables[tname] = TableSpec(tname, rows, path, depends)
    _check_dependencies(tables, where)
    service_names = {s.name for s in services}
    scripts = []
    for i, entry in enumerate(_list(data, "workload", where)):
        at = f"workload[{i}]"
        _known(entry, _WORKLOAD, where, at)
        path = _file(folder, _require(entry, "script", str, where, at), where, f"{at}.script")
        weight = _require(entry, "weight", int, where, at)
        service = _require(entry, "service", str, where, at)
        if service not in service_names:
            raise WorkbenchError(f"{where}: {at}.service: unknown service {service!r}",
                                 f"use one of {sorted(service_names)}")
        if weight <= 0:
            raise WorkbenchError(f"{where}: {at}.weight must be > 0", "give a positive integer")
        scripts.append(WorkloadScript(path.stem, path, weight, service))
    omitted = []
    for i, entry in enumerate(_list(data, "omitted_indexes", where)):
        at = f"omitted_indexes[{i}]"
        _known(entry, _OMITTED, where, at)
        table = _require(entry, "table", str, where, at)
        if table not in tables:
            raise WorkbenchError(f"{where}: {at}.table: unknown table {table!r}",
                                 "name a table defined under [tables]")
        columns = _names(_require(entry, "columns", list, where, at), where, f"{at}.columns")
        if not columns:
            raise WorkbenchError(f"{where}: {at}.columns must be a list of column names",
                                 'e.g. columns = ["customer_id", "created_at"]')
        omitted.append(OmittedIndex(table, columns, str(entry.get("why", ""))))
    return Dataset(name, folder, str(data.get("description", "")), services, tables, scripts,
                   omitted, bool(data.get("pgbench_init", False)))


def _check_dependencies(tables: dict[str, TableSpec], where: str) -> None:
    for name, spec in tables.items():
        for dep in spec.depends_on:
            if dep not in tables:
                raise WorkbenchError(f"{where}: tables.{name!r}.depends_on: unknown table {dep!r}",
                                     "name a table defined under [tables]")
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 1:
            cycle = " -> ".join([*path[path.index(name):], name])
            raise WorkbenchError(f"{where}: tables.{name!r}.depends_on: cycle {cycle}",
                                 "remove one of the dependencies")
        if state.get(name) == 2:
            return
        state[name] = 1
        for dep in tables[name].depends_on:
            visit(dep, [*path, name])
        state[name] = 2

    for name in tables:
        visit(name, [])


def _known(data: Any, allowed: set[str], where: str, at: str) -> None:
    if not isinstance(data, dict):
        raise WorkbenchError(f"{where}: {at or 'top level'} must be a table", "see datasets/README.md")
    unknown = sorted(set(data) - allowed)
    if unknown:
        prefix = f"{at}." if at else ""
        raise WorkbenchError(f"{where}: unknown field {prefix}{unknown[0]}",
                             f"allowed here: {', '.join(sorted(allowed))}")
    return None


def _require(data: dict[str, Any], key: str, kind: type, where: str, at: str = "") -> Any:
    label = f"{at}.{key}" if at else key
    if key not in data:
        raise WorkbenchError(f"{where}: missing field {label}", "see datasets/README.md")
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        noun = {int: "an integer", str: "a string", list: "a list"}.get(kind, kind.__name__)
        raise WorkbenchError(f"{where}: {label} must be {noun}, got {value!r}",
                             "see datasets/README.md")
    return value


def _names(value: Any, where: str, at: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        noun = "column" if at.endswith("columns") else "table"
        raise WorkbenchError(f"{where}: {at} must be a list of {noun} names, got {value!r}",
                             f'e.g. {at.rsplit(".", 1)[-1]} = ["..."]')
    return tuple(value)


def _list(data: dict[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise WorkbenchError(f"{where}: {key} must be an array of tables", f"write [[{key}]]")
    return value


def _file(folder: Path, relative: Any, where: str, at: str) -> Path:
    if not isinstance(relative, str):
        raise WorkbenchError(f"{where}: {at} must be a path string", "see datasets/README.md")
    path = (folder / relative).resolve()
    if not path.is_file():
        raise WorkbenchError(f"{where}: {at}: file {relative} does not exist",
                             "add the file or fix the path")
    return path
