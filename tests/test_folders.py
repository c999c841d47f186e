"""Result folders: atomic, manifest last, scrubbed of secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.errors import WorkbenchError
from workbench.folders import read_manifest, result_folder, write_json, write_text


def test_folder_appears_only_when_complete(tmp_path: Path) -> None:
    out = tmp_path / "runs" / "r1"
    with result_folder(out, kind="run") as folder:
        write_text(folder.path / "stderr.txt", "hello")
        assert not out.exists()
        folder.manifest["status"] = "complete"
    manifest = read_manifest(out, kind="run")
    assert manifest["status"] == "complete"
    assert manifest["machine"]["cpu_count"] >= 1
    assert (out / "stderr.txt").read_text() == "hello"
    assert [p.name for p in out.parent.iterdir()] == ["r1"]


def test_failure_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "r2"
    with pytest.raises(RuntimeError), result_folder(out, kind="run") as folder:
        write_text(folder.path / "half.txt", "half")
        raise RuntimeError("interrupted")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_existing_folder_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "r3").mkdir()
    with pytest.raises(WorkbenchError, match="already exists"), result_folder(tmp_path / "r3", "run"):
        pass


def test_secrets_are_scrubbed(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    write_json(path, {"dsn": "postgresql://u:Sup3rSecret@h:5432/db", "kv": "host=h password=pw123"})
    text = path.read_text()
    assert "Sup3rSecret" not in text and "pw123" not in text
    assert json.loads(text)["dsn"] == "postgresql://u:***@h:5432/db"


def test_not_a_result_folder(tmp_path: Path) -> None:
    with pytest.raises(WorkbenchError, match="not a workbench result folder"):
        read_manifest(tmp_path)
    with result_folder(tmp_path / "e", kind="experiment"):
        pass
    with pytest.raises(WorkbenchError, match="holds a 'experiment', not a 'run'"):
        read_manifest(tmp_path / "e", kind="run")
