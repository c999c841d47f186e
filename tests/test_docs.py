"""The README and the CLI agree: every command is documented, and CLI defaults that the library
also has are the library's."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from workbench.cli import build_parser

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
COMMANDS = sorted(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_in_the_readme(command: str) -> None:
    assert re.search(rf"(\$W|workbench|`)\s*{re.escape(command)}\b", README), command


@pytest.mark.parametrize(("command", "function", "options"), [
    ("experiment", "workbench.experiments:experiment",
     {"repeat": "repeat", "warmup": "warmup", "min_effect": "min_effect_pct",
      "budget_mb": "budget_mb", "clients": "clients", "duration_s": "duration"}),
    ("sweep", "workbench.sweeps:sweep", {"repeat": "repeat", "warmup": "warmup",
                                         "p99_factor": "p99_factor"}),
    ("run", "workbench.runs:RunOptions", {"timeline_interval": "timeline_interval",
                                          "log_plans_over": "log_plans_over_ms",
                                          "server_log": "server_log"}),
])
def test_cli_defaults_are_the_librarys(command: str, function: str, options: dict) -> None:
    import importlib

    module, name = function.split(":")
    signature = inspect.signature(getattr(importlib.import_module(module), name))
    parser = build_parser()._subparsers._group_actions[0].choices[command]  # type: ignore[union-attr]
    defaults = {a.dest: a.default for a in parser._actions}
    for cli_name, library_name in options.items():
        assert defaults[cli_name] == signature.parameters[library_name].default, cli_name
