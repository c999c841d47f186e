"""Importing a live server as a dataset, on a real "production": shop loaded at a small scale with
a workload in pg_stat_statements. The import reads no row and writes nothing there; the dataset
loads; its database looks like the source to the planner; its workload runs; bad input is refused
with one line.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from workbench.cli import main
from workbench.connect import connect
from workbench.databases import create_database, drop_database
from workbench.datasets import get_dataset, read_dataset
from workbench.dsn import with_database
from workbench.errors import WorkbenchError
from workbench.importer import import_dataset
from workbench.importer.fidelity import DISTINCT_RANGE, NULL_FRAC_TOLERANCE, fidelity
from workbench.importer.folder import write_folder
from workbench.loader import load
from workbench.runs import RunOptions, run_workload

SCALE = 0.05   # order_items: 45,000 rows, more than ANALYZE samples (30,000)
TABLES = sorted(get_dataset("shop").tables)


def _counters(dsn: str) -> dict[str, tuple[int, ...]]:
    """Scans, tuples written and blocks touched per table, once every other session is gone
    (a session flushes its statistics as it exits)."""
    with connect(dsn) as conn:
        for _ in range(100):
            others = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                  "current_database() AND pid <> pg_backend_pid()").fetchone()[0]
            if not others:
                break
            time.sleep(0.05)
        rows = conn.execute(
            "SELECT t.schemaname || '.' || t.relname, t.seq_scan, coalesce(t.idx_scan, 0), "
            "       t.n_tup_ins + t.n_tup_upd + t.n_tup_del, "
            "       coalesce(io.heap_blks_read, 0) + coalesce(io.heap_blks_hit, 0), "
            "       coalesce(io.idx_blks_read, 0) + coalesce(io.idx_blks_hit, 0), "
            "       coalesce(io.toast_blks_read, 0) + coalesce(io.toast_blks_hit, 0) "
            "FROM pg_stat_user_tables t JOIN pg_statio_user_tables io USING (relid) "
            "WHERE t.schemaname <> 'workbench'").fetchall()
        objects = conn.execute("SELECT count(*) FROM pg_class").fetchone()[0]
    return {r[0]: tuple(r[1:]) for r in rows} | {"pg_class objects": (objects,)}


@pytest.fixture(scope="module")
def production(server_dsn: str, tmp_path_factory: pytest.TempPathFactory):
    """shop as the stand-in production server: loaded, a workload run, autovacuum off (so that
    nothing but the test touches its tables)."""
    name = f"wbprod_{uuid.uuid4().hex[:8]}"
    load("shop", scale=SCALE, database=name, dsn=server_dsn, progress=False)
    with connect(server_dsn, database=name) as conn:
        for table in TABLES:
            conn.execute(sql.SQL("ALTER TABLE {} SET (autovacuum_enabled = false)")
                         .format(sql.Identifier(*table.split("."))))
    run_workload("shop", database=name, dsn=server_dsn, progress=False,
                 out=tmp_path_factory.mktemp("run") / "run",
                 options=RunOptions(clients=2, jobs=2, duration=None, transactions=150))
    yield with_database(server_dsn, name)
    drop_database(name, server_dsn)


@pytest.fixture(scope="module")
def imported(production: str, tmp_path_factory: pytest.TempPathFactory):
    """The import, with the source's counters before and after."""
    out = tmp_path_factory.mktemp("datasets") / "prod"
    before = _counters(production)
    result = import_dataset(production, out, top=50)
    after = _counters(production)
    return result, before, after


@pytest.fixture(scope="module")
def clone(imported, server_dsn: str):
    result = imported[0]
    name = f"wbclone_{uuid.uuid4().hex[:8]}"
    loaded = load(result.out, scale=1, database=name, dsn=server_dsn, progress=False)
    yield loaded
    drop_database(name, server_dsn)


def test_the_import_reads_no_row_and_writes_nothing(imported, production: str) -> None:
    _result, before, after = imported
    assert set(before) >= set(TABLES)
    assert after == before
    # the same measure sees a read: one row by primary key, one table scan
    with connect(production) as conn:
        conn.execute("SELECT status FROM orders.orders WHERE id = 1").fetchone()
        conn.execute("SELECT sum(price_cents) FROM catalog.products").fetchone()
    moved = _counters(production)
    assert moved["orders.orders"][1] > before["orders.orders"][1]        # idx_scan
    assert moved["catalog.products"][0] > before["catalog.products"][0]  # seq_scan


def test_the_folder_is_an_ordinary_dataset(imported) -> None:
    result = imported[0]
    dataset = read_dataset(result.out)
    assert sorted(dataset.tables) == TABLES
    assert {s.name for s in dataset.services} == {"accounts", "catalog", "orders", "payments"}
    assert dataset.tables["orders.orders"].rows_per_scale == 15_000   # reltuples at scale 1
    assert (result.out / "migrations" / "V1__schema.sql").read_text().count("CREATE TABLE") == 8
    doc = json.loads((result.out / "import.json").read_text())
    assert doc["source"] == result.source and doc["source"].endswith("/" + result.source.split(
        "/")[-1]) and "wbprod_" in doc["source"]
    # the workload: the shop mix's statements, weighted by calls, each with its reasons
    sources = " ".join(s["source"] for s in doc["statements"])
    for fragment in ("WHERE customer_id = $1", "WHERE email = $1 || $2 || $3",
                     "o.created_at >= timestamptz $1", "UPDATE catalog.inventory"):
        assert fragment in sources
    weights = {s.name: s.weight for s in dataset.scripts}
    calls = {s["script"]: s["calls"] for s in doc["statements"]}
    assert weights == calls
    assert all(s["reason"] for s in doc["skipped_statements"])
    assert not any("password" in p.read_text() for p in result.out.rglob("*") if p.is_file())


def test_the_clone_looks_like_the_source_to_the_planner(clone, production: str,
                                                       server_dsn: str) -> None:
    report = fidelity(production, clone.database, dsn=server_dsn)
    cols, summary = report.columns, report.summary()
    assert set(cols["table"]) == set(TABLES) and len(cols) == 61
    assert cols["null_frac_diff"].abs().max() <= NULL_FRAC_TOLERANCE
    assert cols.loc[cols["table"] == "orders.orders"].set_index("column").loc[
        "note", "null_frac_clone"] > 0.9                      # the rare note is rare there too
    many = cols[cols["distinct_source"] > 100]
    assert len(many) >= 30
    assert many["distinct_ratio"].between(*DISTINCT_RANGE).all(), \
        many[["table", "column", "distinct_ratio"]].to_string()
    assert summary["compared"] >= 8
    assert summary["same_shape"] >= 0.9 * summary["compared"], report.statements.to_string()
    assert "within 0.02" in report.text()


def test_restored_statistics_equal_the_source(clone, production: str, server_dsn: str) -> None:
    report = fidelity(production, clone.database, dsn=server_dsn, draws=1,
                      restore_statistics=True)
    assert report.restored is not None
    assert report.summary()["restored_same_shape"] == report.summary()["restored_compared"]
    query = ("SELECT n_distinct, most_common_vals::text, histogram_bounds::text FROM pg_stats "
             "WHERE schemaname = 'orders' AND tablename = 'orders' AND attname = 'customer_id'")
    with connect(production) as src, connect(clone.dsn) as dst:
        assert dst.execute(query).fetchone() == src.execute(query).fetchone()
    assert "reads their size in pages from disk" in report.text()


def test_the_imported_workload_runs_without_failures(clone, imported, tmp_path: Path,
                                                     server_dsn: str) -> None:
    run = run_workload(imported[0].out, database=clone.database, dsn=server_dsn, progress=False,
                       out=tmp_path / "run",
                       options=RunOptions(clients=4, jobs=2, duration=3))
    assert run.summary["failed"] == 0
    assert run.summary["transactions"] > 100
    ran = [name for name, s in run.summary["scripts"].items() if s["transactions"]]
    assert len(ran) >= 8


def _checksum(dsn: str, table: str) -> str:
    with connect(dsn) as conn:
        return conn.execute(sql.SQL(
            "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {} t").format(
                sql.Identifier(*table.split(".")))).fetchone()[0]


def test_any_scale_loads_with_valid_keys_and_the_seed_decides_the_bytes(imported,
                                                                         server_dsn: str) -> None:
    """Unique keys are built and foreign keys validated by the loader: a load that finishes
    kept them. Below and above scale 1, and twice with one seed."""
    out = imported[0].out
    names = [f"wbscale_{uuid.uuid4().hex[:8]}" for _ in range(4)]
    try:
        small = load(out, scale=0.1, seed=7, database=names[0], dsn=server_dsn, progress=False)
        again = load(out, scale=0.1, seed=7, database=names[1], dsn=server_dsn, progress=False)
        other = load(out, scale=0.1, seed=8, database=names[2], dsn=server_dsn, progress=False)
        big = load(out, scale=2, seed=7, database=names[3], dsn=server_dsn, progress=False)
        assert small.tables["orders.order_items"]["rows"] == 4_500
        assert big.tables["orders.order_items"]["rows"] == 90_000
        for table in ("orders.orders", "accounts.customers"):
            assert _checksum(small.dsn, table) == _checksum(again.dsn, table)
            assert _checksum(small.dsn, table) != _checksum(other.dsn, table)
        with connect(big.dsn) as conn:
            emails = conn.execute("SELECT count(DISTINCT email), count(*) "
                                  "FROM accounts.customers").fetchone()
        assert emails == (5_000, 5_000)
    finally:
        for name in names:
            drop_database(name, server_dsn)


def test_the_cli_writes_json_and_refuses_an_existing_folder(production: str, tmp_path: Path,
                                                           capsys) -> None:
    out = tmp_path / "cli_prod"
    assert main(["import", production, "--out", str(out), "--top", "5", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["out"] == str(out) and len(doc["statements"]) <= 5
    assert doc["tables"]["orders.orders"]["rows"] == 15_000
    assert main(["import", production, "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "already exists (pass --replace" in err
    (out / "marker").write_text("kept until replaced")
    assert main(["import", production, "--out", str(out), "--replace", "--top", "0"]) == 0
    assert not (out / "marker").exists() and (out / "dataset.toml").is_file()


def test_a_folder_that_is_not_a_dataset_is_never_replaced(production: str, tmp_path: Path
                                                          ) -> None:
    out = tmp_path / "notes"
    out.mkdir()
    (out / "mine.txt").write_text("precious")
    with pytest.raises(WorkbenchError, match="is not a dataset folder"):
        import_dataset(production, out, top=0, replace=True)
    assert (out / "mine.txt").read_text() == "precious"


def test_a_failed_write_leaves_no_folder_and_keeps_the_old_one(tmp_path: Path) -> None:
    bad = {"dataset.toml": 'name = "x"\nbogus = 1\n'}
    with pytest.raises(WorkbenchError, match="unknown field bogus"):
        write_folder(tmp_path / "x", bad, replace=False)
    assert list(tmp_path.iterdir()) == []
    good = {"dataset.toml": 'name = "x"\n'}
    write_folder(tmp_path / "x", good, replace=False)
    with pytest.raises(WorkbenchError):
        write_folder(tmp_path / "x", bad, replace=True)
    assert [p.name for p in tmp_path.iterdir()] == ["x"]
    assert (tmp_path / "x" / "dataset.toml").read_text() == 'name = "x"\n'


# -- privileges, a missing extension, types without a generator -----------------------------------


@pytest.fixture
def reader(production: str, server_dsn: str):
    """A login role that may connect and see the schemas, nothing more (until granted)."""
    role = f"wbreader_{uuid.uuid4().hex[:8]}"
    database = conninfo_to_dict(production)["dbname"]
    with connect(production) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
            sql.Identifier(database), sql.Identifier(role)))
        for schema in ("accounts", "catalog", "orders", "payments", "workbench"):
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
                sql.Identifier(schema), sql.Identifier(role)))
    yield role, make_conninfo(production, user=role)
    with connect(production) as conn:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def _grant(production: str, statement: str, role: str) -> None:
    with connect(production) as conn:
        conn.execute(sql.SQL(statement).format(sql.Identifier(role)))


def test_privileges_are_named_in_one_line(reader, production: str, tmp_path: Path,
                                          server_dsn: str) -> None:
    role, dsn = reader
    # other tests' runs reset pg_stat_statements server-wide: the source's workload again
    run_workload("shop", database=conninfo_to_dict(production)["dbname"], dsn=server_dsn,
                 progress=False, out=tmp_path / "run",
                 options=RunOptions(clients=1, jobs=1, duration=None, transactions=60))
    with pytest.raises(WorkbenchError, match=rf"role {role} cannot read pg_stats of 8 tables.*"
                       rf"GRANT pg_read_all_data TO {role}"):
        import_dataset(dsn, tmp_path / "a", top=0)
    for schema in ("accounts", "catalog", "orders", "payments"):
        _grant(production, f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {{}}", role)
    with pytest.raises(WorkbenchError, match=rf"GRANT pg_read_all_stats TO {role}\)$"):
        import_dataset(dsn, tmp_path / "b", top=10)
    assert import_dataset(dsn, tmp_path / "c", top=0).scripts == []   # no statements asked
    _grant(production, "GRANT pg_read_all_stats TO {}", role)
    result = import_dataset(dsn, tmp_path / "d", top=10)
    assert len(result.scripts) >= 5
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.fixture
def odd_source(server_dsn: str):
    """A database without pg_stat_statements, with columns of a type no generator makes."""
    name = f"wbodd_{uuid.uuid4().hex[:8]}"
    dsn = create_database(name, server_dsn)
    with connect(dsn) as conn:
        conn.execute("DROP EXTENSION IF EXISTS pg_stat_statements")
        conn.execute("CREATE SCHEMA app")
        conn.execute("CREATE TABLE app.places (id bigint PRIMARY KEY, spot point NOT NULL)")
        conn.execute("CREATE TABLE app.visits (id bigint PRIMARY KEY, "
                     "place_id bigint REFERENCES app.places, at point, n integer NOT NULL)")
        conn.execute("CREATE TABLE app.notes (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                     "body text, doc jsonb, tags integer[], raw json, seq bigserial)")
        conn.execute("CREATE TABLE app.log (at date NOT NULL, n integer) PARTITION BY RANGE (at)")
        conn.execute("CREATE TABLE app.log_2024 PARTITION OF app.log "
                     "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')")
        conn.execute("INSERT INTO app.log SELECT date '2024-01-01' + g, g FROM generate_series(1, 99) g")
        conn.execute("INSERT INTO app.places SELECT g, point(g, g) FROM generate_series(1, 50) g")
        conn.execute("INSERT INTO app.visits SELECT g, NULL, point(g, 1), g % 7 "
                     "FROM generate_series(1, 300) g")
        conn.execute("INSERT INTO app.notes OVERRIDING SYSTEM VALUE SELECT g, CASE WHEN g % 4 = 0 THEN repeat(md5(g::text), "
                     "60) ELSE repeat('n', g) END, jsonb_build_object('k', g % 9, 'v', "
                     "repeat('x', g % 30)), ARRAY[g % 3, g % 5], json_build_object('g', g), g "
                     "FROM generate_series(1, 80) g")
        conn.execute("ANALYZE")
    yield dsn
    drop_database(name, server_dsn)


def test_a_missing_extension_is_named_and_top_0_imports_without_it(odd_source: str,
                                                                   tmp_path: Path) -> None:
    with pytest.raises(WorkbenchError, match=r"pg_stat_statements is not installed.*--top 0"):
        import_dataset(odd_source, tmp_path / "odd")
    assert not (tmp_path / "odd").exists()


def test_types_without_a_generator_are_skipped_with_the_reason(odd_source: str, tmp_path: Path,
                                                               server_dsn: str) -> None:
    result = import_dataset(odd_source, tmp_path / "odd", top=0)
    places, visits = result.tables["app.places"], result.tables["app.visits"]
    assert "spot is NOT NULL and cannot be generated" in places.skipped
    assert "point" in places.skipped
    assert visits.skipped == "references app.places, which is not generated"
    at = next(c for c in visits.columns if c.column == "at")
    assert at.skipped and "point" in at.reason
    assert not result.tables["app.notes"].skipped
    log = result.tables["app.log"]
    assert log.by_partition and not log.skipped and log.depends_on == ["app.log_2024"]
    readme = (result.out / "README.md").read_text()
    assert "app.places" in readme and "cannot be generated" in readme
    name = f"wbodd_clone_{uuid.uuid4().hex[:6]}"
    loaded = load(result.out, database=name, dsn=server_dsn, progress=False)
    try:
        assert loaded.tables["app.notes"]["rows"] == 80
        assert loaded.tables["app.log"]["rows"] == loaded.tables["app.log_2024"]["rows"] == 99
        assert loaded.tables["app.places"]["rows"] == 0
        width = ("SELECT attname, avg_width FROM pg_stats WHERE schemaname = 'app' "
                 "AND tablename = 'notes' ORDER BY 1")
        with connect(odd_source) as src, connect(loaded.dsn) as dst:
            before, after = dict(src.execute(width).fetchall()), dict(dst.execute(width).fetchall())
        for column in ("body", "doc", "tags", "raw"):   # wide text, jsonb, array, json
            assert 0.6 < after[column] / before[column] < 1.6, (column, before, after)
        with connect(loaded.dsn) as conn:   # identity ALWAYS overridden; serial moved past
            top = conn.execute("SELECT max(seq) FROM app.notes").fetchone()[0]
            new = conn.execute("INSERT INTO app.notes (body) VALUES ('new') RETURNING seq")
            assert new.fetchone()[0] > top
    finally:
        drop_database(name, server_dsn)


@pytest.fixture
def partitioned_source(server_dsn: str):
    """Partitioned tables as autovacuum leaves them: every partition analysed, no partitioned
    table (autovacuum never analyses one). Range by time with a default partition and uneven
    sizes, list by region, hash by id; foreign keys from partitioned tables to a plain one."""
    name = f"wbparts_{uuid.uuid4().hex[:8]}"
    dsn = create_database(name, server_dsn)
    with connect(dsn) as conn:
        for statement in (
            "CREATE SCHEMA app",
            "CREATE TABLE app.users (id bigint PRIMARY KEY, region text NOT NULL)",
            "CREATE TABLE app.events (id bigserial, at timestamptz NOT NULL, "
            "  user_id bigint NOT NULL REFERENCES app.users, kind text NOT NULL, "
            "  PRIMARY KEY (id, at)) PARTITION BY RANGE (at)",
            "CREATE TABLE app.events_2024_01 PARTITION OF app.events "
            "  FOR VALUES FROM ('2024-01-01') TO ('2024-02-01')",
            "CREATE TABLE app.events_2024_02 PARTITION OF app.events "
            "  FOR VALUES FROM ('2024-02-01') TO ('2024-03-01')",
            "CREATE TABLE app.events_2024_03 PARTITION OF app.events "
            "  FOR VALUES FROM ('2024-03-01') TO ('2024-04-01')",
            "CREATE TABLE app.events_other PARTITION OF app.events DEFAULT",
            "CREATE INDEX ON app.events (user_id)",
            "CREATE TABLE app.tickets (id bigint, region text NOT NULL, body text, "
            "  PRIMARY KEY (id, region)) PARTITION BY LIST (region)",
            "CREATE TABLE app.tickets_eu PARTITION OF app.tickets FOR VALUES IN ('eu')",
            "CREATE TABLE app.tickets_am PARTITION OF app.tickets FOR VALUES IN ('us', 'ca')",
            "CREATE TABLE app.sessions (id bigint PRIMARY KEY, "
            "  user_id bigint REFERENCES app.users, started date NOT NULL) "
            "  PARTITION BY HASH (id)",
            *(f"CREATE TABLE app.sessions_{r} PARTITION OF app.sessions "
              f"FOR VALUES WITH (MODULUS 4, REMAINDER {r})" for r in range(4)),
            "INSERT INTO app.users SELECT g, (ARRAY['eu','us','ca'])[1 + g % 3] "
            "  FROM generate_series(1, 2000) g",
            # January 3000 rows, February 6000, March 1000, the default partition none
            "INSERT INTO app.events (at, user_id, kind) SELECT timestamptz '2024-01-01 00:00Z' + "
            "  (g * interval '1 month' / 3001), 1 + g % 2000, (ARRAY['view','buy'])[1 + g % 2] "
            "  FROM generate_series(1, 3000) g",
            "INSERT INTO app.events (at, user_id, kind) SELECT timestamptz '2024-02-01 00:00Z' + "
            "  (g * interval '28 days' / 6001), 1 + g % 500, 'view' FROM generate_series(1, 6000) g",
            "INSERT INTO app.events (at, user_id, kind) SELECT timestamptz '2024-03-01 00:00Z' + "
            "  (g * interval '1 day'), 1 + g % 2000, 'buy' FROM generate_series(1, 30) g",
            "INSERT INTO app.tickets SELECT g, (ARRAY['eu','us','ca','us'])[1 + g % 4], "
            "  repeat('t', g % 50) FROM generate_series(1, 4000) g",
            "INSERT INTO app.sessions SELECT g, 1 + g % 2000, date '2024-01-01' + g % 90 "
            "  FROM generate_series(1, 5000) g",
            # two levels: January by day range, then by kind
            "CREATE TABLE app.metrics (at date NOT NULL, kind text NOT NULL, v int) "
            "  PARTITION BY RANGE (at)",
            "CREATE TABLE app.metrics_jan PARTITION OF app.metrics FOR VALUES FROM "
            "  ('2024-01-01') TO ('2024-02-01') PARTITION BY LIST (kind)",
            "CREATE TABLE app.metrics_jan_a PARTITION OF app.metrics_jan FOR VALUES IN ('a')",
            "CREATE TABLE app.metrics_jan_b PARTITION OF app.metrics_jan FOR VALUES IN ('b')",
            "CREATE TABLE app.metrics_feb PARTITION OF app.metrics FOR VALUES FROM "
            "  ('2024-02-01') TO ('2024-03-01')",
            "INSERT INTO app.metrics SELECT date '2024-01-01' + g % 59, "
            "  CASE WHEN g % 3 = 0 THEN 'a' ELSE 'b' END, g FROM generate_series(1, 6000) g",
            # multi-column foreign keys: into a plain table, and into a list-partitioned one
            "CREATE TABLE app.orders (region text, id bigint, total numeric(10,2), "
            "  PRIMARY KEY (region, id))",
            "CREATE TABLE app.lines (order_region text, order_id bigint, n int NOT NULL, "
            "  FOREIGN KEY (order_region, order_id) REFERENCES app.orders)",
            "CREATE TABLE app.replies (ticket_id bigint, region text, "
            "  FOREIGN KEY (ticket_id, region) REFERENCES app.tickets)",
            "INSERT INTO app.orders SELECT (ARRAY['eu','us'])[1 + g % 2], g / 2, g % 997 "
            "  FROM generate_series(1, 3000) g",
            # hot orders: a tenth of the lines on order (us, 7); a twentieth without an order
            "INSERT INTO app.lines SELECT CASE WHEN g % 20 = 0 THEN NULL WHEN g % 10 = 1 "
            "  THEN 'us' ELSE (ARRAY['eu','us'])[1 + (g * 7) % 3000 % 2] END, CASE WHEN "
            "  g % 20 = 0 THEN NULL WHEN g % 10 = 1 THEN 7 ELSE (g * 7) % 3000 / 2 END, g % 5 "
            "  FROM generate_series(1, 8000) g WHERE (g * 7) % 3000 > 1",
            "INSERT INTO app.replies SELECT id, region FROM app.tickets WHERE id % 3 = 0",
            # a key that is itself a foreign key (1:1), referenced in turn
            "CREATE TABLE app.prefs (user_id bigint PRIMARY KEY REFERENCES app.users, "
            "  theme text)",
            "CREATE TABLE app.pref_changes (id bigint PRIMARY KEY, "
            "  user_id bigint NOT NULL REFERENCES app.prefs)",
            "INSERT INTO app.prefs SELECT id, 'dark' FROM app.users WHERE id % 2 = 0",
            "INSERT INTO app.pref_changes SELECT g, 2 * (1 + g % 1000) "
            "  FROM generate_series(1, 3000) g",
        ):
            conn.execute(statement)
        leaves = conn.execute("SELECT t.relid::regclass::text FROM unnest('{app.events,"
                              "app.tickets,app.sessions,app.metrics}'::regclass[]) AS r(oid), "
                              "pg_partition_tree(r.oid) AS t WHERE t.isleaf").fetchall()
        conn.execute("ANALYZE app.users, app.orders, app.lines, app.replies, app.prefs, "
                     "app.pref_changes")
        for (leaf,) in leaves:
            conn.execute(f"ANALYZE {leaf}")
    yield dsn
    drop_database(name, server_dsn)


def _leaf_rows(dsn: str) -> dict[str, int]:
    """Rows of every plain table and partition of schema app."""
    with connect(dsn) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'app' AND c.relkind = 'r' ORDER BY 1").fetchall()]
        return {name: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
            sql.Identifier("app", name))).fetchone()[0] for name in names}


def test_partitioned_tables_are_generated_partition_by_partition(
        partitioned_source: str, tmp_path: Path, server_dsn: str) -> None:
    """Range and list partitions each from their own statistics, with the source's row count per
    partition (an empty default partition stays empty, two levels of partitioning too); a
    hash-partitioned table through its root; foreign keys valid; the sequence of a partitioned
    table past its rows."""
    result = import_dataset(partitioned_source, tmp_path / "parts", top=0)
    events, sessions = result.tables["app.events"], result.tables["app.sessions"]
    assert events.by_partition and result.tables["app.tickets"].by_partition
    assert result.tables["app.metrics"].depends_on == ["app.metrics_feb", "app.metrics_jan_a",
                                                       "app.metrics_jan_b"]   # two levels
    assert events.depends_on == ["app.events_2024_01", "app.events_2024_02",
                                 "app.events_2024_03"]
    assert result.tables["app.events_other"].skipped == "empty on the source"
    assert not sessions.by_partition and not sessions.skipped
    assert "largest partition" in " ".join(sessions.notes)
    assert {result.tables[f"app.sessions_{r}"].filled_by for r in range(4)} == {"app.sessions"}
    manifest = (result.out / "dataset.toml").read_text()
    assert 'depends_on = ["app.events_2024_01"' in manifest
    assert not (result.out / "generate" / "app.sessions_0.sql").exists()
    readme = (result.out / "README.md").read_text()
    line = next(ln for ln in readme.splitlines() if ln.startswith("| app.sessions_0 |"))
    assert line.endswith("| through the root | generated through app.sessions |"), line
    assert "INSERT INTO app.events_2024_02 " in \
        (result.out / "generate" / "app.events_2024_02.sql").read_text()
    name = f"wbparts_clone_{uuid.uuid4().hex[:6]}"
    loaded = load(result.out, database=name, dsn=server_dsn, progress=False)
    try:
        source, clone = _leaf_rows(partitioned_source), _leaf_rows(loaded.dsn)
        for leaf in ("events_2024_01", "events_2024_02", "events_2024_03", "events_other",
                     "tickets_eu", "tickets_am", "users", "metrics_jan_a", "metrics_jan_b",
                     "metrics_feb"):
            assert clone[leaf] == source[leaf], (leaf, source, clone)
        assert sum(clone[f"sessions_{r}"] for r in range(4)) == 5000
        assert all(clone[f"sessions_{r}"] > 800 for r in range(4)), clone  # routed by hash
        with connect(loaded.dsn) as conn:
            plan = conn.execute("EXPLAIN (FORMAT JSON) SELECT count(*) FROM app.events WHERE "
                                "at >= '2024-02-03' AND at < '2024-02-05'").fetchone()[0]
            assert "events_2024_02" in json.dumps(plan) and "events_2024_01" not in json.dumps(plan)
            top = conn.execute("SELECT max(id) FROM app.events").fetchone()[0]
            new = conn.execute("INSERT INTO app.events (at, user_id, kind) VALUES "
                               "('2024-03-02', 1, 'buy') RETURNING id").fetchone()[0]
            assert new > top
    finally:
        drop_database(name, server_dsn)


def test_multi_column_foreign_keys_copy_a_parent_row(partitioned_source: str, tmp_path: Path,
                                                      server_dsn: str) -> None:
    """Each child row copies one parent row's whole key (the load validates every foreign key);
    the key's null share, its hot parent and the distinct values of its most distinct column are
    kept (the parent generates the id of its (region, id) key unique, so the pairs cannot all
    be the source's). Into a list-partitioned table the rows come from every partition; a key
    that is itself a foreign key is copied as its table generates it."""
    result = import_dataset(partitioned_source, tmp_path / "keys", top=0)
    lines, replies = result.tables["app.lines"], result.tables["app.replies"]
    assert not lines.skipped and [k.columns for k in lines.row_keys] == [
        ("order_region", "order_id")]
    # into a list-partitioned table: rows of its partitions; through a key that is a key itself
    assert not replies.skipped and [p.name for p in replies.row_keys[0].parts] == [
        "app.tickets_am", "app.tickets_eu"]
    assert not result.tables["app.pref_changes"].skipped
    name = f"wbkeys_clone_{uuid.uuid4().hex[:6]}"
    loaded = load(result.out, database=name, dsn=server_dsn, progress=False)
    try:
        with connect(loaded.dsn) as conn:
            keys = conn.execute("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND "
                                "conrelid = ANY('{app.lines,app.replies,app.pref_changes}'"
                                "::regclass[]) AND convalidated AND conparentid = 0"
                                ).fetchone()[0]
            assert keys == 3
            regions = dict(conn.execute("SELECT region, count(*) FROM app.replies "
                                        "GROUP BY 1").fetchall())
            assert regions.keys() == {"eu", "us", "ca"}   # every partition's rows referenced
            total, nulls, hot, parents = conn.execute(
                "SELECT count(*), count(*) FILTER (WHERE order_id IS NULL), "
                "max(c) FILTER (WHERE order_id IS NOT NULL), count(DISTINCT order_id) "
                "FROM (SELECT *, count(*) OVER (PARTITION BY order_region, order_id) "
                "AS c FROM app.lines) l").fetchone()
        with connect(partitioned_source) as conn:
            src_total, src_nulls, src_parents = conn.execute(
                "SELECT count(*), count(*) FILTER (WHERE order_id IS NULL), count(DISTINCT "
                "order_id) FROM app.lines").fetchone()
        assert total == src_total
        assert abs(nulls / total - src_nulls / src_total) < 0.02
        assert hot > 0.05 * total                      # the hot order stays hot
        assert 0.9 < parents / src_parents < 1.1, (parents, src_parents)
    finally:
        drop_database(name, server_dsn)


def test_a_bad_dsn_or_schema_is_one_line(production: str, tmp_path: Path) -> None:
    with pytest.raises(WorkbenchError, match="schema 'nope' does not exist"):
        import_dataset(production, tmp_path / "x", schemas=["nope"], top=0)
    with pytest.raises(WorkbenchError, match="not accepting connections"):
        import_dataset("host=127.0.0.1 port=1 dbname=x connect_timeout=2", tmp_path / "y")
    with pytest.raises(WorkbenchError, match="must be lower-case"):
        import_dataset(production, tmp_path / "Bad-Name", top=0)


@pytest.mark.pg15
def test_a_postgresql_15_source(pg15_dsn: str, server_dsn: str, tmp_path: Path) -> None:
    """pg_dump of the workbench's PostgreSQL 18 reads a 15 server; the copy loads on 18."""
    name = f"wbprod15_{uuid.uuid4().hex[:8]}"
    load("shop", scale=0.02, database=name, dsn=pg15_dsn, progress=False)
    clone_name = f"wbclone15_{uuid.uuid4().hex[:8]}"
    try:
        source = with_database(pg15_dsn, name)
        with connect(source) as conn:
            conn.execute("SELECT id FROM accounts.customers WHERE email = 'customer7@example.com'")
        result = import_dataset(source, tmp_path / "prod15", top=50)
        assert result.server_version.startswith("15")
        assert any("email = $1" in p.statement.query for p in result.scripts)
        load(result.out, database=clone_name, dsn=server_dsn, progress=False)
        report = fidelity(source, clone_name, dsn=server_dsn)
        assert report.columns["null_frac_diff"].abs().max() <= NULL_FRAC_TOLERANCE
        assert report.summary()["distinct_within"] == report.summary()["distinct_columns"]
    finally:
        drop_database(clone_name, server_dsn)
        drop_database(name, pg15_dsn)

