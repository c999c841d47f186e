"""Self-describing result folders (runs, experiments, plan captures, rehearsals).

A folder is written in a staging folder beside its final place and renamed into place only when
everything is in it; ``manifest.json`` is written last and says ``"status"``. Every text written
through here is scrubbed of DSN passwords, so folders can be shared.

>>> with result_folder(Path("runs/shop-20261124-101500"), kind="run") as folder:   # doctest: +SKIP
...     write_json(folder.path / "summary.json", summary)
...     folder.manifest.update(dataset="shop", status="complete")
>>> read_manifest(Path("runs/shop-20261124-101500"))["status"]                      # doctest: +SKIP
'complete'
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench import __version__
from workbench.dsn import redact
from workbench.errors import WorkbenchError

MANIFEST = "manifest.json"


@dataclass
class StagedFolder:
    """A folder being written; ``manifest`` is saved last by :func:`result_folder`."""

    path: Path
    manifest: dict[str, Any] = field(default_factory=dict)


@contextlib.contextmanager
def result_folder(out: Path, kind: str, *, replace: bool = False) -> Iterator[StagedFolder]:
    """Write a result folder atomically: staged, manifest last, renamed into place.

    On an exception the staged folder is removed and nothing appears at ``out``.
    """
    out = Path(out)
    if out.exists() and not replace:
        raise WorkbenchError(f"{out} already exists", "choose another --out, or remove it first")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    folder = StagedFolder(staging, {"kind": kind, "status": "incomplete", **environment()})
    try:
        yield folder
        folder.manifest.setdefault("finished_at", now_iso())
        write_json(staging / MANIFEST, folder.manifest)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    folder.path = out


def read_manifest(folder: Path, kind: str | None = None) -> dict[str, Any]:
    """The manifest of a result folder, with a clear error when it is not one."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise WorkbenchError(
            f"{folder} is not a workbench result folder (no {MANIFEST})",
            "pass a folder written by workbench run / experiment / explain --out",
        )
    manifest = json.loads(path.read_text())
    if kind and manifest.get("kind") != kind:
        raise WorkbenchError(
            f"{folder} holds a {manifest.get('kind')!r}, not a {kind!r}",
            f"pass a folder written by workbench {kind}",
        )
    return dict(manifest)


def write_json(path: Path, payload: Any) -> None:
    """JSON with secrets scrubbed, written via a temporary file and a rename."""
    write_text(path, json.dumps(payload, indent=2, default=_json_default) + "\n")


def write_text(path: Path, text: str) -> None:
    """Text with secrets scrubbed, written via a temporary file and a rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(redact(text))
    tmp.replace(path)


def environment() -> dict[str, Any]:
    """Where a result was measured: workbench, Python, OS, CPU and memory of this machine."""
    return {
        "workbench_version": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": {
            "cpu_count": os.cpu_count(),
            "cpu_model": _cpu_model(),
            "memory_bytes": _memory_bytes(),
            "hostname": platform.node(),
        },
        "argv": [redact(a) for a in sys.argv[:1]],
        "created_at": now_iso(),
    }


def now_iso() -> str:
    """UTC now, ISO 8601 to the second."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def timestamp() -> str:
    """UTC now as a folder-name stamp, e.g. 20261124-101500."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def _memory_bytes() -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return None


def _json_default(value: Any) -> Any:
    if hasattr(value, "to_json"):
        return value.to_json()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)
