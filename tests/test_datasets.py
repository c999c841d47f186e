"""Dataset manifests: the three datasets read cleanly; bad manifests give one clear line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from workbench.datasets import DATASETS_DIR, get_dataset, list_datasets, read_dataset
from workbench.errors import WorkbenchError


def test_three_datasets_with_services_scripts_and_omitted_indexes() -> None:
    found = {d.name: d for d in list_datasets()}
    assert set(found) == {"shop", "events", "tpcb"}
    shop = found["shop"]
    assert [s.schema for s in shop.services] == ["accounts", "catalog", "orders", "payments"]
    assert {s.name for s in shop.scripts} >= {"checkout", "recent_orders", "lookup_by_email"}
    assert all(t.split(".")[0] in {s.schema for s in shop.services} for t in shop.tables)
    assert ("orders.orders", ("customer_id", "created_at")) in {
        (o.table, o.columns) for o in shop.omitted_indexes}
    assert shop.load_order()[1:] == [["catalog.inventory"]]  # it reads catalog.products
    assert "orders.order_items" in shop.load_order()[0]  # keys come later: no need to wait
    assert shop.rows("orders.orders", 0.1) == 30000
    assert shop.variables(1)["n_order_items"] == 900000


def test_by_path_and_unknown_name() -> None:
    assert get_dataset(DATASETS_DIR / "events").name == "events"
    with pytest.raises(WorkbenchError, match="no dataset 'nope'.*use one of: events, shop, tpcb"):
        get_dataset("nope")


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "mine"
    shutil.copytree(DATASETS_DIR / "shop", target)
    return target


def _edit(folder: Path, old: str, new: str) -> None:
    manifest = folder / "dataset.toml"
    text = manifest.read_text()
    assert old in text
    manifest.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('name = "shop"', 'name = "shop"\ncolour = "red"', r"unknown field colour"),
        ("rows_per_scale = 50000", "rows_per_scale = 50000\nsize = 1",
         r"unknown field tables\.'accounts\.customers'\.size"),
        ('script = "workload/checkout.sql"', 'script = "workload/missing.sql"',
         r"workload\[3\]\.script: file workload/missing\.sql does not exist"),
        ('depends_on = ["catalog.products"]', 'depends_on = ["catalog.nope"]',
         r"depends_on: unknown table 'catalog\.nope'"),
        ('rows_per_scale = 10000', 'rows_per_scale = 10000\ndepends_on = ["catalog.inventory"]',
         r"cycle catalog\.(products|inventory) -> .* -> catalog\.(products|inventory)"),
        ('columns = ["email"]', 'columns = "email"',
         r"omitted_indexes\[1\]\.columns must be a list, got 'email'"),
        ('table = "accounts.customers"', 'table = "accounts.people"',
         r"omitted_indexes\[1\]\.table: unknown table 'accounts\.people'"),
        ('rows_per_scale = 50000', 'rows_per_scale = -5',
         r"tables\.'accounts\.customers'\.rows_per_scale must be >= 0"),
        ('service = "orders"', 'service = "shipping"', r"unknown service 'shipping'"),
        ('weight = 35', 'weight = "many"', r"workload\[0\]\.weight must be an integer, got 'many'"),
    ],
)
def test_bad_manifest_names_file_and_field(copy: Path, old: str, new: str, message: str) -> None:
    _edit(copy, old, new)
    with pytest.raises(WorkbenchError, match=message) as err:
        read_dataset(copy)
    assert str(copy / "dataset.toml") in str(err.value)
    assert "\n" not in str(err.value)
