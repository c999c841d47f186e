"""Migrations: files and checksums, lint rules (volatility, coercible types, suppression,
squawk's options), apply/undo round trips on the dataset examples, impact, rehearsal."""

from __future__ import annotations

import io
import json
import subprocess
import zlib
from pathlib import Path

import pytest
from test_migration_parity import by_statement, squawk_binary

from workbench.cli import main
from workbench.connect import connect
from workbench.errors import WorkbenchError
from workbench.loader import load
from workbench.migrations.files import flyway_checksum, parse_version, read_migrations
from workbench.migrations.history import apply, info, schema_snapshot, undo, validate
from workbench.migrations.impact import changes_of, impact
from workbench.migrations.lint import lint, lint_sql
from workbench.migrations.rules import RULES as RULE_TABLE

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "datasets" / "shop" / "migration-examples"
TIMEOUTS = "SET lock_timeout = '2s'; SET statement_timeout = '1min'; "


def java_line_reader_checksum(text: str) -> int:
    """Flyway's checksum written another way: Python's universal-newline reader splits on
    \\n, \\r and \\r\\n only, exactly like Java's BufferedReader.readLine."""
    if text.startswith("\ufeff"):
        text = text[1:]
    crc = 0
    for line in io.StringIO(text, newline=None):
        crc = zlib.crc32(line.rstrip("\n").encode("utf-8"), crc)
    return crc - (1 << 32) if crc >= 1 << 31 else crc


@pytest.mark.parametrize("text", [
    "SELECT 1;\r\nSELECT 2;\r\n", "\ufeffSELECT 1;\nSELECT 2;", "a\rb\r\nc\n\nd",
    "-- form\x0cfeed and\u2028line separator are no line breaks\n", "\ufeff\ufeffx", "",
    "CREATE TABLE t (é text);\n",
])
def test_checksum_is_flyways(text: str) -> None:
    assert flyway_checksum(text) == java_line_reader_checksum(text)


def test_checksum_known_values() -> None:
    # CRC-32's published check value: crc32("123456789") = 0xCBF43926, as a Java int.
    assert flyway_checksum("\ufeff123\r\n456\r789\n") == -873187034
    assert flyway_checksum("") == 0
    # splitlines() would drop these separators; Java's reader keeps them in the line.
    assert flyway_checksum("a\x0cb") != flyway_checksum("ab")
    assert flyway_checksum("a\u2028b") != flyway_checksum("ab")
    assert flyway_checksum("\ufeff\ufeffx") != flyway_checksum("x")  # one BOM only


def test_versions_and_names(tmp_path: Path) -> None:
    assert parse_version("1_10") > parse_version("1.9") > parse_version("1")
    assert parse_version("2.0") == parse_version("2")
    for name in ("V1__a.sql", "V1_1__b_c.sql", "U1__a.sql", "R__views.sql"):
        (tmp_path / name).write_text("SELECT 1;")
    found = read_migrations(tmp_path)
    assert [m.version_text for m in found.versioned] == ["1", "1.1"]
    assert found.versioned[1].description == "b c" and list(found.undo) == [(1,)]
    assert [m.script for m in found.repeatable] == ["R__views.sql"]


@pytest.mark.parametrize(("files", "message"), [
    (["V1__a.sql", "V1__b.sql"], "version 1 is also V1__a.sql"),
    (["V1__a.sql", "U2__b.sql"], "undo of version 2, which has no versioned migration"),
    (["V1__a.sql", "v2-bad.sql"], "not a Flyway migration name"),
])
def test_bad_folders(tmp_path: Path, files: list[str], message: str) -> None:
    for name in files:
        (tmp_path / name).write_text("SELECT 1;")
    with pytest.raises(WorkbenchError, match=message):
        read_migrations(tmp_path)


def test_unparseable_file_is_one_line_with_file_line_column(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "V1__ok.sql").write_text("CREATE TABLE t (a text);\n")
    (tmp_path / "V2__bad.sql").write_text("-- two\nSELECT 1;\nALTER TABLE t ADD COLUMN ;\n")
    with pytest.raises(WorkbenchError) as caught:
        read_migrations(tmp_path)
    assert caught.value.what == f'{tmp_path / "V2__bad.sql"}: line 3, column 26: syntax error ' \
                                'at or near ";"'
    assert main(["migrate", "lint", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "V2__bad.sql: line 3, column 26" in err[0]


def test_mixed_files_are_detected_from_the_parse_tree(tmp_path: Path) -> None:
    (tmp_path / "V1__a.sql").write_text(
        "SET lock_timeout = '2s';\n-- CREATE INDEX CONCURRENTLY in a comment does not count\n"
        "CREATE INDEX CONCURRENTLY i ON t (a);\n")
    (tmp_path / "V2__b.sql").write_text("SELECT ';CREATE INDEX CONCURRENTLY x ON y (z)';\n")
    found = read_migrations(tmp_path)
    assert [s.line for s in found.versioned[0].mixed] == [3]
    assert found.versioned[1].mixed == [] and found.versioned[1].transactional


# (rule, SQL that must trigger it, SQL that must not): the blocking forms among them.
RULES = [
    ("require-concurrent-index-creation", "CREATE INDEX i ON app.t (a);",
     "CREATE INDEX CONCURRENTLY i ON app.t (a);"),
    ("require-concurrent-index-deletion", "DROP INDEX app.i;", "DROP INDEX CONCURRENTLY app.i;"),
    ("disallowed-unique-constraint", "ALTER TABLE t ADD COLUMN c text UNIQUE;",
     "ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX u_idx;"),
    ("adding-foreign-key-constraint", "ALTER TABLE t ADD COLUMN c bigint REFERENCES u (id);",
     "ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (c) REFERENCES u (id) NOT VALID;"),
    ("constraint-missing-not-valid",
     "ALTER TABLE t ADD CONSTRAINT x EXCLUDE USING gist (r WITH &&);",
     "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;"),
    ("adding-field-with-default",
     "ALTER TABLE t ADD COLUMN c numeric GENERATED ALWAYS AS (a * 2) STORED;",
     "ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now();"),
    ("adding-field-with-default", "ALTER TABLE t ADD COLUMN c uuid DEFAULT gen_random_uuid();",
     "ALTER TABLE t ADD COLUMN c timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP;"),
    ("require-concurrent-reindex", "REINDEX TABLE t;", "REINDEX TABLE CONCURRENTLY t;"),
    ("require-concurrent-partition-detach", "ALTER TABLE p DETACH PARTITION c;",
     "ALTER TABLE p DETACH PARTITION c CONCURRENTLY;"),
    ("ban-truncate-cascade", "TRUNCATE t CASCADE;", "TRUNCATE t;"),
    ("ban-drop-not-null", "ALTER TABLE t ALTER COLUMN c DROP NOT NULL;",
     "ALTER TABLE t ALTER COLUMN c SET NOT NULL;"),
    ("require-enum-value-ordering", "ALTER TYPE e ADD VALUE 'x';",
     "ALTER TYPE e ADD VALUE 'x' AFTER 'w';"),
    ("ban-create-domain-with-constraint", "CREATE DOMAIN d AS int CHECK (VALUE > 0);",
     "CREATE DOMAIN d AS int;"),
    ("ban-alter-domain-with-add-constraint", "ALTER DOMAIN d ADD CONSTRAINT c CHECK (VALUE > 0);",
     "ALTER DOMAIN d VALIDATE CONSTRAINT c;"),
    ("prefer-bigint-over-smallint", "CREATE TABLE x (id smallint PRIMARY KEY);",
     "CREATE TABLE x (id bigint PRIMARY KEY);"),
    ("renaming-object", "ALTER SCHEMA a RENAME TO b;", "ALTER SCHEMA a OWNER TO b;"),
    ("adding-serial-column", "ALTER TABLE t ADD COLUMN id serial;",
     "ALTER TABLE t ADD COLUMN id bigint;"),
    ("adding-not-nullable-field", "ALTER TABLE t ALTER COLUMN c SET NOT NULL;",
     "ALTER TABLE t VALIDATE CONSTRAINT t_c_not_null; ALTER TABLE t ALTER COLUMN c SET NOT NULL; "
     "ALTER TABLE t DROP CONSTRAINT t_c_not_null;"),
    ("changing-column-type", "ALTER TABLE t ALTER COLUMN c TYPE bigint;",
     "CREATE TABLE t (c varchar(10)); ALTER TABLE t ALTER COLUMN c TYPE text;"),
    ("changing-column-type", "CREATE TABLE t (c varchar(10)); ALTER TABLE t ALTER COLUMN c TYPE "
     "varchar(5);", "CREATE TABLE t (c varchar(10)); ALTER TABLE t ALTER COLUMN c TYPE varchar(20);"),
    ("ban-set-tablespace", "ALTER TABLE t SET TABLESPACE x;", "ALTER TABLE t SET (fillfactor = 90);"),
    ("ban-set-logged-unlogged", "ALTER TABLE t SET UNLOGGED;", "ALTER TABLE t SET WITHOUT CLUSTER;"),
    ("ban-lock-table", "LOCK TABLE t;", "LOCK TABLE t IN ROW EXCLUSIVE MODE;"),
    ("trigger-on-existing-table",
     "CREATE TRIGGER x AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();",
     "CREATE TABLE t (a text); CREATE TRIGGER x AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();"),
    ("ban-backfill-in-ddl-transaction", "ALTER TABLE t ADD COLUMN c text; UPDATE t SET c = 'x';",
     "UPDATE t SET c = 'x' WHERE id < 1000;"),
    ("ban-vacuum-full", "VACUUM FULL t;", "VACUUM (ANALYZE) t;"),
    ("ban-cluster", "CLUSTER t USING i;", "ANALYZE t;"),
    ("transaction-nesting", "BEGIN; CREATE TABLE x (a text); COMMIT; COMMIT;",
     "BEGIN; CREATE TABLE x (a text); COMMIT;"),
    ("require-lock-timeout", "ALTER TABLE t ADD COLUMN c text;",
     "SET lock_timeout = '2s'; ALTER TABLE t ADD COLUMN c text;"),
    ("prefer-identity", "CREATE TABLE x (id serial);",
     "CREATE TABLE x (id bigint GENERATED BY DEFAULT AS IDENTITY);"),
    ("prefer-text-field", "CREATE TABLE x (n varchar(10));", "CREATE TABLE x (n varchar);"),
    ("prefer-timestamp-tz", "CREATE TABLE x (t timestamp);", "CREATE TABLE x (t timestamptz);"),
    ("ban-char-field", "CREATE TABLE x (c char(2));", "CREATE TABLE x (c text);"),
    ("mixed-transaction-statements", "SET lock_timeout = '1s'; CREATE INDEX CONCURRENTLY i ON t (a);",
     "CREATE INDEX CONCURRENTLY i ON t (a);"),
]


@pytest.mark.parametrize(("rule", "positive", "negative"), RULES,
                         ids=[f"{r[0]}-{i}" for i, r in enumerate(RULES)])
def test_each_rule_positive_and_negative(rule: str, positive: str, negative: str) -> None:
    assert rule in {f.rule for f in lint_sql(positive).findings}
    assert rule not in {f.rule for f in lint_sql(negative).findings}


def test_squawk_options_pg_version_transaction_include_exclude() -> None:
    sql = "ALTER TABLE t ADD COLUMN c text DEFAULT 'x';"
    assert "adding-field-with-default" not in {f.rule for f in lint_sql(sql).findings}
    assert "adding-field-with-default" in {f.rule for f in lint_sql(sql, pg_version="10.5").findings}
    index = "CREATE TABLE t (a text); CREATE INDEX i ON t (a);"
    assert "require-concurrent-index-creation" in {f.rule for f in lint_sql(index).findings}
    assert "require-concurrent-index-creation" not in {
        f.rule for f in lint_sql(index, assume_in_transaction=True).findings}
    assert "ban-add-column" not in {f.rule for f in lint_sql(sql).findings}
    assert "ban-add-column" in {f.rule for f in lint_sql(sql, include=["ban-add-column"]).findings}
    rules = {f.rule for f in lint_sql(sql, exclude=["require-timeout-settings"]).findings}
    assert not rules & {"require-lock-timeout", "require-statement-timeout"}
    with pytest.raises(WorkbenchError, match="unknown rule no-such-rule"):
        lint_sql(sql, include=["no-such-rule"])
    with pytest.raises(WorkbenchError, match="not a PostgreSQL version"):
        lint_sql(sql, pg_version="eleven")


def test_suppression_comments_line_file_and_unknown_names() -> None:
    drops = "ALTER TABLE t DROP COLUMN IF EXISTS a;\nALTER TABLE t DROP COLUMN IF EXISTS b;\n"
    lines = lambda sql: [(f.line, f.rule) for f in lint_sql(sql).findings  # noqa: E731
                         if f.rule in ("ban-drop-column", "unused-ignore")]
    assert lines(drops) == [(1, "ban-drop-column"), (2, "ban-drop-column")]
    assert lines("-- squawk-ignore ban-drop-column\n" + drops) == [(3, "ban-drop-column")]
    assert lines("-- squawk-ignore-file ban-drop-column\n" + drops) == []
    assert lines(drops + "-- squawk-ignore-file\n") == []
    assert lines("-- squawk-ignore ban-drop-column\n\n" + drops) == [(3, "ban-drop-column"),
                                                                    (4, "ban-drop-column")]
    assert lines("-- squawk-ignore nope, ban-drop-column\n" + drops) == [
        (1, "unused-ignore"), (3, "ban-drop-column")]
    # squawk's reach: the comment's own line and the next one
    assert lines("/* squawk-ignore ban-drop-column */ " + drops + drops) == [
        (3, "ban-drop-column"), (4, "ban-drop-column")]


def test_finding_json_shape_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "V2__x.sql"
    path.write_text("ALTER TABLE t ADD COLUMN c text DEFAULT 'x';\n")
    assert main(["migrate", "lint", str(path), "--json"]) == 0  # warnings only
    doc = json.loads(capsys.readouterr().out)
    assert all(set(f) == {"file", "line", "rule", "severity", "message", "safe_alternative"}
               for f in doc["findings"])
    assert main(["migrate", "lint", str(path), "--pg-version", "10", "--json"]) == 1
    assert "adding-field-with-default" in capsys.readouterr().out
    assert main(["migrate", "lint", str(path), "--include", "ban-add-column",
                 "--exclude", "require-timeout-settings,prefer-robust-stmts"]) == 1
    out = capsys.readouterr().out
    assert "ban-add-column" in out and "timeout" not in out


def test_example_sets_lint_as_expected(capsys: pytest.CaptureFixture[str]) -> None:
    assert lint(EXAMPLES / "safe").errors == []
    assert lint(EXAMPLES / "dangerous-rewrite").errors == []
    assert {f.rule for f in lint(EXAMPLES / "dangerous").errors} == {"changing-column-type"}
    assert main(["migrate", "lint", str(EXAMPLES / "dangerous"), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert {f["line"] for f in doc["findings"]} == {4}
    assert main(["migrate", "lint", str(EXAMPLES / "safe")]) == 0


def test_lint_uses_the_servers_volatility_and_column_types(fresh_db: str) -> None:
    with connect(fresh_db) as conn:
        conn.execute("CREATE FUNCTION app_tenant() RETURNS text STABLE LANGUAGE sql "
                     "AS $$ SELECT 'a' $$")
        conn.execute("CREATE TABLE tickets (subject varchar(120), n int)")
    default = "ALTER TABLE tickets ADD COLUMN tenant text DEFAULT app_tenant();"
    widen = "ALTER TABLE tickets ALTER COLUMN subject TYPE text;"
    assert "adding-field-with-default" in {f.rule for f in lint_sql(default).findings}
    assert "adding-field-with-default" not in {f.rule for f in lint_sql(default, dsn=fresh_db).findings}
    assert "changing-column-type" in {f.rule for f in lint_sql(widen).findings}
    assert "changing-column-type" not in {f.rule for f in lint_sql(widen, dsn=fresh_db).findings}
    bigger = "ALTER TABLE tickets ALTER COLUMN n TYPE bigint;"
    assert "changing-column-type" in {f.rule for f in lint_sql(bigger, dsn=fresh_db).findings}


def test_folder_lint_learns_column_types_from_earlier_files(tmp_path: Path) -> None:
    (tmp_path / "V1__init.sql").write_text("CREATE TABLE t (c varchar(10), d numeric(8, 2));\n")
    (tmp_path / "V2__widen.sql").write_text(TIMEOUTS + "ALTER TABLE t ALTER COLUMN c TYPE "
                                            "varchar(40), ALTER COLUMN d TYPE numeric(8, 3);\n")
    found = [(f.file.rsplit("/", 1)[-1], f.rule) for f in lint(tmp_path).errors]
    assert found == [("V2__widen.sql", "changing-column-type")]  # the scale change only


def test_impact_changes_come_from_the_parse_tree() -> None:
    assert [(c.kind, c.table, c.column) for c in changes_of(
        "ALTER TABLE accounts.customers DROP COLUMN email, ADD COLUMN e text; "
        "ALTER TABLE orders.orders RENAME COLUMN total TO amount; DROP TABLE x;")] == [
        ("drop_column", "accounts.customers", "email"), ("add_column", "accounts.customers", "e"),
        ("rename_column", "orders.orders", "total"), ("drop_table", "public.x", None)]


def test_impact_finds_the_service_whose_query_uses_a_dropped_column() -> None:
    report = impact(EXAMPLES / "cross-service", "shop").to_json()
    migration = report["migrations"][0]
    assert migration["owner"] == "orders" and migration["cross_service"]
    assert migration["other_services"] == ["accounts"]
    assert [(b["statement"], b["service"]) for b in migration["breaks"]] == [("lookup_by_email", "accounts")]
    safe = impact(EXAMPLES / "safe", "shop").to_json()["migrations"][0]
    assert not safe["cross_service"] and safe["breaks"] == []


@pytest.fixture
def shop_small(server_dsn: str):
    from workbench.databases import drop_database

    result = load("shop", scale=0.02, database="wbtest_migrate", dsn=server_dsn, replace=True,
                  progress=False)
    yield result.dsn
    drop_database("wbtest_migrate", server_dsn)


@pytest.mark.parametrize("example", ["safe", "dangerous", "dangerous-rewrite"])
def test_apply_then_undo_restores_the_schema_exactly(example: str, shop_small: str) -> None:
    before = schema_snapshot(shop_small)
    applied = apply(shop_small, EXAMPLES / example)
    assert [a.version for a in applied] == ["2"]
    assert schema_snapshot(shop_small) != before
    assert [r["state"] for r in info(shop_small, EXAMPLES / example)] == ["Success"]
    validate(shop_small, EXAMPLES / example)
    undone = undo(shop_small, EXAMPLES / example)
    assert [u.kind for u in undone] == ["undo"]
    assert schema_snapshot(shop_small) == before
    assert [(r["type"], r["state"]) for r in info(shop_small, EXAMPLES / example)] == [
        ("SQL", "Undone"), ("UNDO_SQL", "Success"), ("SQL", "Pending")]
    with connect(shop_small) as conn:
        types = [r[0] for r in conn.execute("SELECT type FROM public.flyway_schema_history "
                                            "ORDER BY installed_rank")]
    assert types == ["SQL", "UNDO_SQL"]


def test_rehearsal_dangerous_blocks_and_safe_rewrite_does_not(server_dsn: str, tmp_path: Path) -> None:
    from workbench.databases import drop_database
    from workbench.migrations.rehearse import rehearse

    results = {}
    try:
        for example in ("dangerous", "dangerous-rewrite"):
            results[example] = rehearse(EXAMPLES / example, "shop", clients=6, jobs=2, duration=6,
                                        scale=0.5, dsn=server_dsn, database="wbtest_rehearse",
                                        out=tmp_path / example, progress=False).summary
    finally:
        drop_database("wbtest_rehearse", server_dsn)
    bad, good = results["dangerous"], results["dangerous-rewrite"]
    assert bad["schema_restored"] and good["schema_restored"]
    assert bad["apply"]["error"] is None and good["apply"]["error"] is None
    assert bad["failures"] == [] and good["failures"] == []
    assert bad["lock_waits"]["blocked_by_migration"]["sessions"] >= 2
    assert good["lock_waits"]["blocked_by_migration"]["sessions"] < \
        bad["lock_waits"]["blocked_by_migration"]["sessions"]
    assert any("ALTER COLUMN quantity TYPE bigint" in q for q in bad["lock_waits"]["blocking_statements"])
    assert bad["failed"] == 0 and [m["label"] for m in bad["marks"]] == ["apply", "undo"]


@pytest.mark.slow
def test_rehearsal_reports_an_invalid_index_as_a_failure(server_dsn: str, tmp_path: Path) -> None:
    from workbench.databases import drop_database
    from workbench.migrations.rehearse import rehearse

    folder = tmp_path / "m"
    folder.mkdir()
    # An index ON ONLY a partitioned table stays INVALID until every partition has its own.
    (folder / "V2__partitioned.sql").write_text(
        "CREATE TABLE orders.ledger (id bigint, at date) PARTITION BY RANGE (at);\n"
        "CREATE TABLE orders.ledger_2024 PARTITION OF orders.ledger FOR VALUES FROM "
        "('2024-01-01') TO ('2025-01-01');\n"
        "CREATE INDEX ledger_at_idx ON ONLY orders.ledger (at);\n")
    (folder / "U2__partitioned.sql").write_text("DROP TABLE orders.ledger;\n")
    try:
        summary = rehearse(folder, "shop", clients=2, jobs=1, duration=3, scale=0.02,
                           dsn=server_dsn, database="wbtest_rehearse_invalid",
                           out=tmp_path / "r", progress=False).summary
    finally:
        drop_database("wbtest_rehearse_invalid", server_dsn)
    assert summary["invalid_indexes"] == {"apply": ["orders.ledger_at_idx"], "undo": []}
    assert summary["failures"] == ["INVALID index orders.ledger_at_idx after the apply"]


SQUAWK_EXAMPLES = sorted((REPO / "datasets").glob("*/migration-examples/*/V2__*.sql"))


@pytest.mark.parametrize("path", SQUAWK_EXAMPLES, ids=lambda p: f"{p.parts[-5]}-{p.parent.name}")
def test_example_findings_agree_with_squawk_itself(path: Path) -> None:
    """The real squawk (the pinned squawk-cli) finds the same rules on every example."""
    out = subprocess.run([squawk_binary(), "--reporter", "json", str(path)], capture_output=True,
                         text=True, check=False).stdout  # squawk exits 1 when it finds something
    theirs = by_statement(path, [(d["line"] + 1, d["rule_name"]) for d in json.loads(out)])
    ours = by_statement(path, [(f.line, f.rule) for f in lint(path).findings
                               if RULE_TABLE[f.rule].origin == "squawk"])
    assert dict(theirs) == dict(ours)
