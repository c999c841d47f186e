"""Identical starting states: a dataset loaded once into a pristine template database, and a fresh
file copy of it for every measured run.

A template (``wb_tpl_<dataset>_s<scale>_r<seed>``) is loaded by the loader like any dataset and
then never connected to by a workload; it records a fingerprint of the dataset's files, so a
changed dataset is reloaded rather than measured stale. A copy (``wb_copy_<pid>_<n>``) is made with
``CREATE DATABASE ... TEMPLATE ... STRATEGY FILE_COPY`` (a fraction of a second for shop at
scale 1, against seconds for a reload): the same rows, pages, visibility map and planner
statistics as the template, byte for byte. Copies are dropped when their run is done; each carries
a comment naming the process that made it, so the copies of a killed process are found and dropped
by the next command (:func:`clean_leftovers`), never mistaken for a dataset.

>>> tpl = ensure_template(get_dataset("shop"), scale=0.2, seed=42)   # doctest: +SKIP
>>> with fresh_copy(tpl) as copy:                                      # doctest: +SKIP
...     run_workload(on=copy, duration=10)
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from workbench.connect import connect
from workbench.databases import MAINTENANCE_DB, drop_forced, exists, read_marker, set_meta
from workbench.datasets import Dataset
from workbench.errors import WorkbenchError
from workbench.folders import now_iso
from workbench.target import Target

TEMPLATE_PREFIX = "wb_tpl_"
COPY_PREFIX = "wb_copy_"
_counter = itertools.count(1)


def template_name(dataset: str, scale: float, seed: int) -> str:
    """The template database of a dataset at a scale and seed.

    >>> template_name("shop", 0.2, 42)
    'wb_tpl_shop_s0p2_r42'
    """
    scale_text = f"{scale:g}".replace(".", "p").replace("-", "m").replace("+", "")
    name = f"{TEMPLATE_PREFIX}{dataset}_s{scale_text}_r{seed}"
    if len(name.encode()) > 63:
        digest = hashlib.sha1(name.encode()).hexdigest()[:10]
        name = f"{TEMPLATE_PREFIX}{dataset[:30]}_{digest}"
    return name


def fingerprint(dataset: Dataset) -> str:
    """A hash of what the loader reads: the manifest, the top-level migrations, the generators.

    >>> len(fingerprint(get_dataset("shop")))  # doctest: +SKIP
    16
    """
    digest = hashlib.sha256()
    files = [dataset.path / "dataset.toml", *sorted(dataset.migrations.glob("*.sql")),
             *sorted(p for p in (dataset.path / "generate").glob("*") if p.is_file())]
    for path in files:
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def ensure_template(dataset: Dataset, *, scale: float, seed: int, dsn: str | None = None,
                    progress: bool = True) -> Target:
    """The template database of ``dataset`` at ``scale`` and ``seed``, loaded when it is missing,
    incomplete (a killed load) or stale (the dataset's files changed). Serialised across processes
    by an advisory lock, so two experiments never load the same template at once."""
    from workbench.loader import check_scale_seed, load

    scale, seed = check_scale_seed(scale, seed)
    if dataset.pgbench_init:
        scale = float(max(1, round(scale)))
    name = template_name(dataset.name, scale, seed)
    wanted = fingerprint(dataset)
    with _lock(dsn, name, shared=False):
        if exists(name, dsn):
            with connect(dsn, database=name) as conn:
                marker = read_marker(conn) or {}
            if (marker.get("load_status") == "complete" and marker.get("fingerprint") == wanted
                    and marker.get("role") == "template" and marker.get("seed") == seed
                    and float(marker.get("scale", -1)) == scale):
                return Target(_dsn(dsn, name), dataset)
        result = load(dataset.path, scale=scale, seed=seed, database=name, dsn=dsn, replace=True,
                      progress=progress)
        with connect(result.dsn) as conn:
            set_meta(conn, role="template", fingerprint=wanted)
    return Target(result.dsn, dataset)


@contextlib.contextmanager
def fresh_copy(template: Target, *, keep: bool = False) -> Iterator[Target]:
    """A new copy of the template for one measured run; dropped afterwards unless ``keep``.

    >>> with fresh_copy(tpl) as copy:   # doctest: +SKIP
    ...     copy.database
    'wb_copy_4242_1'
    """
    copy = make_copy(template)
    try:
        yield copy
    except BaseException:
        # Already failing (the server may be gone): a copy that cannot be dropped now is a
        # leftover of this process, dropped by the next command once this process has ended.
        with contextlib.suppress(Exception):
            drop_copy(copy)
        raise
    if not keep:
        drop_copy(copy)


def make_copy(template: Target) -> Target:
    """Copy a template database file by file (``STRATEGY FILE_COPY`` where the server has it)."""
    name = f"{COPY_PREFIX}{os.getpid()}_{next(_counter)}"
    source = template.database
    note = json.dumps({"workbench": "copy", "template": source, "pid": os.getpid(),
                       "host": socket.gethostname(), "created_at": now_iso()})
    made = False  # whether the copy may exist: only then is it dropped on the way out
    try:
        with _lock(template.dsn, source, shared=True) as conn:
            try:
                _create(conn, name, source)
            except KeyboardInterrupt:
                made = True  # the cancel may have arrived after the server made the copy
                raise
            made = True
            conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(note)))
        copy = template.on_database(name)
        with connect(copy.dsn) as conn:
            set_meta(conn, role="copy", copy_of=source, copied_at=now_iso())
    except BaseException:
        # A Ctrl-C or an error once the copy exists must not leave it behind.
        if made:
            with contextlib.suppress(Exception):
                drop_forced(name, template.dsn)
        raise
    return copy


def drop_copy(copy: Target) -> None:
    """Drop a copy (its sessions are terminated: nothing else should be using it; a Ctrl-C
    during the drop does not stop it, see :func:`~workbench.databases.drop_forced`)."""
    drop_forced(copy.database, copy.dsn)


def _create(conn: psycopg.Connection[Any], name: str, source: str) -> None:
    strategy = sql.SQL(" STRATEGY FILE_COPY") if conn.info.server_version >= 150000 \
        else sql.SQL("")
    statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}{}").format(
        sql.Identifier(name), sql.Identifier(source), strategy)
    for attempt in range(20):
        try:
            conn.execute(statement)
            return
        except psycopg.errors.ObjectInUse:
            # Someone is connected to the template (a notebook, psql): wait for them briefly.
            if attempt == 19:
                raise WorkbenchError(
                    f"cannot copy {source}: another session is connected to it",
                    f"close the sessions on {source} (see pg_stat_activity) and try again",
                ) from None
            time.sleep(0.25)


def keep_copy(copy: Target, name: str) -> str:
    """Keep a copy as a database of its own (renamed, no longer a leftover); return its name."""
    from workbench.databases import check_name

    check_name(name)
    with connect(copy.dsn, database=MAINTENANCE_DB) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
            sql.Identifier(copy.database), sql.Identifier(name)))
        conn.execute(sql.SQL("COMMENT ON DATABASE {} IS NULL").format(sql.Identifier(name)))
    with connect(copy.on_database(name).dsn) as conn:
        set_meta(conn, role="kept", kept_at=now_iso())
    return name


def leftover_copies(dsn: str | None = None) -> list[dict[str, Any]]:
    """Copies on the server whose making process is gone (on this host) or unknown.

    Each item: ``name``, ``template``, ``pid``, ``host``, ``created_at``, ``orphaned`` (the
    process that made it is no longer alive on this host, so it is safe to drop).
    """
    with connect(dsn, database=MAINTENANCE_DB) as conn:
        rows = conn.execute(
            "SELECT d.datname, shobj_description(d.oid, 'pg_database') FROM pg_database d "
            "WHERE d.datname LIKE %s ORDER BY 1", [COPY_PREFIX.replace("_", r"\_") + "%"]
        ).fetchall()
    found = []
    here = socket.gethostname()
    for name, comment in rows:
        try:
            note = json.loads(comment or "{}")
        except ValueError:
            note = {}
        if note.get("workbench") != "copy":
            continue  # not one of ours, whatever its name says
        pid = int(note.get("pid") or 0)
        orphaned = note.get("host") == here and pid != os.getpid() and not _alive(pid)
        found.append({"name": name, "template": note.get("template"), "pid": pid,
                      "host": note.get("host"), "created_at": note.get("created_at"),
                      "orphaned": orphaned})
    return found


def clean_leftovers(dsn: str | None = None) -> list[str]:
    """Drop the copies left by processes that died on this host; return their names."""
    dropped = []
    for item in leftover_copies(dsn):
        if item["orphaned"]:
            drop_forced(item["name"], dsn)
            dropped.append(item["name"])
    return dropped


def templates(dsn: str | None = None) -> list[str]:
    """The template databases on the server."""
    with connect(dsn, database=MAINTENANCE_DB) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY 1",
                            [TEMPLATE_PREFIX.replace("_", r"\_") + "%"]).fetchall()
    return [r[0] for r in rows]


@contextlib.contextmanager
def _lock(dsn: str | None, name: str, *, shared: bool) -> Iterator[psycopg.Connection[Any]]:
    """An advisory lock (in the maintenance database) on one template's name."""
    key = int.from_bytes(hashlib.sha1(f"workbench-template:{name}".encode()).digest()[:8],
                         "big", signed=True)
    kind = "pg_advisory_lock_shared" if shared else "pg_advisory_lock"
    with connect(dsn, database=MAINTENANCE_DB) as conn:
        conn.execute(sql.SQL("SELECT {}(%s)").format(sql.Identifier(kind)), [key])
        try:
            yield conn
        finally:
            unlock = "pg_advisory_unlock_shared" if shared else "pg_advisory_unlock"
            with contextlib.suppress(psycopg.Error):
                conn.execute(sql.SQL("SELECT {}(%s)").format(sql.Identifier(unlock)), [key])


def _dsn(dsn: str | None, database: str) -> str:
    from workbench.connect import resolve_dsn

    return resolve_dsn(dsn, database)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    return Path(f"/proc/{pid}").exists()
