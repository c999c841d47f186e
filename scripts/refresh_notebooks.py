"""Re-execute the notebooks in place so their stored outputs (what nbval compares, and what
GitHub shows) are current: `make notebooks`.

The plan viewer's script (about 880 kB) is left out of the stored outputs: it would be stored
again in git at every refresh. Opened in JupyterLab, a stored plan shows its static table until
the cell runs again; rendered reports put the script in once by themselves."""

import sys
from pathlib import Path

import nbformat

from workbench.plans.viewer import without_viewer_script
from workbench.reports import execute_notebook

for path in sys.argv[1:] or sorted(str(p) for p in Path("notebooks").rglob("*.ipynb")):
    print(f"executing {path}", flush=True)
    book = execute_notebook(path)
    for cell in book.cells:
        for output in cell.get("outputs", []):
            data = output.get("data") or {}
            if "text/html" in data:
                data["text/html"] = without_viewer_script(data["text/html"])
    nbformat.write(book, path)
