"""The bad-input corpus (tests/data/bad_inputs.toml): every case is a command line a user could
type, the exit status it must end with, a fragment of the one-line message it must print, and
the state that must be intact afterwards. No case may end in a traceback.

Placeholders in argv: {files} (a folder of prepared bad files, see ``bad_files``), {tmp} (a fresh
empty folder per case), {db} (a complete small shop database), {half} (a database whose load
never finished), {dsn} (the server's DSN).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import pytest

from workbench.cli import main
from workbench.connect import connect
from workbench.copies import COPY_PREFIX

CORPUS = Path(__file__).parent / "data" / "bad_inputs.toml"
CASES: list[dict[str, Any]] = tomllib.loads(CORPUS.read_text())["case"]
DB = "wbbad_shop"
HALF = "wbbad_half"


@pytest.fixture(scope="module")
def bad_db(server_dsn: str) -> str:
    """A small complete shop database, and a database whose load was left "loading"."""
    from workbench.databases import create_database, drop_database
    from workbench.loader import load

    load("shop", scale=0.01, database=DB, dsn=server_dsn, replace=True, progress=False)
    create_database(HALF, server_dsn, replace=True, dataset="shop", scale=0.01, seed=42,
                    load_status="loading")
    yield server_dsn
    drop_database(DB, server_dsn)
    drop_database(HALF, server_dsn)


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bad")
    (folder / "latin1.sql").write_bytes("SELECT 'caf\xe9';\n".encode("latin-1"))
    (folder / "binary.sql").write_bytes(bytes(range(256)) * 4)
    (folder / "empty.sql").write_text("")
    (folder / "comments.sql").write_text("-- nothing but a comment\n")
    (folder / "corrupt.json").write_text('{"statements": [')
    (folder / "notplans.json").write_text('{"hello": "world"}')
    (folder / "list.json").write_text("[1, 2, 3]")
    (folder / "corrupt.ipynb").write_text("{not a notebook")
    (folder / "plain.txt").write_text("just text\n")
    (folder / "a_file").write_text("a regular file used as a folder\n")
    (folder / "unnamed_index.sql").write_text("CREATE INDEX ON orders.orders (created_at);\n")
    (folder / "not_index.sql").write_text("SELECT 1;\n")
    (folder / "bad_column.sql").write_text("CREATE INDEX bc_idx ON orders.orders (nope);\n")
    (folder / "syntax.sql").write_text("SELEC 1;\n")
    (folder / "meta_error.sql").write_text("\\set x random(5, 1)\nSELECT :x;\n")
    (folder / "unknown_var.sql").write_text("SELECT :nope;\n")
    run = folder / "run_corrupt"
    run.mkdir()
    (run / "manifest.json").write_text('{"kind": "run", "status": "complete"}')
    (run / "summary.json").write_text("{}")
    (run / "transactions.parquet").write_bytes(b"PAR1 this is not parquet")
    half_manifest = folder / "manifest_corrupt"
    half_manifest.mkdir()
    (half_manifest / "manifest.json").write_text("{broken")
    wrong_kind = folder / "wrong_kind"
    wrong_kind.mkdir()
    (wrong_kind / "manifest.json").write_text('{"kind": "plans", "status": "complete"}')
    exp = folder / "exp_no_comparison"
    exp.mkdir()
    (exp / "manifest.json").write_text('{"kind": "experiment", "status": "complete"}')
    migrations = folder / "migrations_dup"
    migrations.mkdir()
    (migrations / "V1__a.sql").write_text("CREATE TABLE a (id int);\n")
    (migrations / "V1__b.sql").write_text("CREATE TABLE b (id int);\n")
    latin_migrations = folder / "migrations_latin1"
    latin_migrations.mkdir()
    (latin_migrations / "V1__a.sql").write_bytes("COMMENT ON TABLE x IS 'caf\xe9';\n"
                                                 .encode("latin-1"))
    empty_migrations = folder / "migrations_empty"
    empty_migrations.mkdir()
    dataset = folder / "badset"
    dataset.mkdir()
    (dataset / "dataset.toml").write_text("name = \"badset\"\nthis is not toml\n")
    sqlset = folder / "sqlset"
    (sqlset / "migrations").mkdir(parents=True)
    (sqlset / "generate").mkdir()
    (sqlset / "dataset.toml").write_text(
        'name = "sqlset"\n[[services]]\nname = "s"\nschema = "s"\n'
        '[tables."s.t"]\nrows_per_scale = 10\ngenerate = "generate/s.t.sql"\n')
    (sqlset / "migrations" / "V1__init.sql").write_text("CREATE SCHEMA s;\nCREATE TABLE s.t (id int;\n")
    (sqlset / "generate" / "s.t.sql").write_text("INSERT INTO s.t SELECT generate_series(1, :rows);\n")
    return folder


def _argv(case: dict[str, Any], files: Path, tmp: Path, dsn: str) -> list[str]:
    return [str(a).format(files=files, tmp=tmp, db=DB, half=HALF, dsn=dsn) for a in case["argv"]]


def _intact(what: str, dsn: str, tmp: Path) -> None:
    if what == "db":
        with connect(dsn, database=DB) as conn:
            status = conn.execute("SELECT value FROM workbench.meta WHERE key = 'load_status'"
                                  ).fetchone()[0]
            orders = conn.execute("SELECT count(*) FROM orders.orders").fetchone()[0]
        assert status == "complete" and orders == 3000, "the complete database was changed"
    elif what == "half":
        with connect(dsn, database=HALF) as conn:
            status = conn.execute("SELECT value FROM workbench.meta WHERE key = 'load_status'"
                                  ).fetchone()[0]
        assert status == "loading"
    elif what == "no_copies":
        with connect(dsn, database="postgres") as conn:
            names = [r[0] for r in conn.execute("SELECT datname FROM pg_database")]
        assert not [n for n in names if n.startswith(COPY_PREFIX)], names
    elif what == "tmp_empty":
        assert list(tmp.iterdir()) == [], "nothing may be written for a refused command"
    else:
        raise AssertionError(f"unknown state check {what!r}")


def test_corpus_is_large_and_covers_every_command() -> None:
    from workbench.cli import build_parser

    assert len(CASES) >= 150
    covered = {c["argv"][0] for c in CASES}
    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    assert commands <= covered, f"no bad-input case for {sorted(commands - covered)}"


@pytest.mark.parametrize("case", CASES, ids=[c.get("id") or " ".join(c["argv"])[:60]
                                             for c in CASES])
def test_bad_input(case: dict[str, Any], bad_db: str, bad_files: Path, tmp_path: Path,
                   capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("WORKBENCH_HOME", "WORKBENCH_PG_BINDIR"):  # --home / --pg-bindir set them
        monkeypatch.setenv(variable, os.environ.get(variable, ""))
        if not os.environ[variable]:
            monkeypatch.delenv(variable)
    tmp = tmp_path / "out"
    tmp.mkdir()
    argv = _argv(case, bad_files, tmp, bad_db)
    if case.get("dsn", True) and "--dsn" not in argv:
        argv += ["--dsn", bad_db]
    try:
        code = main(argv)
    except SystemExit as exit_info:  # argparse's usage errors
        code = int(exit_info.code or 0)
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err, err
    assert code == case["exit"], f"exit {code}, stderr: {err}"
    assert case["says"].lower() in err.lower(), err
    for what in case.get("intact", []):
        _intact(what, bad_db, tmp)
