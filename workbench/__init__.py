"""workbench: a PostgreSQL performance workbench.

The public API, imported lazily so ``import workbench`` stays quick::

    import workbench
    workbench.connect()                      # psycopg connection (embedded server by default)
    workbench.load("shop", scale=0.2)        # a dataset
    run = workbench.run("shop", clients=8, duration=20)
    workbench.load_run(run.out)              # the same objects, offline
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# name -> module that defines it
_EXPORTS = {
    "WorkbenchError": "workbench.errors",
    "connect": "workbench.connect",
    "resolve_dsn": "workbench.connect",
    "mask_dsn": "workbench.dsn",
    "EmbeddedServer": "workbench.server",
    "probe": "workbench.doctor",
    "create_database": "workbench.databases",
    "drop_database": "workbench.databases",
    "build_index": "workbench.indexes",
    "drop_index": "workbench.indexes",
    "snapshot": "workbench.stats",
    "reset_statistics": "workbench.stats",
    "WaitSampler": "workbench.stats",
    "read_manifest": "workbench.folders",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
