"""workbench: a PostgreSQL performance workbench.

The public API, imported lazily so ``import workbench`` stays quick::

    import workbench
    workbench.connect()                      # psycopg connection (embedded server by default)
    workbench.load("shop", scale=0.2)        # a dataset
    run = workbench.run("shop", clients=8, duration=20)
    workbench.load_run(run.out)              # the same objects, offline
    workbench.advise("shop", budget_mb=50)   # index advice
    workbench.experiment("shop")             # before/after, saved in experiments/

In a notebook, ``%load_ext workbench`` adds ``%%sql``, ``%%explain`` and ``%workbench``.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# The connect() function shares its name with its module; bind it eagerly so that importing the
# module elsewhere cannot shadow the function on the package.
from workbench.connect import connect as connect  # noqa: E402

# name -> module that defines it
_EXPORTS: dict[str, str | tuple[str, str]] = {
    "WorkbenchError": "workbench.errors",
    "resolve_dsn": "workbench.connect",
    "mask_dsn": "workbench.dsn",
    "EmbeddedServer": "workbench.server",
    "probe": "workbench.doctor",
    "create_database": "workbench.databases",
    "drop_database": "workbench.databases",
    "build_index": "workbench.indexes",
    "drop_index": "workbench.indexes",
    "snapshot": "workbench.stats",
    "WaitSampler": "workbench.stats",
    "read_manifest": "workbench.folders",
    "list_datasets": "workbench.datasets",
    "get_dataset": "workbench.datasets",
    "load": "workbench.loader",
    "run": ("workbench.runs", "run_workload"),
    "run_workload": "workbench.runs",
    "Target": "workbench.target",
    "resolve_target": "workbench.target",
    "load_run": "workbench.runs",
    "Timeline": "workbench.timeline",
    "top_statements": "workbench.timeline",
    "explain_workload": "workbench.plans",
    "parse_plan": "workbench.plans",
    "diff_plans": "workbench.plans",
    "load_plans": "workbench.plans",
    "advise": "workbench.advisor.advise",
    "experiment": "workbench.experiments",
    "load_experiment": "workbench.experiments",
    "render_report": "workbench.reports",
    "catalog": "workbench.results",
    "compare_results": "workbench.results",
    "sweep": "workbench.sweeps",
    "load_sweep": "workbench.sweeps",
    "lint_migrations": ("workbench.migrations.lint", "lint"),
    "apply_migrations": ("workbench.migrations.history", "apply"),
    "undo_migrations": ("workbench.migrations.history", "undo"),
    "rehearse": "workbench.migrations.rehearse",
    "impact": "workbench.migrations.impact",
    "import_dataset": "workbench.importer",
    "fidelity": ("workbench.importer.fidelity", "fidelity"),
}


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext workbench``: the %%sql, %%explain and %workbench magics (workbench.magics)."""
    from workbench.magics import load_ipython_extension as load

    load(ipython)


def __getattr__(name: str) -> Any:
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    module, attribute = target if isinstance(target, tuple) else (target, name)
    return getattr(importlib.import_module(module), attribute)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
