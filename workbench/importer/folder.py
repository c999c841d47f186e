"""Writing an imported dataset folder, atomically: everything goes to a staging folder beside the
target, is read back as a dataset (so a folder that exists is one ``workbench load`` accepts),
and only then is renamed into place. A failure leaves no folder, or the old one untouched.

>>> write_folder(Path("datasets/prod"), files, replace=False)     # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

from workbench.datasets import MANIFEST, read_dataset
from workbench.errors import WorkbenchError


def check_target(out: Path, replace: bool) -> None:
    """Refuse an existing folder unless replacing, and never replace what is not a dataset."""
    if not out.exists():
        if not out.parent.is_dir():
            raise WorkbenchError(f"{out.parent} does not exist", "create it, or choose another --out")
        return
    if not replace:
        raise WorkbenchError(f"{out} already exists",
                             "pass --replace to overwrite it, or choose another --out")
    if not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST).is_file()):
        raise WorkbenchError(f"{out} exists and is not a dataset folder",
                             "refusing to replace it: choose another --out")


def write_folder(out: Path, files: dict[str, str], replace: bool) -> Path:
    """Write ``files`` (relative path -> text) as the folder ``out``; return it."""
    out = Path(out)
    check_target(out, replace)
    staging = out.parent / f".{out.name}.importing-{uuid.uuid4().hex[:8]}"
    old = out.parent / f".{out.name}.replaced-{uuid.uuid4().hex[:8]}"
    try:
        for relative, text in files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        read_dataset(staging)  # a folder presented as a dataset is one the loader reads
        if out.exists():
            os.rename(out, old)
        os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if old.exists() and not out.exists():
            os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return out


def toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's).

    >>> toml_string('a "b"')
    '"a \\\\"b\\\\""'
    """
    return json.dumps(text, ensure_ascii=False)
