"""Parity with squawk: the corpus in tests/data/migration_corpus/ through the pinned squawk-cli and
through `workbench migrate lint`, statement by statement, rule by rule.

A corpus file says what it is (``-- corpus:``), which squawk options it needs
(``-- squawk-options:``), and which of squawk's rules the workbench answers differently on
purpose (``-- diverges:``). For every rule both tools have, both must report it on the same
statements, except where the file declares a divergence: there they must differ (so a declared
divergence is real), and the README's divergence table must name the rule. Every rule of the
registry must be found somewhere in the corpus.

``python tests/test_migration_parity.py`` prints the agreement figures.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

from workbench.migrations.lint import lint
from workbench.migrations.rules import RULES
from workbench.migrations.sqltext import parse_sql_text

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "data" / "migration_corpus"
CASES = sorted(CORPUS.glob("*.sql"))
SQUAWK_PIN = re.search(r'"squawk-cli==([\d.]+)"', (REPO / "pyproject.toml").read_text())[1]


def directives(path: Path) -> dict[str, str]:
    """The ``-- key: value`` header lines of a corpus file."""
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^-- (corpus|squawk-options|diverges): (.*)$", line)
        if match:
            found[match[1]] = match[2].strip()
    return found


def squawk_binary() -> str:
    """The pinned squawk (from the venv's squawk-cli)."""
    found = shutil.which("squawk", path=str(Path(sys.executable).parent)) or shutil.which("squawk")
    assert found, "squawk-cli is a dev dependency: `make install` installs it"
    return found


@cache
def squawk_findings() -> dict[str, list[tuple[int, str]]]:
    """squawk's findings per corpus file: (1-based line, rule); one squawk run per option set."""
    by_options: dict[str, list[Path]] = defaultdict(list)
    for path in CASES:
        by_options[directives(path).get("squawk-options", "")].append(path)
    out: dict[str, list[tuple[int, str]]] = {p.name: [] for p in CASES}
    for opts, paths in by_options.items():
        run = subprocess.run([squawk_binary(), "--reporter", "json", *opts.split(),
                              *map(str, paths)], capture_output=True, text=True, check=False)
        for item in json.loads(run.stdout or "[]"):
            out[Path(item["file"]).name].append((item["line"] + 1, item["rule_name"]))
    return out


def our_findings(path: Path) -> list[tuple[int, str]]:
    """The workbench's findings for a corpus file, with the same options."""
    opts = directives(path).get("squawk-options", "").split()
    kwargs: dict[str, object] = {"assume_in_transaction": "--assume-in-transaction" in opts}
    for flag, key in (("--pg-version", "pg_version"), ("--include", "include")):
        if flag in opts:
            value = opts[opts.index(flag) + 1]
            kwargs[key] = value.split(",") if key == "include" else value
    return [(f.line, f.rule) for f in lint(path, **kwargs).findings]  # type: ignore[arg-type]


def by_statement(path: Path, findings: list[tuple[int, str]]) -> dict[str, set[int]]:
    """rule → indexes of the statements its findings fall in (a comment line counts for the
    statement after it)."""
    sql = parse_sql_text(path.read_text(), path.name)
    ends = [sql.line(s.end) for s in sql.statements]
    out: dict[str, set[int]] = defaultdict(set)
    for line, rule in findings:
        out[rule].add(next((i for i, end in enumerate(ends) if line <= end), len(ends)))
    return out


def compare(path: Path) -> dict[str, tuple[set[int], set[int]]]:
    """For each squawk rule either tool reports: (squawk's statements, ours)."""
    theirs = by_statement(path, squawk_findings()[path.name])
    ours = by_statement(path, our_findings(path))
    rules = {r for r in set(theirs) | set(ours) if RULES.get(r) is None or RULES[r].origin
             == "squawk"}
    return {rule: (theirs.get(rule, set()), ours.get(rule, set())) for rule in sorted(rules)}


def test_the_pinned_squawk_is_installed() -> None:
    out = subprocess.run([squawk_binary(), "--version"], capture_output=True, text=True,
                         check=True).stdout
    assert out.split()[-1] == SQUAWK_PIN, f"squawk {out.strip()} is not the pinned {SQUAWK_PIN}"


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 60
    assert all(directives(p).get("corpus") for p in CASES), "each case says what it shows"


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_agrees_with_squawk_except_declared_divergences(path: Path) -> None:
    declared = {d.strip() for d in directives(path).get("diverges", "").split(",") if d.strip()}
    for rule, (theirs, ours) in compare(path).items():
        assert rule in RULES, f"squawk reports {rule}, which the workbench does not know"
        if rule in declared:
            assert theirs != ours, f"{rule} is declared a divergence but both tools agree"
        else:
            assert theirs == ours, f"{rule}: squawk on statements {sorted(theirs)}, " \
                                   f"workbench on {sorted(ours)}"
    for rule in declared:
        assert rule in compare(path), f"{rule} is declared a divergence but neither reports it"


def test_every_divergence_is_in_the_readme_table() -> None:
    readme = (REPO / "README.md").read_text()
    table = readme[readme.index("### Where the workbench differs from squawk"):]
    table = table[:table.index("\n\n", table.index("| ---"))]
    for path in CASES:
        for rule in filter(None, map(str.strip, directives(path).get("diverges", "").split(","))):
            assert f"`{rule}`" in table, f"{path.name}: divergence {rule} is not in the README"


def test_the_readme_documents_every_rule_and_the_current_figures() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("### Lint rules"):readme.index("### Where the workbench")]
    assert [name for name in RULES if f"`{name}`" not in section] == []
    figures = agreement()
    assert f"{figures['cases']} migrations covering every rule" in section.replace("\n", " ")
    assert f"squawk reports {figures['squawk']} (rule, statement) findings and the workbench " \
           f"{figures['workbench']}; all {figures['both']} are squawk's too, and the " \
           f"{figures['diverging']} others" in section.replace("\n", " ")


def test_the_corpus_covers_every_rule() -> None:
    ours = {rule for path in CASES for _, rule in our_findings(path)}
    theirs = {rule for found in squawk_findings().values() for _, rule in found}
    assert set(RULES) - ours == set(), "rules no corpus case shows"
    squawk_rules = {name for name, rule in RULES.items() if rule.origin == "squawk"}
    assert squawk_rules - theirs == set(), "squawk rules squawk never reported on the corpus"


def agreement() -> dict[str, int]:
    """Figures for the report: statements x rules found by each tool and by both."""
    totals = {"cases": len(CASES), "squawk": 0, "workbench": 0, "both": 0, "diverging": 0}
    for path in CASES:
        declared = set(map(str.strip, directives(path).get("diverges", "").split(",")))
        for rule, (theirs, ours) in compare(path).items():
            totals["squawk"] += len(theirs)
            totals["workbench"] += len(ours)
            totals["both"] += len(theirs & ours)
            totals["diverging"] += len(theirs ^ ours) if rule in declared else 0
    return totals


if __name__ == "__main__":
    for path in CASES:
        for rule, (theirs, ours) in compare(path).items():
            if theirs != ours:
                print(f"{path.name}: {rule}: squawk {sorted(theirs)} workbench {sorted(ours)}")
    print(agreement())
