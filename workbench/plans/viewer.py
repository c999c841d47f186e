"""The interactive plan viewer: PEV2 (Dalibo's plan visualizer, PostgreSQL licence) in notebooks
and HTML reports, offline.

The viewer is one file shipped inside the package, ``workbench/static/pev2/pev2-viewer.js``
(PEV2, Vue and Bootstrap's CSS scoped to the viewer, built from pinned versions by
``frontend/pev2/build.mjs``; ``make pev2`` rebuilds it). Nothing is fetched when a plan is shown.

A plan's HTML (:func:`plan_viewer_html`) always carries the static table and the workbench's own
hints, plus the plan document for PEV2. When the viewer's script is on the page it mounts PEV2
and folds the table away; when it is not (an untrusted notebook, a script blocker), the table
stays. The script itself goes on the page once: in a notebook with the first plan shown by the
kernel (or by ``%load_ext workbench``); in a rendered report, in the page's head
(:func:`with_viewer_script`).

>>> html = plan_viewer_html(parse_plan(plan_json))          # doctest: +SKIP
"""

from __future__ import annotations

import html
import json
import re
import uuid
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.plans.hints import Hint
    from workbench.plans.model import Plan

SCRIPT_ID = "wb-pev2-viewer"
VIEWER_HEIGHT = "600px"
_SCRIPT_TAG = re.compile(rf'<script id="{SCRIPT_ID}"[^>]*>.*?</script>', re.S)
_shown_in_this_kernel = False


@lru_cache(maxsize=1)
def viewer_script() -> str:
    """The viewer's JavaScript (about 880 kB), read from the package."""
    return (resources.files("workbench") / "static" / "pev2" / "pev2-viewer.js").read_text("utf-8")


@lru_cache(maxsize=1)
def viewer_manifest() -> dict[str, Any]:
    """Versions, licences, size and sha256 of the bundled viewer.

    >>> viewer_manifest()["versions"]["pev2"]
    '1.21.0'
    """
    text = (resources.files("workbench") / "static" / "pev2" / "manifest.json").read_text("utf-8")
    return dict(json.loads(text))


def script_element() -> str:
    """``<script id="wb-pev2-viewer">…</script>``: the viewer, once per page."""
    return f'<script id="{SCRIPT_ID}">{viewer_script()}</script>'


def plan_viewer_html(plan: Plan, *, query: str | None = None, hints: list[Hint] | None = None,
                     include_script: bool = False, title: str | None = None) -> str:
    """A plan as PEV2 plus the workbench's hints, with the static table as fallback.

    ``include_script`` puts the viewer's script in the fragment (a page needs it once).
    """
    from workbench.plans.hints import plan_hints
    from workbench.plans.render import plan_html

    hints = plan_hints(plan) if hints is None else hints
    ident = f"wb-plan-{uuid.uuid4().hex[:12]}"
    data = _script_json({"plan": json.dumps(plan.to_json()), "query": query or ""})
    heading = f"<p><b>{html.escape(title)}</b></p>" if title else ""
    return (
        f'<div class="wb-plan" id="{ident}">{heading}{hints_html(hints, plan)}'
        f'<div class="wb-pev2 wb-pev2-target" style="display:none;height:{VIEWER_HEIGHT};'
        'resize:vertical;overflow:auto;border:1px solid #ddd"></div>'
        f'<details class="wb-plan-table" open><summary>plan table</summary>{plan_html(plan)}'
        "</details>"
        '<p class="wb-plan-note" style="color:#777;font-size:smaller">The interactive viewer '
        "shows here when the notebook is trusted (its script runs) or in a rendered report.</p>"
        f'<script type="application/json" class="wb-plan-data">{data}</script></div>'
        + (script_element() if include_script else "")
        + f"<script>(function(){{var r=document.getElementById('{ident}');"
        "if(window.WorkbenchPEV2){window.WorkbenchPEV2.mountContainer(r);}"
        "else{document.addEventListener('wb-pev2-ready',function(){"
        "window.WorkbenchPEV2.mountContainer(r);},{once:true});}})();</script>"
    )


def notebook_plan_html(plan: Plan, *, query: str | None = None, hints: list[Hint] | None = None,
                       title: str | None = None) -> str:
    """:func:`plan_viewer_html` for a notebook output: the first one in this kernel carries the
    viewer's script, the others use it."""
    global _shown_in_this_kernel
    include = not _shown_in_this_kernel
    _shown_in_this_kernel = True
    return plan_viewer_html(plan, query=query, hints=hints, include_script=include, title=title)


def mark_script_shown() -> None:
    """Record that the viewer's script was put on the notebook page (``%load_ext workbench``)."""
    global _shown_in_this_kernel
    _shown_in_this_kernel = True


def without_viewer_script(page: str) -> str:
    """A page without the copies of the viewer's script its outputs carry (notebook outputs
    hold one, for the page they were shown in)."""
    return _SCRIPT_TAG.sub("", page)


def with_viewer_script(page: str) -> str:
    """A whole HTML page with the viewer's script exactly once, in its head, when it shows a
    plan; pages without plans lose the copies their outputs carried."""
    page = without_viewer_script(page)
    if 'class="wb-plan"' not in page:
        return page
    tag = script_element()
    if "</head>" in page:
        return page.replace("</head>", tag + "</head>", 1)
    return tag + page


def hints_html(hints: list[Hint], plan: Plan | None = None) -> str:
    """The workbench's hints as a list (node label first), or a line saying there are none."""
    if not hints:
        return '<p class="wb-plan-hints">No hints: nothing in this plan stands out.</p>'
    labels = {n.id: n.label for n in plan.nodes} if plan is not None else {}
    items = "".join(
        f"<li><code>{html.escape(h.code)}</code> {html.escape(h.message)}"
        + (f" <span style='color:#777'>(node {h.node}: {html.escape(labels[h.node])})</span>"
           if h.node in labels else "") + "</li>" for h in hints)
    return f'<div class="wb-plan-hints"><b>Hints</b><ul>{items}</ul></div>'


def _script_json(doc: dict[str, Any]) -> str:
    """JSON safe inside a <script> element (no closing tag, no comment opener)."""
    return json.dumps(doc).replace("<", "\\u003c").replace(">", "\\u003e")
