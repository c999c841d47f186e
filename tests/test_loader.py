"""Loading datasets into real databases: deterministic, scaled, skewed, safe."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from workbench.connect import connect
from workbench.databases import drop_database, set_meta
from workbench.datasets import DATASETS_DIR, get_dataset
from workbench.errors import WorkbenchError
from workbench.loader import check_loaded, ensure_loaded, load
from workbench.tools import pgbench_path

SCALE = 0.05


@pytest.fixture
def databases(server_dsn: str):
    names: list[str] = []

    def new() -> str:
        names.append(f"wbload_{uuid.uuid4().hex[:8]}")
        return names[-1]

    yield new
    for name in names:
        drop_database(name, server_dsn)


def checksums(dsn: str, dataset: str) -> dict[str, str]:
    out = {}
    with connect(dsn) as conn:
        for table in get_dataset(dataset).tables:
            ident = sql.Identifier(*table.split("."))
            out[table] = conn.execute(sql.SQL(
                "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {} t"
            ).format(ident)).fetchone()[0]
    return out


def test_same_seed_same_bytes_other_seed_other_bytes(server_dsn: str, databases) -> None:
    a = load("shop", scale=SCALE, seed=7, database=databases(), dsn=server_dsn, progress=False)
    b = load("shop", scale=SCALE, seed=7, database=databases(), dsn=server_dsn, progress=False)
    c = load("shop", scale=SCALE, seed=8, database=databases(), dsn=server_dsn, progress=False)
    first, second, third = (checksums(r.dsn, "shop") for r in (a, b, c))
    assert first == second
    differing = {t for t in first if first[t] != third[t]}
    assert differing >= {"orders.orders", "orders.order_items", "accounts.customers"}
    d = load("events", scale=0.02, seed=7, database=databases(), dsn=server_dsn, progress=False)
    e = load("events", scale=0.02, seed=7, database=databases(), dsn=server_dsn, progress=False)
    assert checksums(d.dsn, "events") == checksums(e.dsn, "events")


def test_rows_scale_linearly_and_json_contract(server_dsn: str, databases) -> None:
    small = load("shop", scale=0.02, database=databases(), dsn=server_dsn, progress=False)
    big = load("shop", scale=0.06, database=databases(), dsn=server_dsn, progress=False)
    for table, spec in get_dataset("shop").tables.items():
        assert small.tables[table]["rows"] == round(spec.rows_per_scale * 0.02)
        assert big.tables[table]["rows"] == round(spec.rows_per_scale * 0.06)
        assert big.tables[table]["bytes"] > 0
    doc = big.to_json()
    assert set(doc) == {"database", "dataset", "scale", "seed", "seconds", "tables"}
    with connect(big.dsn) as conn:
        marker = check_loaded(conn)
        assert marker["scale"] == 0.06 and marker["load_status"] == "complete"
        indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes "
                                              "WHERE schemaname = 'orders'")}
        schemas = {r[0] for r in conn.execute("SELECT nspname FROM pg_namespace")}
        foreign = {r[0] for r in conn.execute("SELECT conname FROM pg_constraint "
                                              "WHERE contype = 'f'")}
        # Vacuumed once nothing was still loading: every page all-visible, so index-only scans
        # (and so plan shapes) are the same on every load, not only when the timing was lucky.
        not_visible = conn.execute(
            "SELECT relname, relpages, relallvisible FROM pg_class WHERE relkind = 'r' "
            "AND relnamespace::regnamespace::text IN ('accounts', 'catalog', 'orders', 'payments') "
            "AND relallvisible < relpages").fetchall()
    # The migration's keys and indexes are all there, though the loader builds them after the data.
    assert {"orders_pkey", "order_items_pkey", "orders_status_idx"} <= indexes
    assert foreign == {"addresses_customer_fk", "inventory_product_fk", "order_items_order_fk",
                       "refunds_payment_fk"}
    assert {"accounts", "catalog", "orders", "payments", "workbench"} <= schemas
    assert not_visible == []


def index_column_lists(dsn: str) -> set[tuple[str, tuple[str, ...]]]:
    """(schema.table, key columns) of every index in the database."""
    with connect(dsn) as conn:
        rows = conn.execute("""
            SELECT n.nspname || '.' || t.relname,
                   array_agg(a.attname ORDER BY k.ord) FILTER (WHERE k.ord <= i.indnkeyatts)
              FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
              JOIN pg_namespace n ON n.oid = t.relnamespace
              CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
              LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
             WHERE n.nspname NOT IN ('pg_catalog', 'pg_toast', 'workbench')
             GROUP BY i.indexrelid, n.nspname, t.relname""").fetchall()
    return {(table, tuple(c for c in columns if c)) for table, columns in rows}


def test_hot_products_take_a_third_of_order_items(server_dsn: str, databases) -> None:
    result = load("shop", scale=0.2, database=databases(), dsn=server_dsn, progress=False)
    with connect(result.dsn) as conn:
        share = conn.execute("""
            WITH per AS (SELECT product_id, count(*) AS c FROM orders.order_items GROUP BY 1),
                 ranked AS (SELECT c, row_number() OVER (ORDER BY c DESC) AS rn FROM per)
            SELECT sum(c) FILTER (WHERE rn <= (SELECT count(*) FROM catalog.products) / 100)::float8
                   / sum(c) FROM ranked""").fetchone()[0]
    assert share >= 1 / 3


@pytest.mark.parametrize("name", ["shop", "events", "tpcb"])
def test_every_workload_script_runs_without_failures(name: str, server_dsn: str, databases) -> None:
    result = load(name, scale=0.05, database=databases(), dsn=server_dsn, progress=False)
    dataset = get_dataset(name)
    params = conninfo_to_dict(result.dsn)
    env = {"PGHOST": str(params["host"]), "PGPORT": str(params["port"]), "PGUSER": "postgres",
           "PATH": "/usr/bin:/bin"}
    defines = [f"-D{k}={v}" for k, v in dataset.variables(result.scale).items()]
    # The indexes a team would forget are really missing: no index starts with their columns.
    existing = index_column_lists(result.dsn)
    assert existing  # the primary keys at least
    for omitted in dataset.omitted_indexes:
        n = len(omitted.columns)
        assert not any(table == omitted.table and columns[:n] == omitted.columns
                       for table, columns in existing), omitted
    for script in dataset.scripts:
        proc = subprocess.run(
            [str(pgbench_path()), "-n", "-c", "8", "-j", "2", "-t", "10", *defines,
             "-f", str(script.path), result.database],
            env=env, capture_output=True, text=True, check=False, timeout=120)
        assert proc.returncode == 0, proc.stderr[-500:]
        assert "number of failed transactions: 0 " in proc.stdout, script.name
        assert "number of transactions actually processed: 80/80" in proc.stdout, script.name


def test_reload_needs_replace_and_incomplete_load_is_reported(server_dsn: str, databases) -> None:
    name = databases()
    result = load("events", scale=0.01, database=name, dsn=server_dsn, progress=False)
    with pytest.raises(WorkbenchError, match="already exists.*--replace"):
        load("events", scale=0.01, database=name, dsn=server_dsn, progress=False)
    with connect(result.dsn) as conn:
        set_meta(conn, load_status="incomplete", load_error="interrupted")
        with pytest.raises(WorkbenchError, match=r"load of events .* is incomplete \(interrupted\)"
                                                 rf".*load events --database {name} --scale 0.01 "
                                                 r"--seed 42 --replace"):
            check_loaded(conn)
        set_meta(conn, load_status="loading", load_error=None)  # as a killed loader leaves it
        with pytest.raises(WorkbenchError, match=r"incomplete \(still loading, or the loader was "
                                                 r"killed\)"):
            check_loaded(conn)
    again = load("events", scale=0.01, database=name, dsn=server_dsn, progress=False, replace=True)
    with connect(again.dsn) as conn:
        assert check_loaded(conn)["load_status"] == "complete"


def test_a_notebook_reuses_the_same_load_and_never_replaces_another(server_dsn: str,
                                                                   databases) -> None:
    """ensure_loaded (what the notebooks call) returns the database loaded at this scale and seed
    as it is, and refuses one holding another scale, another seed or no dataset, naming what it
    holds and the choices, with the data left as it was."""
    name = databases()
    load("events", scale=0.01, seed=42, database=name, dsn=server_dsn, progress=False)
    with connect(server_dsn, database=name) as conn:
        conn.execute("CREATE TABLE public.kept_by_the_user (id int)")  # gone if it were reloaded
    dsn = ensure_loaded("events", scale=0.01, seed=42, database=name, dsn=server_dsn,
                        progress=False)
    assert conninfo_to_dict(dsn)["dbname"] == name
    with pytest.raises(WorkbenchError, match=rf"database {name} holds events at scale 0.01, seed "
                                             rf"42 \(complete\), not events at scale 0.02, seed 42"
                                             r".*--replace.*events_s0p02") as err:
        ensure_loaded("events", scale=0.02, seed=42, database=name, dsn=server_dsn,
                      progress=False)
    assert "\n" not in str(err.value)
    with pytest.raises(WorkbenchError, match=r"holds events at scale 0.01, seed 42 .*, not events "
                                             r"at scale 0.01, seed 7"):
        ensure_loaded("events", scale=0.01, seed=7, database=name, dsn=server_dsn,
                      progress=False)
    with connect(server_dsn, database=name) as conn:
        assert conn.execute("SELECT to_regclass('public.kept_by_the_user')").fetchone()[0]
        marker = check_loaded(conn)
    assert (marker["scale"], marker["seed"]) == (0.01, 42)
    other = f"foreign_{uuid.uuid4().hex[:8]}"  # someone else's: no marker
    with connect(server_dsn) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(other)))
    try:
        with pytest.raises(WorkbenchError, match=rf"database {other} holds a database the "
                                                 r"workbench did not create"):
            ensure_loaded("events", scale=0.01, database=other, dsn=server_dsn, progress=False)
    finally:
        with connect(server_dsn) as conn:
            conn.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(other)))


def test_failed_load_leaves_the_database_marked_incomplete(
    server_dsn: str, databases, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(DATASETS_DIR / "shop", broken)
    generator = broken / "generate" / "orders.orders.sql"
    generator.write_text(generator.read_text().replace("ts + interval '48 hours'", "ts + (1 / 0) * interval '1 day'"))
    name = databases()
    with pytest.raises(WorkbenchError, match=r"orders\.orders\.sql: generating orders\.orders "
                                             r"failed: division by zero") as err:
        load(broken, scale=0.01, database=name, dsn=server_dsn, progress=False)
    assert "\n" not in str(err.value)
    with connect(server_dsn, database=name) as conn, pytest.raises(
        WorkbenchError, match=r"load of shop .* is incomplete \(.*division by zero.*"
                              rf"`workbench load {broken} --database {name} .*--replace`"
    ):
        check_loaded(conn)
    with pytest.raises(WorkbenchError, match="already exists.*--replace"):
        load("shop", scale=0.01, database=name, dsn=server_dsn, progress=False)


@pytest.mark.parametrize(("scale", "seed", "message"), [
    (0, 1, "scale must be a finite number > 0"), (-1, 1, "scale must be a finite number > 0"), (float("inf"), 1, "finite"), ("abc", 1, "scale must be a number"),
    (1, "x", "seed must be an integer"), (1, 1.5, "seed must be an integer"),
])
def test_bad_scale_or_seed(scale: object, seed: object, message: str) -> None:
    with pytest.raises(WorkbenchError, match=message):
        load("shop", scale=scale, seed=seed)  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "table", "rows"), [
    ("shop", "orders.orders", 6000), ("events", "events.events", 10000),
    ("tpcb", "public.pgbench_accounts", 100000),
])
def test_loads_on_postgresql_15(pg15_dsn: str, name: str, table: str, rows: int) -> None:
    database = f"wbload_{uuid.uuid4().hex[:8]}"
    try:
        result = load(name, scale=0.02, database=database, dsn=pg15_dsn, progress=False)
        assert result.tables[table]["rows"] == rows
        with connect(result.dsn) as conn:
            assert check_loaded(conn)["server_version"].startswith("15")
    finally:
        drop_database(database, pg15_dsn)
