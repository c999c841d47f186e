"""The experiment method proved on real runs: an A/A comparison says "no significant change", and
a known modest regression is called "slower".

Both start from shop with the indexes a tuned shop has (the dataset's planted ones) in both arms.
The regression drops the index behind lookup_by_email (15% of the mix): its statement turns into
a sequential scan of the customers, which costs the whole mix roughly a fifth of its throughput.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.experiments import Variant, experiment

pytestmark = pytest.mark.slow

TUNED = Variant(indexes=[
    "CREATE INDEX t_orders_customer ON orders.orders (customer_id, created_at)",
    "CREATE INDEX t_customers_email ON accounts.customers (email)",
    "CREATE INDEX t_items_order ON orders.order_items (order_id)",
    "CREATE INDEX t_payments_order ON payments.payments (order_id)",
    "CREATE INDEX t_products_category ON catalog.products (category, price_cents)",
])
SETTINGS = {"scale": 0.2, "clients": 2, "jobs": 2, "duration": 3, "warmup": 1, "repeat": 3,
            "progress": False}


def _verdict(comparison: dict, phase: str, metric: str, script: str | None = None) -> str:
    block = comparison[phase]
    found = block["scripts"][script][metric] if script else block["metrics"][metric]
    return f"{found['verdict']} ({found['change_pct']}% {found['ci_pct']})"


def test_an_a_a_comparison_finds_no_significant_change(server_dsn: str, tmp_path: Path) -> None:
    exp = experiment("shop", aa=True, baseline=TUNED, dsn=server_dsn, out=tmp_path / "aa",
                     **SETTINGS)
    c = exp.comparison
    assert exp.status == "complete" and c["repeats"] == 3
    for phase, metric in (("throughput", "tps"), ("throughput", "p95"), ("latency", "p95")):
        assert _verdict(c, phase, metric).startswith("no significant change"), \
            (phase, metric, _verdict(c, phase, metric))


def test_a_known_modest_regression_is_called_slower(server_dsn: str, tmp_path: Path) -> None:
    exp = experiment("shop", baseline=TUNED, indexes=None,
                     statements=["DROP INDEX accounts.t_customers_email"], dsn=server_dsn,
                     out=tmp_path / "regression", **SETTINGS)
    c = exp.comparison
    assert exp.status == "complete"
    assert _verdict(c, "throughput", "tps").startswith("slower"), _verdict(c, "throughput", "tps")
    assert -40 < c["throughput"]["metrics"]["tps"]["change_pct"] < -5  # modest, as intended
    # the script that lost its index: its typical (median) latency is called slower
    assert _verdict(c, "throughput", "p50", "lookup_by_email").startswith("slower")
    assert any(p["statement"] == "lookup_by_email" and "Seq Scan" in p["verdict"]
               for p in c["plans_changed"])
