"""Reports: a notebook executed with parameters and rendered to one self-contained HTML file.

Parameters follow papermill's convention: the cell tagged ``parameters`` holds the defaults and a
cell tagged ``injected-parameters`` is inserted after it with the values given. Images are
embedded as data URIs; code is hidden (``no_input``) or folded behind a toggle; plans shown by
the notebook open in the PEV2 viewer, whose script (shipped in the package) goes in the page once,
so the report works offline. Every text of the result is scrubbed of DSN passwords and then
scanned: a report that still looks like it carries a secret is not written.

>>> render_report("notebooks/tuning-report.ipynb", {"experiment": "experiments/shop-x"},
...               "reports/tuning-report.html")                     # doctest: +SKIP
PosixPath('reports/tuning-report.html')
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import nbformat

from workbench.config import workbench_home
from workbench.dsn import redact
from workbench.errors import WorkbenchError
from workbench.folders import write_text
from workbench.plans.viewer import with_viewer_script, without_viewer_script

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
DEFAULT_NOTEBOOK = NOTEBOOKS / "tuning-report.ipynb"
_SECRET_PATTERNS = [
    re.compile(r"postgres(?:ql)?://[^:/@\s\"'<>]+:(?!\*\*\*@)[^@\s\"'<>]+@"),
    re.compile(r"\bpassword\s*=\s*(?!\*\*\*)[^\s&\"'<>]+", re.IGNORECASE),
]
# nbconvert's lab template loads require.js, MathJax and the widget manager from CDNs: a report is
# read offline, so it fetches nothing (LaTeX in markdown stays as typed; widgets show no view).
_OFFLINE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
"""
_TOGGLE = """
<style>.wb-hide .jp-CodeCell .jp-InputArea, .wb-hide .jp-CodeCell .jp-InputPrompt { display: none; }
#wb-toggle { position: fixed; top: 8px; right: 8px; z-index: 10; }</style>
<button id="wb-toggle" onclick="document.body.classList.toggle('wb-hide')">show/hide code</button>
<script>document.body.classList.add('wb-hide');</script>
"""


def inject_parameters(nb: Any, params: dict[str, Any]) -> Any:
    """Insert an ``injected-parameters`` cell after the ``parameters`` cell (or first)."""
    if not params:
        return nb
    source = "# Parameters\n" + "\n".join(f"{k} = {v!r}" for k, v in params.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    position = next((i + 1 for i, c in enumerate(nb.cells)
                     if "parameters" in c.get("metadata", {}).get("tags", [])), 0)
    nb.cells = [c for c in nb.cells
                if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    nb.cells.insert(position, cell)
    return nb


def read_notebook(path: str | Path) -> Any:
    """A notebook file, with a one-line error when it is missing or is not a notebook."""
    path = Path(path)
    if not path.is_file():
        raise WorkbenchError(f"no notebook at {path}", "pass a .ipynb file or an experiment folder")
    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises JSON, validation and decode errors
        raise WorkbenchError(f"{path} is not a notebook ({type(exc).__name__})",
                             "pass a Jupyter .ipynb file") from None


def execute_notebook(path: str | Path, params: dict[str, Any] | None = None,
                     timeout: int = 1800) -> Any:
    """Execute a notebook with parameters (in its own folder) and return it with outputs."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path = Path(path)
    nb = inject_parameters(read_notebook(path), params or {})
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    # The kernel runs in the notebook's folder: pin the state folder to the caller's, so the
    # notebook talks to the same embedded server instead of starting a second one beside it.
    env = {**os.environ, "WORKBENCH_HOME": str(workbench_home())}
    try:
        client.execute(env=env)
    except CellExecutionError as exc:
        plain = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))  # the kernel's colours
        last = [ln for ln in plain.splitlines() if ln.strip()][-1:]
        raise WorkbenchError(f"{path.name} failed while running: {redact(last[0]) if last else exc}",
                             "run it in Jupyter to see the cell") from None
    return nb


def render_report(notebook: str | Path, params: dict[str, Any] | None, html_out: str | Path,
                  *, no_input: bool = False, timeout: int = 1800) -> Path:
    """Execute a notebook with parameters and write a self-contained, secret-free HTML report."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    from workbench.folders import check_writable

    out = Path(html_out)
    check_writable(out, replace=True)  # before the notebook runs, not after
    read_notebook(notebook)
    nb = execute_notebook(notebook, params, timeout)
    exporter = HTMLExporter(template_name="lab", template_file="workbench-offline.html.j2",
                            extra_loaders=[DictLoader({"workbench-offline.html.j2": _OFFLINE})])
    exporter.exclude_input = no_input
    exporter.exclude_input_prompt = no_input
    body, _ = exporter.from_notebook_node(nb)
    body = without_viewer_script(body)  # outputs' copies; one goes in the head below
    if not no_input:
        head, tail = body.rsplit("</body>", 1)
        body = head + _TOGGLE + "</body>" + tail
    clean = redact(body)
    leaks = find_secrets(clean)
    if leaks:
        raise WorkbenchError(f"the report still holds what looks like a secret ({leaks[0][:12]}...)",
                             "remove credentials from the notebook's outputs")
    clean = with_viewer_script(clean)  # the plan viewer, once, in the head (after the scrub)
    write_text(out, clean)
    return out


def find_secrets(text: str) -> list[str]:
    """DSN-shaped passwords left in a text (after masking, none should remain)."""
    return [m.group(0) for p in _SECRET_PATTERNS for m in p.finditer(text)]


def report_command(target: str | Path, params: dict[str, Any], html: str | Path | None,
                   no_input: bool = False) -> Path:
    """``workbench report``: an experiment folder renders the tuning report for it; a notebook
    renders itself. The HTML goes to ``reports/<notebook>.html`` unless ``html`` is given."""
    path = Path(target)
    notebook = path
    if html:
        from workbench.folders import check_writable

        check_writable(Path(html), replace=True)
    if path.is_dir():
        from workbench.experiments import load_experiment

        load_experiment(path)  # a damaged folder is refused before a kernel starts
        notebook = DEFAULT_NOTEBOOK
        params = {**params, "experiment": str(path.resolve())}
    out = Path(html) if html else Path("reports") / f"{notebook.stem}.html"
    return render_report(notebook, params, out, no_input=no_input)


def parse_params(items: list[str]) -> dict[str, Any]:
    """``k=v`` pairs; values read as Python literals when they are one (numbers, None, ...)."""
    import ast

    params: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            raise WorkbenchError(f"--param {item!r} is not NAME=VALUE", "e.g. --param duration=30")
        try:
            params[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            params[key] = value
    return params


def environment_markdown(manifest: dict[str, Any]) -> str:
    """Where the numbers were measured: versions, settings that matter, machine."""
    machine = manifest.get("machine") or {}
    settings = manifest.get("settings") or {}
    keys = ("shared_buffers", "work_mem", "effective_cache_size", "random_page_cost", "jit",
            "max_parallel_workers_per_gather", "synchronous_commit")
    lines = [
        f"- PostgreSQL {manifest.get('server_version', '?')}, workbench "
        f"{manifest.get('workbench_version', '?')}, Python {manifest.get('python', '?')}",
        f"- machine: {machine.get('cpu_count', '?')} CPUs ({machine.get('cpu_model', '?')}), "
        f"{(machine.get('memory_bytes') or 0) / 2**30:.0f} GiB memory, {manifest.get('platform', '')}",
        "- settings: " + ", ".join(f"{k}={settings[k]}" for k in keys if k in settings),
    ]
    if manifest.get("dataset"):
        lines.append(f"- dataset {manifest['dataset']} at scale {manifest.get('scale')}, seed "
                     f"{manifest.get('seed')}")
    return "\n".join(lines)
