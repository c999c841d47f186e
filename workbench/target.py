"""Where a command works, resolved once at the boundary (CLI or notebook call) and handed down.

A :class:`Target` is a database on a server plus the dataset it holds (when known) and how the
workload's clients reach it: ``dsn`` is the direct connection the workbench itself uses (statistics,
copies, DDL); ``client_dsn`` is what pgbench connects to (the same, or a pooler in front of it).
Lower layers take a Target and never re-derive a database from a dataset name again.

>>> t = resolve_target("shop", dsn="host=/tmp port=5432 user=u dbname=postgres", start=False)
>>> t.database, t.dataset.name, t.route
('shop', 'shop', 'direct')
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict

from workbench.connect import dataset_database, resolve_dsn
from workbench.datasets import Dataset, get_dataset
from workbench.dsn import describe, with_database


@dataclass(frozen=True)
class Target:
    """A resolved place to work: direct DSN, the workload clients' DSN, dataset, route."""

    dsn: str
    dataset: Dataset | None = None
    client_dsn: str | None = None
    route: str = "direct"
    pooler_admin: str | None = None  # a managed PgBouncer's admin console, for its pool metrics

    @property
    def database(self) -> str:
        """The database name."""
        return str(conninfo_to_dict(self.dsn).get("dbname") or "postgres")

    @property
    def clients(self) -> str:
        """The DSN the workload's clients use (a pooler's, or the direct one)."""
        return self.client_dsn or self.dsn

    def on_database(self, name: str) -> Target:
        """The same server, route and dataset, another database (e.g. a fresh copy)."""
        client = with_database(self.client_dsn, name) if self.client_dsn else None
        return replace(self, dsn=with_database(self.dsn, name), client_dsn=client)

    def describe(self) -> str:
        """``host:port/db`` (no credentials), with the route when it is not direct."""
        where = describe(self.dsn)
        return where if self.route == "direct" else f"{where} via {self.route}"


def resolve_target(
    dataset: str | Path | Dataset | None = None, *, dsn: str | None = None,
    database: str | None = None, start: bool = True,
    pg_bindir: str | os.PathLike[str] | None = None,
) -> Target:
    """The Target for a dataset (name, folder or object) on a server: ``--database`` if given,
    else the DSN's own database unless it is ``postgres``, else the dataset's name."""
    ds = dataset if isinstance(dataset, Dataset) or dataset is None else get_dataset(dataset)
    db = dataset_database(dsn, database, ds.name if ds else None)
    return Target(resolve_dsn(dsn, db, start=start, pg_bindir=pg_bindir), ds)
