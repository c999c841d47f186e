"""The package facade: every advertised name resolves, lazily."""

from __future__ import annotations

import subprocess
import sys

import pytest

import workbench


@pytest.mark.parametrize("name", sorted(workbench._EXPORTS))
def test_every_export_resolves(name: str) -> None:
    assert callable(getattr(workbench, name))


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        workbench.nope  # noqa: B018


def test_import_stays_light() -> None:
    code = "import sys, workbench; print('pandas' in sys.modules, 'sqlglot' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
    assert callable(workbench.connect)
