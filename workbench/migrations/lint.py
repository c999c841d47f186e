"""Zero-downtime lint for migrations, on PostgreSQL's own parser, with squawk's rules and names.

Every rule squawk (the pinned squawk-cli) has for PostgreSQL migrations is here under its name,
on or off by default as in squawk, with squawk's options: ``pg_version`` (``--pg-version``),
``assume_in_transaction`` (``--assume-in-transaction``), ``include`` / ``exclude``. Rules the
workbench adds (``adding-serial-column``, ``ban-set-tablespace``, ``ban-backfill-in-ddl-transaction``
...) have names of their own. Where the workbench deliberately answers differently from squawk
(``DEFAULT now()`` on PG 11+, binary-coercible type changes ...) the README's table says why,
and the parity test holds both tools to it.

Suppression uses squawk's comments: ``-- squawk-ignore rule-a, rule-b`` on the line of a finding
or the line before it, ``-- squawk-ignore-file rule-a`` (or no names: every rule) anywhere in the
file. Each finding keeps its safe expand/contract alternative.

>>> [f.rule for f in lint_sql("ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now();").findings]
['require-lock-timeout', 'require-statement-timeout', 'prefer-robust-stmts']
>>> sql = "-- squawk-ignore ban-drop-column\\nALTER TABLE t DROP COLUMN IF EXISTS c;"
>>> [f.rule for f in lint_sql(sql).findings]
['require-lock-timeout', 'require-statement-timeout']
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError
from workbench.folders import read_text
from workbench.migrations.catalog import Catalog
from workbench.migrations.files import RUN_EVENTS, callback_event, read_migrations
from workbench.migrations.rules import ALIASES, CHECKS, RULES, expand
from workbench.migrations.rules.context import FileContext, LintOptions
from workbench.migrations.sqltext import SqlText, parse_sql_text

__all__ = ["Finding", "LintOptions", "LintResult", "lint", "lint_sql", "lint_text"]


@dataclass(frozen=True)
class Finding:
    """One problem at one line."""

    file: str
    line: int
    rule: str
    severity: str
    message: str
    safe_alternative: str

    def to_json(self) -> dict[str, Any]:
        """``{"file","line","rule","severity","message","safe_alternative"}``."""
        return asdict(self)

    def text(self) -> str:
        """``file:line: severity[rule] message`` and the safe alternative below it."""
        return (f"{self.file}:{self.line}: {self.severity}[{self.rule}] {self.message}\n"
                f"    safe: {self.safe_alternative}")

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        from workbench.display import pretty

        pretty(printer, cycle, self.text())

    def _repr_html_(self) -> str:
        return LintResult([self])._repr_html_()


@dataclass(repr=False)
class LintResult:
    """Findings for some files, and notes (what the linter could not know)."""

    findings: list[Finding] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        """Error-severity findings (the CLI exits 1 when there are any)."""
        return [f for f in self.findings if f.severity == "error"]

    def to_json(self) -> dict[str, Any]:
        """``{"findings": [...], "notes": [...]}``."""
        return {"findings": [f.to_json() for f in self.findings], "notes": self.notes}

    def text(self) -> str:
        """What ``workbench migrate lint`` prints."""
        return "\n".join([f.text() for f in self.findings]
                         + [f"{n['file']}:{n['line']}: note: {n['note']}" for n in self.notes]
                         ) or "no findings"

    def __repr__(self) -> str:
        return (f"<LintResult {len(self.errors)} errors, "
                f"{len(self.findings) - len(self.errors)} warnings, {len(self.notes)} notes>")

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        from workbench.display import pretty

        pretty(printer, cycle, self.text())

    def _repr_html_(self) -> str:
        import html

        from workbench.display import html_table

        if not self.findings and not self.notes:
            return "<p><b>Migration lint</b>: no findings.</p>"
        rows = [[f"{Path(f.file).name}:{f.line}", f.severity, f.rule, f.message,
                 f.safe_alternative] for f in self.findings]
        out = (f"<p><b>Migration lint</b>: {len(self.errors)} errors, "
               f"{len(self.findings) - len(self.errors)} warnings</p>"
               + html_table(["where", "severity", "rule", "problem", "safe alternative"], rows))
        if self.notes:
            out += "<ul>" + "".join(f"<li>{html.escape(str(n['file']))}:{n['line']}: "
                                    f"{html.escape(str(n['note']))}</li>" for n in self.notes) + "</ul>"
        return out


def options(pg_version: int | str = 18, assume_in_transaction: bool = False,
            include: Iterable[str] = (), exclude: Iterable[str] = ()) -> LintOptions:
    """Checked options: ``pg_version`` as squawk takes it (``13``, ``13.0``, ``"9.6"``) and
    rule names that exist."""
    text = str(pg_version)
    if not re.fullmatch(r"\d+(\.\d+){0,2}", text):
        raise WorkbenchError(f"--pg-version {text!r} is not a PostgreSQL version",
                             "e.g. --pg-version 13 or 13.0")
    major = int(text.split(".")[0])
    if major == 9 and "." in text:
        major = 9  # 9.x counts as 9 for every rule's threshold (11, 12, 19)
    wanted = expand(include) | expand(exclude)
    unknown = sorted(wanted - set(RULES))
    if unknown:
        raise WorkbenchError(f"unknown rule {', '.join(unknown)}",
                             "see the rule table in the README's Migrations section")
    return LintOptions(major, assume_in_transaction, frozenset(expand(include)),
                       frozenset(expand(exclude)))


def lint(target: str | Path, *, pg_version: int | str = 18, assume_in_transaction: bool = False,
         include: Iterable[str] = (), exclude: Iterable[str] = (), dsn: str | None = None,
         database: str | None = None) -> LintResult:
    """Lint a migration file, or a folder's versioned and repeatable files in the order they
    apply, subfolders included, and its callbacks (undo files drop what their migration added
    by nature; name one to lint it).
    With ``dsn`` or ``database``, function volatility and current column types come from that
    server.

    >>> [f.rule for f in lint("datasets/shop/migration-examples/dangerous").errors]
    ['changing-column-type']
    """
    opts = options(pg_version, assume_in_transaction, include, exclude)
    path = Path(target)
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = _in_apply_order(path)
        if not files:
            raise WorkbenchError(f"no migration file (*.sql) in {path}",
                                 "pass the folder of V<version>__*.sql files, or a .sql file")
    else:
        raise WorkbenchError(f"no migrations at {path}", "pass a folder or a .sql file")
    result = LintResult()
    with ExitStack() as stack:
        conn = None
        if dsn is not None or database is not None:
            from workbench.connect import connect

            conn = stack.enter_context(connect(dsn, database=database))
        catalog = Catalog(conn)
        for file in files:
            sql = parse_sql_text(read_text(file, "migration").removeprefix("\ufeff"), str(file))
            lint_text(sql, opts, catalog, result)
            catalog.learn(sql)
    return result


def _in_apply_order(folder: Path) -> list[Path]:
    """A Flyway folder's files as apply runs them (subfolders included), then its callbacks
    (they run on every apply: a blocking statement there blocks every deploy); a folder of
    other .sql files, by name."""
    names = sorted(p for p in folder.rglob("*.sql") if p.is_file())
    if all(re.match(r"^(V\d|U\d|R__)", p.name) or callback_event(p.name) for p in names):
        found = read_migrations(folder)
        callbacks = sorted((c for event in RUN_EVENTS for c in found.callbacks_for(event)),
                           key=lambda c: c.script)
        return [m.path for m in found.versioned + found.repeatable + callbacks]
    return [p for p in names if not re.match(r"^U\d", p.name)]


def lint_sql(sql: str, name: str = "<sql>", **kwargs: Any) -> LintResult:
    """Lint SQL text as one migration file (``lint``'s options as keywords)."""
    dsn = kwargs.pop("dsn", None)
    result = LintResult()
    if dsn is not None:
        from workbench.connect import connect

        with connect(dsn) as conn:
            lint_text(parse_sql_text(sql, name), options(**kwargs), Catalog(conn), result)
        return result
    lint_text(parse_sql_text(sql, name), options(**kwargs), Catalog(), result)
    return result


def lint_text(sql: SqlText, opts: LintOptions, catalog: Catalog, result: LintResult) -> None:
    """Run every check on one parsed file and keep what no suppression comment covers."""

    def enabled(rule: str) -> bool:
        return (RULES[rule].default or rule in opts.include) and rule not in opts.exclude

    ctx = FileContext(sql, opts, enabled, catalog.volatile, catalog.column_type)
    for check in CHECKS:
        check(ctx)
    ignore_all, file_rules, line_rules = _ignores(ctx)
    hits = sorted(ctx.hits, key=lambda h: (h.offset, h.rule))
    for hit in hits:
        line = sql.line(hit.offset)
        if hit.rule != "unused-ignore" and (
                ignore_all or hit.rule in file_rules
                or hit.rule in line_rules.get(line, ()) or hit.rule in line_rules.get(line - 1, ())):
            continue
        rule = RULES[hit.rule]
        result.findings.append(Finding(sql.name, line, hit.rule, rule.severity, hit.message,
                                       rule.safe))


def _ignores(ctx: FileContext) -> tuple[bool, set[str], dict[int, set[str]]]:
    """squawk's suppression comments: (ignore everything, file-wide rules, rules by line)."""
    ignore_all, file_rules, line_rules = False, set(), {}
    known = set(RULES) | set(ALIASES)
    for comment in ctx.sql.comments:
        body = comment.body.strip()
        body = body.split("--", 1)[0].strip()
        for prefix, scope in (("squawk-ignore-file", "file"), ("squawk-ignore", "line")):
            if body.startswith(prefix):
                names = [n.strip() for n in body[len(prefix):].split(",") if n.strip()]
                for name in names:
                    if name not in known and ctx.statements:
                        ctx.report("unused-ignore", ctx.statements[0], comment.start,
                                   f"unknown rule name {name} in a squawk-ignore comment")
                rules = expand(n for n in names if n in known)
                if scope == "file":
                    ignore_all = ignore_all or not names
                    file_rules |= rules
                else:
                    line_rules.setdefault(comment.line, set()).update(rules)
                break
    return ignore_all, file_rules, line_rules
