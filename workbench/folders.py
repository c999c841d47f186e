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
import tempfile
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
    check_writable(out, replace=replace)
    clean_stale_partials(out.parent)
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


def check_writable(out: Path, *, replace: bool = False) -> None:
    """Refuse, before any work is done, a result folder that exists or cannot be written.

    >>> check_writable(Path("/proc/runs/x"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    workbench.errors.WorkbenchError: cannot write results under /proc/runs: ...
    """
    out = Path(out)
    if out.exists() and not replace:
        raise WorkbenchError(f"{out} already exists", "choose another --out, or remove it first")
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        probe = parent / f".workbench-probe-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise WorkbenchError(f"cannot write results under {parent}: {exc.strerror or exc}",
                             "choose another --out, or fix the folder's permissions") from None


def clean_stale_partials(folder: Path) -> list[Path]:
    """Remove staging folders (``.NAME.partial-PID``) of processes that are gone; return them."""
    removed = []
    with contextlib.suppress(OSError):
        for path in Path(folder).glob(".*.partial-*"):
            pid = path.name.rsplit("-", 1)[-1]
            if pid.isdigit() and int(pid) != os.getpid() and not Path(f"/proc/{pid}").exists():
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    return removed


def private_tempdir(prefix: str) -> Path:
    """A temporary folder named for this process (``PREFIX<pid>-...``); those of dead processes
    are removed first, so a killed run leaves no log files behind for long."""
    base = Path(tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for path in base.glob(f"{prefix}*"):
            pid = path.name[len(prefix):].split("-", 1)[0]
            if pid.isdigit() and int(pid) != os.getpid() and not Path(f"/proc/{pid}").exists():
                shutil.rmtree(path, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-"))


def write_private(path: Path, text: str) -> None:
    """A file readable by its owner only from the moment it exists (never 0644, even briefly):
    password files, auth files."""
    path = Path(path)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def read_text(path: Path, what: str = "file") -> str:
    """A UTF-8 text file the user gave, with a one-line error when it is missing, unreadable,
    binary or in another encoding.

    >>> read_text(Path("/nonexistent.sql"), "SQL file")
    Traceback (most recent call last):
    workbench.errors.WorkbenchError: cannot read SQL file /nonexistent.sql: No such file or directory (check the path)
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise WorkbenchError(f"cannot read {what} {path}: {exc.strerror or exc}",
                             "check the path") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise WorkbenchError(f"{what} {path} is not UTF-8 text (binary, or another encoding)",
                             "save it as UTF-8") from None
    if "\x00" in text:
        raise WorkbenchError(f"{what} {path} is not UTF-8 text (it holds NUL bytes: binary)",
                             "pass a text file")
    return text


def read_json(path: Path) -> Any:
    """A JSON file of a result folder, with a one-line error when it is missing or damaged."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorkbenchError(f"{path} is missing", "the folder is incomplete or not a workbench "
                             "result folder") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not valid JSON"
        raise WorkbenchError(f"cannot read {path}: {reason}",
                             "the folder is damaged: produce it again") from None


def read_manifest(folder: Path, kind: str | None = None) -> dict[str, Any]:
    """The manifest of a result folder, with a clear error when it is not one."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise WorkbenchError(
            f"{folder} is not a workbench result folder (no {MANIFEST})",
            "pass a folder written by workbench run / experiment / explain --out",
        )
    manifest = read_json(path)
    if not isinstance(manifest, dict):
        raise WorkbenchError(f"{path} is not a manifest", "pass a folder written by the workbench")
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
