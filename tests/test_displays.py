"""Rich displays: what notebooks show for plans, diffs, captures, advice, lint findings and
migration info (HTML escaped, with a plain-text twin), and the shipped plan viewer itself."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from workbench.advisor.advise import Advice, Recommendation
from workbench.migrations.history import MigrationInfo
from workbench.migrations.lint import lint, lint_sql
from workbench.plans import (
    PlanCapture,
    StatementPlan,
    diff_plans,
    load_plan_file,
    parse_plan,
    plan_hints,
    viewer,
)
from workbench.plans.viewer import SCRIPT_ID, plan_viewer_html, with_viewer_script

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data" / "plans" / "pg18"
EXAMPLES = REPO / "datasets" / "shop" / "migration-examples"


class Printer:
    """IPython's pretty printer, reduced to what _repr_pretty_ uses."""

    def __init__(self) -> None:
        self.out = ""

    def text(self, text: str) -> None:
        self.out += text


def _pretty(obj: object) -> str:
    printer = Printer()
    obj._repr_pretty_(printer, False)  # type: ignore[attr-defined]
    return printer.out


@pytest.fixture(scope="module")
def plans() -> tuple:
    before = load_plan_file(str(DATA / "shop-before.json"))
    after = load_plan_file(str(DATA / "shop-after-orders-customer-created-idx.json"))
    return before["recent_orders"], after["recent_orders"]


def test_plan_shows_the_viewer_hints_and_table_fallback(plans: tuple) -> None:
    before, _ = plans
    hints = plan_hints(before)
    assert hints, "the stored plan has no hint: nothing to show beside the viewer"
    html = plan_viewer_html(before, query="SELECT <b>", hints=hints)
    data = re.search(r'<script type="application/json" class="wb-plan-data">(.*?)</script>', html,
                     re.S)
    assert data is not None
    doc = json.loads(data.group(1))
    assert parse_plan(doc["plan"]).nodes_frame().equals(before.nodes_frame())  # PEV2 gets it all
    assert doc["query"] == "SELECT <b>" and "<b>" not in data.group(1)  # no markup in the data
    assert all(h.code in html for h in hints)
    assert "<table>" in html and "Seq Scan on orders.orders" in html
    assert f'id="{SCRIPT_ID}"' not in html
    assert repr(before) == (f"<Plan {before.root.label}: {len(before.nodes)} nodes, execution "
                            f"{before.execution_ms:.3f} ms>")
    assert _pretty(before) == before.text()


def test_first_plan_of_a_kernel_carries_the_viewer_script_once(plans: tuple,
                                                                monkeypatch) -> None:
    monkeypatch.setattr(viewer, "_shown_in_this_kernel", False)
    before, after = plans
    first, second = before._repr_html_(), after._repr_html_()
    assert first.count(f'<script id="{SCRIPT_ID}">') == 1
    assert f'<script id="{SCRIPT_ID}">' not in second


def test_report_page_gets_the_script_once_in_its_head(plans: tuple) -> None:
    before, after = plans
    body = (plan_viewer_html(before, include_script=True) + plan_viewer_html(after,
                                                                            include_script=True))
    page = with_viewer_script(f"<html><head><title>r</title></head><body>{body}</body></html>")
    assert page.count(f'<script id="{SCRIPT_ID}">') == 1
    assert page.index(f'<script id="{SCRIPT_ID}">') < page.index("</head>")
    assert with_viewer_script("<html><head></head><body>no plan</body></html>") == \
        "<html><head></head><body>no plan</body></html>"


def test_shipped_viewer_matches_its_manifest_and_lockfile() -> None:
    manifest = viewer.viewer_manifest()
    script = (REPO / "workbench" / "static" / "pev2" / "pev2-viewer.js").read_bytes()
    assert len(script) == manifest["bytes"]
    assert hashlib.sha256(script).hexdigest() == manifest["sha256"]
    lock = json.loads((REPO / "frontend" / "pev2" / "package-lock.json").read_text())
    for name, version in manifest["versions"].items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    assert manifest["licences"]["pev2"] == "PostgreSQL"
    assert b"</script" not in script.lower()  # it is inlined in <script> elements
    assert f"pev2 {manifest['versions']['pev2']}".encode() in script[:300]


def test_plan_diff_display(plans: tuple) -> None:
    diff = diff_plans(*plans)
    html = diff._repr_html_()
    assert "Seq Scan on orders.orders" in html and "tmp_oc" in html and "<table>" in html
    assert repr(diff) == f"<PlanDiff {diff.verdict}>"
    assert _pretty(diff).splitlines()[0] == diff.verdict


def test_capture_and_statement_displays_escape_names(plans: tuple) -> None:
    before, _ = plans
    statement = StatementPlan("<img src=x>", "SELECT 1", plan=before)
    failed = StatementPlan("broken", "SELEC 1", error="syntax error at or near \"SELEC\"")
    capture = PlanCapture([statement, failed], "18.6")
    html = capture._repr_html_()
    assert "<img src=x>" not in html and "&lt;img src=x&gt;" in html
    assert "syntax error" in html
    assert "broken" in _pretty(capture) and "<PlanCapture 2 statements" in repr(capture)
    assert 'class="wb-plan"' in statement._repr_html_()
    assert "no plan" in failed._repr_html_() and "error:" in repr(failed)


def test_advice_display_and_text() -> None:
    rec = Recommendation("CREATE INDEX CONCURRENTLY i ON t (a) WHERE a <> '<x>'", "t", ["a"], [],
                         None, "btree", 8_000_000, 42.0, 1.5, [{"name": "q1"}])
    advice = Advice("hypopg", 12, 0.5, 1000.0, 580.0, [rec],
                    {"unused": [{"index": "old_idx", "reason": "never scanned"}]},
                    [{"name": "q9", "sql": "x", "reason": "DDL"}], candidates=3)
    html = advice._repr_html_()
    assert "&lt;x&gt;" in html and "old_idx" in html and "q9" in html and "42.0" in html
    text = advice.text()
    assert text.splitlines()[0] == ("method hypopg, 12 what-if calls, 3 candidates; workload "
                                    "cost 1,000 -> 580")
    assert "8.0 MB, net benefit 42.0%" in text and "skipped q9: DDL" in text
    assert _pretty(advice) == text and repr(advice).startswith("<Advice 1 indexes")


def test_lint_display_and_text() -> None:
    result = lint(EXAMPLES / "dangerous")
    assert result.findings
    html = result._repr_html_()
    assert all(f.rule in html for f in result.findings)
    assert f"{len(result.errors)} errors" in html
    assert _pretty(result) == result.text() and result.text().startswith(result.findings[0].file)
    assert result.findings[0]._repr_html_().count("<tr>") == 2
    assert "0 errors, 1 warnings" in lint(EXAMPLES / "safe")._repr_html_()
    assert lint_sql("SELECT 1")._repr_html_() == "<p><b>Migration lint</b>: no findings.</p>"


def test_migration_info_display_stays_a_json_list() -> None:
    info = MigrationInfo([
        {"version": "1", "description": "init", "type": "SQL", "script": "V1__init.sql",
         "state": "Success", "undo": False, "installed_on": "2026-01-01", "execution_time": 3},
        {"version": "2", "description": "<b>gift</b>", "type": "SQL", "script": "V2__gift.sql",
         "state": "Pending", "undo": True, "installed_on": None, "execution_time": None}])
    assert json.loads(json.dumps(info))[1]["state"] == "Pending"
    html = info._repr_html_()
    assert "1 Pending, 1 Success" in html and "&lt;b&gt;gift&lt;/b&gt;" in html
    assert info.text().splitlines() == ["       1  SQL      Success         V1__init.sql",
                                        "       2  SQL      Pending         V2__gift.sql"]
    assert "V2__gift.sql" in _pretty(info)
