"""The CLI contract for server, doctor and errors, called in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.dsn import parse
from workbench.server import EmbeddedServer

PG15 = Path("/usr/lib/postgresql/15/bin")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_server_status_json(server_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "server", "status", "--json")
    status = json.loads(out)
    assert code == 0
    assert {"running", "dsn", "server_version", "data_dir"} <= status.keys()
    assert status["running"] is True and status["server_version"].startswith("18.")


def test_doctor_json_on_embedded_18(server_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "doctor", "--json")
    report = json.loads(out)
    assert code == 0
    assert report["server_version_num"] >= 180000
    assert report["extensions"]["pg_stat_statements"] is True
    assert report["extensions"]["auto_explain"] is True
    assert report["pgbench"]["version"].startswith("18")
    assert Path(report["pgbench"]["path"]).is_file()


def test_doctor_masks_the_password_of_a_dsn(server_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    password = EmbeddedServer().password_path.read_text().strip()
    dsn = f"postgresql://postgres:{password}@127.0.0.1:{parse(server_dsn)['port']}/postgres"
    for argv in (("--dsn", dsn, "doctor", "--json"), ("doctor", "--dsn", dsn)):
        code, out, err = run(capsys, *argv)
        assert code == 0
        assert password not in out + err
        assert "postgres:***@127.0.0.1" in out


def test_errors_are_one_line_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--dsn", "postgresql://u:pw@127.0.0.1:1/db", "doctor")
    assert code == 1 and out == ""
    assert err.startswith("workbench: error: cannot connect to 127.0.0.1:1/db")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["no-such-command"])
    assert exit_info.value.code == 2


def test_missing_pgbench_is_named(server_dsn: str, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_PGBENCH", "/nonexistent/pgbench")
    code, _, err = run(capsys, "doctor")
    assert code == 1
    assert "WORKBENCH_PGBENCH=/nonexistent/pgbench is not an executable file" in err


def test_bad_pg_bindir_option(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_PG_BINDIR", "")  # the CLI sets it; monkeypatch undoes that
    code, _, err = run(capsys, "--pg-bindir", str(tmp_path), "server", "status")
    assert code == 1
    assert f"WORKBENCH_PG_BINDIR={tmp_path} has no postgres binary" in err


def test_postgresql_15_with_hypopg(pg15_dsn: str, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_PG_BINDIR", str(PG15))
    code, out, _ = run(capsys, "doctor", "--json")
    report = json.loads(out)
    assert code == 0
    assert 150000 <= report["server_version_num"] < 160000
    assert report["extensions"]["pg_stat_statements"] is True
    assert report["pgbench"]["version"].startswith("15")
    hypopg_files = Path("/usr/share/postgresql/15/extension/hypopg.control").exists()
    assert report["extensions"]["hypopg"] is hypopg_files


def test_state_folder_is_found_above_like_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.config import workbench_home

    monkeypatch.delenv("WORKBENCH_HOME")
    below = tmp_path / "repo" / "notebooks"
    below.mkdir(parents=True)
    monkeypatch.chdir(below)
    assert workbench_home() == below / ".workbench"  # none above: created here
    (below / ".workbench").rmdir()
    (tmp_path / "repo" / ".workbench").mkdir()
    assert workbench_home() == tmp_path / "repo" / ".workbench"  # the repo's, from notebooks/
    monkeypatch.setenv("WORKBENCH_HOME", "elsewhere")
    assert workbench_home() == below / "elsewhere"  # an explicit one always wins
