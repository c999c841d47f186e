"""Flyway-exact history: apply, info, validate, repair, undo and baseline on histories written
exactly as Flyway writes them (tests/data/flyway_history/*.sql), Flyway's advisory lock, mixed
files, and no INVALID index left behind by a failed concurrent build."""

from __future__ import annotations

import io
import json
import re
import shutil
import threading
import zlib
from pathlib import Path
from typing import Any

import psycopg
import pytest

from workbench.connect import connect
from workbench.errors import WorkbenchError
from workbench.migrations.history import (
    applied_versions,
    apply,
    baseline,
    history_rows,
    info,
    repair,
    undo,
    validate,
)
from workbench.migrations.runner import lock_key

DATA = Path(__file__).resolve().parent / "data" / "flyway_history"
FILES = DATA / "migrations"


def load_fixture(dsn: str, name: str) -> None:
    with connect(dsn) as conn:
        conn.execute((DATA / name).read_text())  # type: ignore[arg-type]


def folder_with(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(FILES / name, folder / name)
    return folder


def states(dsn: str, folder: Path, **kwargs: Any) -> list[tuple[str | None, str, str]]:
    return [(r["version"], r["type"], r["state"]) for r in info(dsn, folder, **kwargs)]


def rows(dsn: str, schema: str = "public") -> list[tuple[Any, ...]]:
    with connect(dsn) as conn:
        return [(r["installed_rank"], r["version"], r["description"], r["type"], r["script"],
                 r["checksum"], r["success"]) for r in history_rows(conn, schema)]


def columns(dsn: str, table: str = "accounts") -> list[str]:
    with connect(dsn) as conn:
        return [r[0] for r in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum", [table])]


def test_fixture_checksums_are_flyways_crc_of_the_files() -> None:
    """Each fixture row's checksum is CRC32 over the file's lines as Java's BufferedReader
    splits them (universal newlines: CRLF, CR, LF), BOM removed: computed here independently."""
    found = 0
    for fixture in DATA.glob("*.sql"):
        for script, checksum in re.findall(r"'(\w+\.sql)', (-?\d+),", fixture.read_text()):
            found += 1
            text = (FILES / script).read_bytes().decode("utf-8").removeprefix("\ufeff")
            crc = 0
            for part in io.StringIO(text, newline=None):
                crc = zlib.crc32(part.rstrip("\n").encode(), crc)
            assert (crc - (1 << 32) if crc >= 1 << 31 else crc) == int(checksum), script
    assert found >= 15


def test_baseline_rows_are_neither_applied_nor_outdated(fresh_db: str, tmp_path: Path) -> None:
    load_fixture(fresh_db, "baselined_3.sql")
    folder = folder_with(tmp_path, "V1__create_accounts.sql", "V2__add_email.sql",
                         "V3__add_status.sql", "V4__email_index.sql")
    assert states(fresh_db, folder) == [("1", "SQL", "Below Baseline"),
                                        ("2", "SQL", "Below Baseline"),
                                        ("3", "BASELINE", "Baseline"), ("4", "SQL", "Pending")]
    done = apply(fresh_db, folder)
    assert [d.version for d in done] == ["4"]
    validate(fresh_db, folder)
    with connect(fresh_db) as conn:
        assert set(applied_versions(history_rows(conn))) == {(3,), (4,)}


def test_baseline_command_writes_flyways_row_and_only_on_an_empty_history(
        fresh_db: str, tmp_path: Path) -> None:
    with connect(fresh_db) as conn:
        conn.execute("CREATE TABLE accounts (id bigint, name text, email text)")
    baseline(fresh_db, version="2")
    assert rows(fresh_db) == [(1, "2", "<< Flyway Baseline >>", "BASELINE",
                               "<< Flyway Baseline >>", None, True)]
    with connect(fresh_db) as conn:
        who = conn.execute("SELECT installed_by = current_user, execution_time FROM "
                           "flyway_schema_history").fetchone()
    assert who == (True, 0)
    with pytest.raises(WorkbenchError, match="already holds 1 row"):
        baseline(fresh_db, version="3")
    folder = folder_with(tmp_path, "V1__create_accounts.sql", "V2__add_email.sql",
                         "V3__add_status.sql")
    assert [d.version for d in apply(fresh_db, folder)] == ["3"]  # V1 would fail: it exists
    assert "status" in columns(fresh_db)


def test_delete_rows_mark_versions_deleted(fresh_db: str, tmp_path: Path) -> None:
    load_fixture(fresh_db, "deleted_3.sql")
    folder = folder_with(tmp_path, "V1__create_accounts.sql", "V2__add_email.sql")
    assert states(fresh_db, folder) == [("1", "SQL", "Success"), ("2", "SQL", "Success"),
                                        ("3", "SQL", "Deleted"), ("3", "DELETE", "Success")]
    validate(fresh_db, folder)  # a deleted version is no missing one
    with connect(fresh_db) as conn:
        assert set(applied_versions(history_rows(conn))) == {(1,), (2,)}
    folder = folder_with(tmp_path, "V3__add_status.sql")  # the file is back: it runs again
    assert states(fresh_db, folder)[-1] == ("3", "SQL", "Pending")
    assert [d.version for d in apply(fresh_db, folder)] == ["3"]
    assert "status" in columns(fresh_db)


def test_undo_rows_mark_versions_undone(fresh_db: str, tmp_path: Path) -> None:
    load_fixture(fresh_db, "undone_3.sql")
    folder = folder_with(tmp_path, "V1__create_accounts.sql", "V2__add_email.sql",
                         "V3__add_status.sql", "U3__add_status.sql")
    assert states(fresh_db, folder) == [
        ("1", "SQL", "Success"), ("2", "SQL", "Success"), ("3", "SQL", "Undone"),
        ("3", "UNDO_SQL", "Success"), ("3", "SQL", "Pending")]
    with pytest.raises(WorkbenchError, match="not applied to database: 3"):
        validate(fresh_db, folder)
    assert [d.version for d in apply(fresh_db, folder)] == ["3"]
    assert states(fresh_db, folder)[-1] == ("3", "SQL", "Success")


def test_missing_is_fatal_future_is_tolerated_and_repair_marks_deleted(
        fresh_db: str, tmp_path: Path) -> None:
    load_fixture(fresh_db, "applied_1_2.sql")
    future = folder_with(tmp_path, "V1__create_accounts.sql")
    assert states(fresh_db, future) == [("1", "SQL", "Success"), ("2", "SQL", "Future")]
    validate(fresh_db, future)
    assert apply(fresh_db, future) == []
    shutil.rmtree(future)
    missing = folder_with(tmp_path, "V2__add_email.sql", "V3__add_status.sql")
    assert states(fresh_db, missing)[0] == ("1", "SQL", "Missing")
    with pytest.raises(WorkbenchError, match="not resolved locally: 1"):
        validate(fresh_db, missing)
    with pytest.raises(WorkbenchError, match="nothing to apply"):
        apply(fresh_db, missing)
    assert "status" not in columns(fresh_db)  # nothing applied from a folder that fails
    assert repair(fresh_db, missing) == {"removed": 0, "deleted": ["1"], "aligned": []}
    assert rows(fresh_db)[-1] == (3, "1", "create accounts", "DELETE", "V1__create_accounts.sql",
                                  -980100918, True)
    assert [d.version for d in apply(fresh_db, missing)] == ["3"]
    validate(fresh_db, missing)


def test_changed_files_fail_validation_until_repair_realigns(fresh_db: str,
                                                             tmp_path: Path) -> None:
    load_fixture(fresh_db, "applied_1_2.sql")
    folder = folder_with(tmp_path, "V1__create_accounts.sql")
    (folder / "V2__add_email_address.sql").write_text(
        (FILES / "V2__add_email.sql").read_text() + "-- reviewed\n")
    with pytest.raises(WorkbenchError) as caught:
        validate(fresh_db, folder)
    assert "checksum mismatch for migration version 2: applied to database -989713339" \
        in str(caught.value)
    (folder / "V2__add_email_address.sql").write_bytes((FILES / "V2__add_email.sql").read_bytes())
    with pytest.raises(WorkbenchError, match="description mismatch for migration version 2"):
        validate(fresh_db, folder)
    # line endings do not count: Flyway's checksum reads lines, not bytes
    text = (folder / "V2__add_email_address.sql").read_text()
    (folder / "V2__add_email_address.sql").write_text(text.replace("\r\n", "\n"))
    assert repair(fresh_db, folder)["aligned"] == ["2"]
    assert rows(fresh_db)[1][2:6] == ("add email address", "SQL", "V2__add_email.sql", -989713339)
    validate(fresh_db, folder)


def test_ignored_versions_need_out_of_order(fresh_db: str, tmp_path: Path) -> None:
    load_fixture(fresh_db, "gap_2.sql")
    folder = folder_with(tmp_path, "V1__create_accounts.sql", "V2__add_email.sql",
                         "V3__add_status.sql", "U2__add_email.sql", "U3__add_status.sql")
    assert states(fresh_db, folder) == [("1", "SQL", "Success"), ("3", "SQL", "Success"),
                                        ("2", "SQL", "Ignored")]
    with pytest.raises(WorkbenchError, match="not applied to database: 2 .*--out-of-order"):
        apply(fresh_db, folder)
    assert "email" not in columns(fresh_db)
    assert [d.version for d in apply(fresh_db, folder, out_of_order=True)] == ["2"]
    assert states(fresh_db, folder) == [("1", "SQL", "Success"), ("3", "SQL", "Success"),
                                        ("2", "SQL", "Out of Order")]
    validate(fresh_db, folder)
    # undo down to and including 2 goes in reverse installed order: 2 (rank 3), then 3 (rank 2)
    assert [d.script for d in undo(fresh_db, folder, target="2")] == ["U2__add_email.sql",
                                                                      "U3__add_status.sql"]
    assert columns(fresh_db) == ["id", "name"]


def test_undo_target_is_inclusive_and_needs_every_undo_file(fresh_db: str,
                                                            tmp_path: Path) -> None:
    load_fixture(fresh_db, "applied_1_2.sql")
    folder = folder_with(tmp_path, "V1__create_accounts.sql", "V2__add_email.sql",
                         "V3__add_status.sql", "U3__add_status.sql")
    apply(fresh_db, folder)
    with pytest.raises(WorkbenchError, match="no undo file for version 2"):
        undo(fresh_db, folder, target="2")
    assert "status" in columns(fresh_db)  # checked before anything ran
    shutil.copy(FILES / "U2__add_email.sql", folder)
    assert [d.version for d in undo(fresh_db, folder)] == ["3"]  # the latest only
    assert [d.version for d in undo(fresh_db, folder, target="2")] == ["2"]
    assert columns(fresh_db) == ["id", "name"]
    assert [r[3] for r in rows(fresh_db)] == ["SQL", "SQL", "SQL", "UNDO_SQL", "UNDO_SQL"]


def test_repeatables_run_after_versioned_and_again_when_changed(fresh_db: str,
                                                                tmp_path: Path) -> None:
    load_fixture(fresh_db, "applied_1_2.sql")
    folder = folder_with(tmp_path, "V1__create_accounts.sql", "V2__add_email.sql",
                         "V3__add_status.sql", "R__accounts_view.sql")
    assert [d.script for d in apply(fresh_db, folder)] == ["V3__add_status.sql",
                                                           "R__accounts_view.sql"]
    assert apply(fresh_db, folder) == []
    (folder / "R__accounts_view.sql").write_text(
        "CREATE OR REPLACE VIEW accounts_v AS SELECT id, name, email FROM accounts;\n")
    assert states(fresh_db, folder)[-1] == (None, "SQL", "Outdated")
    with pytest.raises(WorkbenchError, match="outdated resolved repeatable"):
        validate(fresh_db, folder)
    assert [d.script for d in apply(fresh_db, folder)] == ["R__accounts_view.sql"]
    assert [s for _, _, s in states(fresh_db, folder)][-2:] == ["Superseded", "Success"]


def test_schema_marker_and_history_in_another_schema(fresh_db: str, tmp_path: Path) -> None:
    load_fixture(fresh_db, "schema_marker_app.sql")
    folder = folder_with(tmp_path, "V1__create_accounts.sql", "V2__add_email.sql")
    assert states(fresh_db, folder, history_schema="app") == [
        (None, "SCHEMA", "Success"), ("1", "SQL", "Success"), ("2", "SQL", "Pending")]
    apply(fresh_db, folder, history_schema="app")  # runs with app first on search_path
    assert "email" in columns(fresh_db, "app.accounts")
    assert [r[1] for r in rows(fresh_db, "app")] == [None, "1", "2"]


def test_mixed_files_are_refused_unless_mixed(fresh_db: str, tmp_path: Path) -> None:
    load_fixture(fresh_db, "applied_1_2.sql")
    folder = folder_with(tmp_path, "V1__create_accounts.sql", "V2__add_email.sql")
    (folder / "V3__email_index.sql").write_text(
        "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_email_idx "
        "ON accounts (email);\n")
    with pytest.raises(WorkbenchError, match=r"V3__email_index.sql mixes .*line 2: CREATE"):
        apply(fresh_db, folder)
    assert len(rows(fresh_db)) == 2
    assert [d.version for d in apply(fresh_db, folder, mixed=True)] == ["3"]
    with connect(fresh_db) as conn:
        assert conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = "
                            "'accounts_email_idx'::regclass").fetchone() == (True,)


def test_lock_is_flyways_advisory_lock_and_serialises_runners(fresh_db: str,
                                                              tmp_path: Path) -> None:
    magic = 77431708279161  # Flyway's LOCK_MAGIC_NUM: "Flyway" in ASCII
    h = 0
    for ch in '"public"."flyway_schema_history"':
        h = (31 * h + ord(ch)) & 0xFFFFFFFF
    assert lock_key("public") == magic + (h - (1 << 32) if h >= 1 << 31 else h)
    load_fixture(fresh_db, "applied_1_2.sql")
    folder = folder_with(tmp_path, "V1__create_accounts.sql", "V2__add_email.sql",
                         "V3__add_status.sql")
    with connect(fresh_db) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [lock_key("public")])
        with pytest.raises(WorkbenchError, match="another migration runner holds the lock"):
            apply(fresh_db, folder, lock_wait=0.3)
        with pytest.raises(WorkbenchError, match="another migration runner"):
            repair(fresh_db, folder, lock_wait=0.3)
    results: list[Any] = []

    def runner() -> None:
        try:
            results.append([d.version for d in apply(fresh_db, folder)])
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            results.append(exc)

    threads = [threading.Thread(target=runner) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=len) == [[], [], ["3"]]
    assert [r[1] for r in rows(fresh_db)] == ["1", "2", "3"]


def test_first_runs_racing_on_an_empty_database_create_one_history(fresh_db: str,
                                                                    tmp_path: Path) -> None:
    folder = folder_with(tmp_path, "V1__create_accounts.sql", "V2__add_email.sql")
    errors: list[Exception] = []

    def runner() -> None:
        try:
            apply(fresh_db, folder)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=runner) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [r[:2] for r in rows(fresh_db)] == [(1, "1"), (2, "2")]


def test_failed_concurrent_index_leaves_no_invalid_index_and_retry_rebuilds(
        fresh_db: str, tmp_path: Path) -> None:
    load_fixture(fresh_db, "applied_1_2.sql")
    folder = folder_with(tmp_path, "V1__create_accounts.sql", "V2__add_email.sql",
                         "V3__add_status.sql", "V4__email_index.sql")
    with connect(fresh_db) as conn:
        conn.execute("INSERT INTO accounts (name, email) VALUES ('a', 'x@y'), ('b', 'x@y')")
    with pytest.raises(WorkbenchError) as caught:
        apply(fresh_db, folder)
    assert "V4__email_index.sql: line 2: could not create unique index" in caught.value.what
    assert "dropped the INVALID index public.accounts_email_key" in caught.value.what
    invalid = "SELECT count(*) FROM pg_index WHERE NOT indisvalid"
    with connect(fresh_db) as conn:
        assert conn.execute(invalid).fetchone() == (0,)
        assert conn.execute("SELECT to_regclass('accounts_email_key')").fetchone() == (None,)
    assert states(fresh_db, folder)[-1] == ("4", "SQL", "Failed")
    with pytest.raises(WorkbenchError, match="failed migration to version 4"):
        apply(fresh_db, folder)
    assert repair(fresh_db, folder)["removed"] == 1
    with connect(fresh_db) as conn:
        conn.execute("UPDATE accounts SET email = 'z@y' WHERE name = 'b'")
    assert [d.version for d in apply(fresh_db, folder)] == ["4"]
    with connect(fresh_db) as conn:
        assert conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = "
                            "'accounts_email_key'::regclass").fetchone() == (True,)


def test_an_invalid_leftover_from_flyway_is_rebuilt_not_skipped(fresh_db: str,
                                                                tmp_path: Path) -> None:
    """Flyway failed V4 and left the INVALID index; IF NOT EXISTS alone would skip it."""
    load_fixture(fresh_db, "failed_4.sql")
    folder = folder_with(tmp_path, "V1__create_accounts.sql", "V2__add_email.sql",
                         "V3__add_status.sql", "V4__email_index.sql")
    with connect(fresh_db) as conn:
        conn.execute("INSERT INTO accounts (name, email) VALUES ('a', 'x@y'), ('b', 'x@y')")
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("CREATE UNIQUE INDEX CONCURRENTLY accounts_email_key ON accounts (email)")
        conn.execute("DELETE FROM accounts WHERE name = 'b'")
    repair(fresh_db, folder)
    done = apply(fresh_db, folder)
    assert done[0].statements[0]["dropped_invalid"] == ["public.accounts_email_key"]
    with connect(fresh_db) as conn:
        assert conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = "
                            "'accounts_email_key'::regclass").fetchone() == (True,)


def test_failed_reindex_concurrently_leaves_no_invalid_copy(fresh_db: str,
                                                            tmp_path: Path) -> None:
    """REINDEX CONCURRENTLY that times out waiting for a writer leaves an INVALID *_ccnew copy
    in PostgreSQL; the runner drops it once the writer is gone."""
    load_fixture(fresh_db, "applied_1_2.sql")
    folder = folder_with(tmp_path, "V1__create_accounts.sql", "V2__add_email.sql")
    (folder / "V3__reindex.sql").write_text(
        "SET statement_timeout = '1s';\nREINDEX INDEX CONCURRENTLY accounts_pkey;\n")
    writer = psycopg.connect(fresh_db, autocommit=False)
    writer.execute("INSERT INTO accounts (name) VALUES ('in flight')")  # left open
    finish = threading.Timer(4.0, writer.rollback)
    finish.start()
    try:
        with pytest.raises(WorkbenchError) as caught:
            apply(fresh_db, folder, mixed=True)
    finally:
        finish.join()
        writer.close()
    assert "line 2: canceling statement due to statement timeout" in caught.value.what
    assert "dropped the INVALID index public.accounts_pkey_ccnew" in caught.value.what
    with connect(fresh_db) as conn:
        assert conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone() == (0,)


def test_a_folder_that_fails_to_parse_applies_nothing(fresh_db: str, tmp_path: Path) -> None:
    folder = folder_with(tmp_path, "V1__create_accounts.sql")
    (folder / "V2__broken.sql").write_text("ALTER TABLE accounts ADD COLUMN ;\n")
    with pytest.raises(WorkbenchError, match=r"V2__broken.sql: line 1, column 33: syntax error"):
        apply(fresh_db, folder)
    with connect(fresh_db) as conn:
        assert conn.execute("SELECT to_regclass('accounts'), to_regclass('flyway_schema_history')"
                            ).fetchone() == (None, None)


def test_cli_wires_each_action(fresh_db: str, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    from workbench.cli import main

    load_fixture(fresh_db, "gap_2.sql")
    folder = str(folder_with(tmp_path, "V1__create_accounts.sql", "V2__add_email.sql",
                             "V3__add_status.sql", "U2__add_email.sql", "U3__add_status.sql"))
    common = ["--dsn", fresh_db, "--json"]
    assert main(["migrate", "validate", folder, *common]) == 1
    assert "not applied to database: 2" in capsys.readouterr().err
    assert main(["migrate", "validate", folder, "--out-of-order", *common]) == 1  # still pending
    capsys.readouterr()
    assert main(["migrate", "apply", folder, "--out-of-order", *common]) == 0
    assert [d["version"] for d in json.loads(capsys.readouterr().out)] == ["2"]
    assert main(["migrate", "info", folder, *common]) == 0
    assert [r["state"] for r in json.loads(capsys.readouterr().out)] == [
        "Success", "Success", "Out of Order"]
    assert main(["migrate", "undo", folder, "--target", "2", *common]) == 0
    assert [d["script"] for d in json.loads(capsys.readouterr().out)] == [
        "U2__add_email.sql", "U3__add_status.sql"]
    assert main(["migrate", "repair", folder, *common]) == 0
    assert json.loads(capsys.readouterr().out) == {"removed": 0, "deleted": [], "aligned": []}
    with connect(fresh_db) as conn:
        conn.execute("DROP TABLE flyway_schema_history")
    assert main(["migrate", "baseline", "--version", "5", *common]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == "5"


def test_subfolders_are_read_as_flyway_reads_them(fresh_db: str, tmp_path: Path) -> None:
    """Flyway scans a location's subfolders: their migrations are pending like any other, and the
    history's script is the path below the folder; one version twice anywhere is refused."""
    folder = folder_with(tmp_path, "V1__create_accounts.sql")
    (folder / "2024").mkdir()
    shutil.copy(FILES / "V2__add_email.sql", folder / "2024" / "V2__add_email.sql")
    assert states(fresh_db, folder) == [("1", "SQL", "Pending"), ("2", "SQL", "Pending")]
    apply(fresh_db, folder)
    assert [r[4] for r in rows(fresh_db)] == ["V1__create_accounts.sql", "2024/V2__add_email.sql"]
    assert "email" in columns(fresh_db)
    (folder / "old").mkdir()
    shutil.copy(FILES / "V2__add_email.sql", folder / "old" / "V2__add_email_again.sql")
    with pytest.raises(WorkbenchError, match=r"old/V2__add_email_again.sql: version 2 is also "
                                             r"2024/V2__add_email.sql"):
        info(fresh_db, folder)


def test_callbacks_run_around_migrations_and_are_never_recorded(fresh_db: str,
                                                                tmp_path: Path) -> None:
    """beforeMigrate once, beforeEachMigrate/afterEachMigrate inside each migration's
    transaction, afterMigrate once (a VACUUM there runs outside a transaction), in Flyway's
    order; none of them in the history. A failing callback undoes its migration with it."""
    folder = folder_with(tmp_path, "V1__create_accounts.sql", "V2__add_email.sql")
    (folder / "callbacks").mkdir()
    log = "CREATE TABLE IF NOT EXISTS cb_log (n serial, event text);\n"
    for event in ("beforeMigrate", "beforeEachMigrate", "afterEachMigrate"):
        (folder / "callbacks" / f"{event}.sql").write_text(
            log + f"INSERT INTO cb_log (event) VALUES ('{event}');\n")
    (folder / "afterMigrate__vacuum.sql").write_text(
        "INSERT INTO cb_log (event) VALUES ('afterMigrate');\nVACUUM (ANALYZE) cb_log;\n")
    (folder / "beforeValidate.sql").write_text("SELECT 1;\n")  # a callback, not a migration
    assert [d.script for d in apply(fresh_db, folder)] == ["V1__create_accounts.sql",
                                                           "V2__add_email.sql"]
    with connect(fresh_db) as conn:
        events = [r[0] for r in conn.execute("SELECT event FROM cb_log ORDER BY n")]
    assert events == ["beforeMigrate", "beforeEachMigrate", "afterEachMigrate",
                      "beforeEachMigrate", "afterEachMigrate", "afterMigrate"]
    assert [r[4] for r in rows(fresh_db)] == ["V1__create_accounts.sql", "V2__add_email.sql"]
    shown = info(fresh_db, folder).text()
    assert "CALLBACK beforeValidate  beforeValidate.sql  (not run by the workbench)" in shown
    assert "afterMigrate__vacuum.sql\n" in shown + "\n"
    shutil.copy(FILES / "V3__add_status.sql", folder / "V3__add_status.sql")
    (folder / "callbacks" / "afterEachMigrate.sql").write_text("SELECT 1 / 0;\n")
    with pytest.raises(WorkbenchError, match=r"callback callbacks/afterEachMigrate.sql \(around "
                                             r"V3__add_status.sql\): line 1: division by zero"):
        apply(fresh_db, folder)
    assert "status" not in columns(fresh_db)   # the migration went with its callback
    assert [r[1] for r in rows(fresh_db)] == ["1", "2"]


def test_lint_reads_subfolders_and_callbacks(tmp_path: Path) -> None:
    """A blocking statement in a callback blocks every deploy: it is linted like a migration."""
    from workbench.migrations.lint import lint

    folder = tmp_path / "migrations"
    (folder / "2024").mkdir(parents=True)
    (folder / "V1__t.sql").write_text("CREATE TABLE t (id bigint PRIMARY KEY, a text);\n")
    (folder / "2024" / "V2__a.sql").write_text("ALTER TABLE t ALTER COLUMN a TYPE varchar(10);\n")
    (folder / "afterMigrate.sql").write_text("CREATE INDEX t_a ON t (a);\n")
    found = {(Path(f.file).name, f.rule) for f in lint(folder).errors}
    assert ("V2__a.sql", "changing-column-type") in found
    assert ("afterMigrate.sql", "require-concurrent-index-creation") in found


def test_error_and_undo_callbacks(fresh_db: str, tmp_path: Path) -> None:
    """afterEachMigrateError and afterMigrateError run after a failure (in transactions of their
    own: the failed migration's is gone); undo fires the undo events around each U file."""
    folder = folder_with(tmp_path, "V1__create_accounts.sql", "V2__add_email.sql",
                         "U2__add_email.sql")
    with connect(fresh_db) as conn:
        conn.execute("CREATE TABLE cb_log (n serial, event text)")
    for event in ("afterEachMigrateError", "afterMigrateError", "afterMigrate", "beforeUndo",
                  "beforeEachUndo", "afterEachUndo", "afterUndo"):
        (folder / f"{event}.sql").write_text(f"INSERT INTO cb_log (event) VALUES ('{event}');\n")
    (folder / "V3__broken.sql").write_text("ALTER TABLE accounts ADD COLUMN x int;\nSELECT 1 / 0;\n")
    with pytest.raises(WorkbenchError, match=r"V3__broken.sql: line 2: division by zero"):
        apply(fresh_db, folder)
    (folder / "V3__broken.sql").unlink()
    assert [r[1] for r in rows(fresh_db)] == ["1", "2"]    # V1 and V2 stay applied
    assert [d.script for d in undo(fresh_db, folder)] == ["U2__add_email.sql"]
    with connect(fresh_db) as conn:
        events = [r[0] for r in conn.execute("SELECT event FROM cb_log ORDER BY n")]
    assert events == ["afterEachMigrateError", "afterMigrateError", "beforeUndo",
                      "beforeEachUndo", "afterEachUndo", "afterUndo"]
    assert "email" not in columns(fresh_db)
