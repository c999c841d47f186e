"""Rendered reports opened in a real browser: Debian's headless Chromium, driven by Playwright
(the system's browser through executable_path; Playwright never downloads one here).

The report is tests/notebooks/sql-and-explain.ipynb rendered by render_report on a loaded shop
database: plans in the PEV2 viewer, a matplotlib figure, the code toggle.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

NOTEBOOK = Path(__file__).parent / "notebooks" / "sql-and-explain.ipynb"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Chromium as root needs --no-sandbox; the rest keeps it from calling home or keeping state.
FLAGS = ["--no-sandbox", "--headless", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (scripts/os-packages.sh installs Debian's "
    "chromium when it runs as root with apt)")


@pytest.fixture(scope="module")
def report(server_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from workbench.databases import drop_database
    from workbench.loader import load
    from workbench.reports import render_report

    name = f"wbtest_browser_{uuid.uuid4().hex[:8]}"
    load("shop", scale=0.1, seed=42, database=name, dsn=server_dsn, progress=False)
    try:
        yield render_report(NOTEBOOK, {"database": name},
                            tmp_path_factory.mktemp("report") / "report.html", timeout=300)
    finally:
        drop_database(name, server_dsn)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium, headless; Playwright gives it a fresh temporary profile (user data dir)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _open(browser: Any, report: Path) -> tuple[Any, list[str], list[str]]:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    problems: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(report.as_uri())
    page.wait_for_function("[...document.querySelectorAll('.wb-plan')]"
                           ".every(e => e.dataset.wbViewer)", timeout=30_000)
    return page, problems, requests


def test_report_has_no_console_errors_and_fetches_nothing(browser: Any, report: Path) -> None:
    page, problems, requests = _open(browser, report)
    page.wait_for_timeout(500)
    assert problems == []
    assert [u for u in requests if not u.startswith(("file:", "data:", "about:"))] == []
    page.close()


def test_every_figure_loaded(browser: Any, report: Path) -> None:
    page, _, _ = _open(browser, report)
    images = page.evaluate("[...document.images].map(i => [i.complete, i.naturalWidth])")
    assert images, "the report shows no figure"
    assert all(complete and width > 0 for complete, width in images), images
    page.close()


def test_code_toggle_shows_and_hides_the_code(browser: Any, report: Path) -> None:
    page, _, _ = _open(browser, report)
    code = page.locator(".jp-CodeCell .jp-InputArea").first
    assert code.is_hidden()  # a report opens with its code folded away
    page.click("#wb-toggle")
    assert code.is_visible()
    assert any("%%explain" in t for t in page.locator(".jp-CodeCell .jp-InputArea").all_inner_texts())
    page.click("#wb-toggle")
    assert code.is_hidden()
    page.close()


def test_plan_viewer_renders_every_plan_beside_the_hints(browser: Any, report: Path) -> None:
    page, _, _ = _open(browser, report)
    plans = page.locator(".wb-plan")
    assert plans.count() == 3
    assert page.evaluate("[...document.querySelectorAll('.wb-plan')].map(e => e.dataset.wbViewer)"
                         ) == ["pev2"] * 3
    frames = [f for f in page.frames if f != page.main_frame]
    assert len(frames) == 3
    for frame in frames:
        frame.wait_for_selector(".plan-node", timeout=20_000)
    first = frames[0].evaluate("document.body.innerText")
    assert "Seq Scan" in first and "Execution time" in first
    # Each viewer has its own plan (PEV2 keeps one store per page: one iframe each).
    assert "Update" in frames[1].evaluate("document.body.innerText")
    assert "Delete" in frames[2].evaluate("document.body.innerText")
    assert "seq-scan-filter" in plans.first.inner_text()  # the workbench's hints beside it
    assert not page.locator("details.wb-plan-table").first.evaluate("d => d.open")
    page.close()


def test_without_javascript_the_static_table_stays(browser: Any, report: Path) -> None:
    page = browser.new_context(java_script_enabled=False).new_page()
    page.goto(report.as_uri())
    table = page.locator("details.wb-plan-table").first
    assert table.evaluate("d => d.open")
    assert "Seq Scan on orders.orders" in table.inner_text()
    assert page.locator(".wb-plan-note").first.is_visible()
    page.close()
