"""Re-execute the notebooks in place so their stored outputs (what nbval compares, and what
GitHub shows) are current: `make notebooks`."""

import sys
from pathlib import Path

import nbformat

from workbench.reports import execute_notebook

for path in sys.argv[1:] or sorted(str(p) for p in Path("notebooks").rglob("*.ipynb")):
    print(f"executing {path}", flush=True)
    nbformat.write(execute_notebook(path), path)
