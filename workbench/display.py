"""Small helpers for the rich displays of results in notebooks: escaped HTML tables and the
plain-text twin of each (what ``repr`` and IPython's pretty printer show).

>>> print(text_table(["rule", "line"], [["ban-drop-column", 3]]))
rule             line
ban-drop-column  3
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any


def html_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *,
               code_columns: Sequence[int] = ()) -> str:
    """An HTML table with every cell escaped; ``code_columns`` are shown as code.

    >>> html_table(["a"], [["<b>"]])
    '<table><tr><th>a</th></tr><tr><td>&lt;b&gt;</td></tr></table>'
    """
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for index, value in enumerate(row):
            text = html.escape("" if value is None else str(value))
            cells.append(f"<td><code>{text}</code></td>" if index in code_columns else f"<td>{text}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def text_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """The same table as aligned plain text (columns two spaces apart)."""
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
                     for row in cells)


def pretty(printer: Any, cycle: bool, text: str) -> None:
    """Body of a ``_repr_pretty_``: IPython's printer gets ``text`` (``...`` on a cycle)."""
    printer.text("..." if cycle else text)
