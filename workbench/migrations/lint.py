"""Zero-downtime lint for migrations: what takes a blocking lock, rewrites a table, or breaks
running code, and the safe expand/contract alternative.

A file runs as one transaction (Flyway's behaviour), so its statements are judged together: an
index built on a table the same file creates is fine; ``ADD CONSTRAINT ... NOT VALID`` followed by
``VALIDATE CONSTRAINT`` in the same file still holds the lock for the whole validation;
``SET lock_timeout`` counts only when it comes before the statements it protects.

Statements are parsed with sqlglot (statement kind and tables); where sqlglot cannot parse a
statement the text rules still apply and a note says so.

Rules (squawk's names where squawk has the same rule):

| rule | squawk | severity |
| --- | --- | --- |
| require-concurrent-index-creation | same | error |
| require-concurrent-index-deletion | same | error |
| ban-concurrent-index-creation-in-transaction | same | error |
| adding-field-with-default | same (volatile defaults; any default before PG 11) | error |
| adding-required-field | same | error |
| adding-not-nullable-field | same | error |
| changing-column-type | same | error |
| constraint-missing-not-valid | same (also VALIDATE in the same file) | error |
| disallowed-unique-constraint | same (UNIQUE / PRIMARY KEY without USING INDEX) | error |
| renaming-column, renaming-table | same | error |
| ban-drop-column, ban-drop-table, ban-drop-database | same | error |
| ban-vacuum-full, ban-cluster | ours | error |
| transaction-nesting | same | error |
| require-lock-timeout, require-statement-timeout | squawk's older names (now require-timeout-settings) | warning |
| prefer-identity, prefer-text-field, prefer-timestamptz, ban-char-field | same | warning |
| prefer-bigint-over-int | same (key and identity columns only) | warning |
| prefer-robust-stmts | same (ADD/DROP COLUMN, type changes, CREATE/DROP INDEX, CREATE TABLE) | warning |
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from workbench.migrations.files import Statement, read_migration, split_statements

_VOLATILE = re.compile(r"\b(now|clock_timestamp|statement_timestamp|transaction_timestamp|random|"
                       r"gen_random_uuid|uuid_generate_v\d\w*|nextval|timeofday)\s*\(|"
                       r"\bcurrent_timestamp\b|\bcurrent_date\b|\blocaltimestamp\b", re.I)
_IDENT = r'(?:"[^"]+"|[\w$]+)'
_TABLE = rf"{_IDENT}(?:\s*\.\s*{_IDENT})?"
# Statements that take locks a queue can form behind (CONCURRENTLY builds included: they wait
# for every transaction on the table, as squawk also holds).
_LOCKING = re.compile(r"^\s*(ALTER\s+TABLE|CREATE\s+(UNIQUE\s+)?INDEX|DROP\s+(TABLE|INDEX)|"
                      r"TRUNCATE|VACUUM\s+FULL|CLUSTER|REINDEX)", re.I | re.S)

SAFE = {
    "require-concurrent-index-creation":
        "CREATE INDEX CONCURRENTLY in a migration of its own (it cannot run in a transaction); "
        "drop any INVALID leftover if it fails, then retry",
    "require-concurrent-index-deletion": "DROP INDEX CONCURRENTLY in a migration of its own",
    "ban-concurrent-index-creation-in-transaction":
        "put the CONCURRENTLY statement alone in its own migration file",
    "adding-field-with-default":
        "expand: add the column without a default (or with a constant one on PG 11+); backfill in "
        "batches; then SET DEFAULT for new rows",
    "adding-required-field":
        "add the column nullable (or with a constant default), backfill, then add a CHECK "
        "(col IS NOT NULL) NOT VALID, VALIDATE it, and SET NOT NULL in a later migration",
    "adding-not-nullable-field":
        "ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT in a later "
        "migration; then SET NOT NULL (PG 12+ uses the validated check, no scan) and drop the check",
    "changing-column-type":
        "expand/contract: add a new column of the new type, dual-write, backfill in batches, "
        "switch reads, drop the old column later",
    "constraint-missing-not-valid":
        "ADD CONSTRAINT ... NOT VALID now (no scan, brief lock); VALIDATE CONSTRAINT in a separate "
        "migration (SHARE UPDATE EXCLUSIVE lock: writes go on)",
    "disallowed-unique-constraint":
        "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... UNIQUE/PRIMARY KEY "
        "USING INDEX",
    "renaming-column":
        "expand/contract: add the new column, dual-write and backfill, move readers, drop the old "
        "column last (or a view keeping the old name)",
    "renaming-table":
        "keep the old name as a view (or synonym) while clients move, then drop it",
    "ban-drop-column":
        "stop reading and writing the column in every service first (deploy), then drop it in a "
        "later release",
    "ban-drop-table": "stop all use first (deploy), keep a backup or rename, drop in a later release",
    "ban-drop-database": "never from a migration",
    "ban-vacuum-full": "pg_repack or pg_squeeze rebuild the table without a long exclusive lock",
    "ban-cluster": "pg_repack --order-by rebuilds in order without a long exclusive lock",
    "transaction-nesting":
        "remove BEGIN/COMMIT: the migration already runs in one transaction",
    "require-lock-timeout":
        "start the file with SET lock_timeout = '2s' so a blocked lock fails fast instead of "
        "queueing every query behind it; retry later",
    "require-statement-timeout": "start the file with SET statement_timeout = '5min'",
    "prefer-identity": "bigint GENERATED BY DEFAULT AS IDENTITY",
    "prefer-text-field": "text with a CHECK (length(col) <= n) NOT VALID constraint",
    "prefer-timestamptz": "timestamptz (timestamp with time zone)",
    "ban-char-field": "text (char(n) pads with spaces and is no faster)",
    "prefer-bigint-over-int": "bigint keys: changing an int key's type later rewrites the table",
    "prefer-robust-stmts":
        "IF NOT EXISTS / IF EXISTS, so a migration that stopped half way (outside a transaction) "
        "can simply run again",
}


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
    """Findings for some files, and notes on statements sqlglot could not read."""

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


def lint(target: str | Path, pg_version: int = 18) -> LintResult:
    """Lint a migration file, or the versioned and repeatable files of a folder (undo files drop
    what their migration added by nature; name one to lint it).

    >>> [f.rule for f in lint("datasets/shop/migrations-examples/dangerous").findings]  # doctest: +SKIP
    ['require-lock-timeout', 'changing-column-type', ...]
    """
    path = Path(target)
    files = [path] if path.is_file() else sorted(p for p in path.glob("*.sql")
                                                  if not p.name.startswith("U"))
    result = LintResult()
    for file in files:
        statements = read_migration(file).statements if re.match(r"^[VUR]", file.name) \
            else split_statements(file.read_text())
        lint_statements(str(file), statements, pg_version, result)
    return result


def lint_sql(sql: str, name: str = "<sql>", pg_version: int = 18) -> LintResult:
    """Lint SQL text as one migration file."""
    result = LintResult()
    lint_statements(name, split_statements(sql), pg_version, result)
    return result


def lint_statements(file: str, statements: list[Statement], pg_version: int,
                    result: LintResult) -> None:
    """Judge one file's statements together."""
    created: set[str] = set()
    not_valid: set[str] = set()
    lock_timeout = statement_timeout = False
    concurrent = [s for s in statements if not s.transactional]

    def add(stmt: Statement, rule: str, severity: str, message: str) -> None:
        result.findings.append(Finding(file, stmt.line, rule, severity, message, SAFE[rule]))

    for stmt in statements:
        text = _plain(stmt.sql)
        upper = text.upper()
        tree = _parse(stmt, file, result)
        if re.match(r"^SET\s+(LOCAL\s+)?LOCK_TIMEOUT\b", upper):
            lock_timeout = True
        if re.match(r"^SET\s+(LOCAL\s+)?STATEMENT_TIMEOUT\b", upper):
            statement_timeout = True
        if re.match(r"^(BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK)\b", upper):
            add(stmt, "transaction-nesting", "error",
                f"{upper.split()[0]} inside a migration, which already runs in a transaction")
            continue
        table = _target_table(tree, text)
        creates = (isinstance(tree, exp.Create) and tree.kind == "TABLE") or bool(
            re.match(r"^CREATE\s+(UNLOGGED\s+)?TABLE\b", upper))
        if creates and table:
            created.add(table)
        new_table = table in created and not re.match(r"^CREATE\s+TABLE", upper)
        if _LOCKING.match(text) and not new_table:
            if not lock_timeout:
                add(stmt, "require-lock-timeout", "warning",
                    "takes a strong lock with no lock_timeout set before it")
                lock_timeout = True  # one finding per file is enough
            if not statement_timeout:
                add(stmt, "require-statement-timeout", "warning",
                    "may run long with no statement_timeout set before it")
                statement_timeout = True
        _index_rules(stmt, upper, table, new_table, len(statements), concurrent, add)
        _column_rules(stmt, upper, new_table, pg_version, add)
        _constraint_rules(stmt, upper, new_table, not_valid, add)
        _type_rules(stmt, upper, add)
        _robust_rules(stmt, upper, new_table, add)


def _index_rules(stmt: Statement, upper: str, table: str | None, new_table: bool, count: int,
                 concurrent: list[Statement], add: Any) -> None:
    if re.match(r"^CREATE\s+(UNIQUE\s+)?INDEX\s+(?!CONCURRENTLY)", upper) and not new_table:
        add(stmt, "require-concurrent-index-creation", "error",
            f"CREATE INDEX on {table or 'a table'} blocks its writes while the index builds")
    if re.match(r"^DROP\s+INDEX\s+(?!CONCURRENTLY)", upper):
        add(stmt, "require-concurrent-index-deletion", "error",
            "DROP INDEX takes an ACCESS EXCLUSIVE lock on the table")
    if stmt in concurrent and count > 1 and re.match(r"^(CREATE|DROP)\s+(UNIQUE\s+)?INDEX", upper):
        add(stmt, "ban-concurrent-index-creation-in-transaction", "error",
            "CONCURRENTLY cannot run inside the file's transaction alongside other statements")


def _column_rules(stmt: Statement, upper: str, new_table: bool, pg_version: int, add: Any) -> None:
    if not upper.startswith("ALTER TABLE") or new_table:
        return
    for clause in _clauses(upper):
        if m := re.match(rf"^ADD\s+(COLUMN\s+)?(IF\s+NOT\s+EXISTS\s+)?({_IDENT})\s+(.*)$", clause, re.S):
            if m[3] in ("CONSTRAINT", "PRIMARY", "UNIQUE", "FOREIGN", "CHECK"):
                continue
            rest = m[4]
            default = re.search(r"\bDEFAULT\b(.*)", rest, re.S)
            if default and (pg_version < 11 or _VOLATILE.search(default[1]) or
                            re.search(r"\b(GENERATED\s+ALWAYS\s+AS\s*\()", rest)):
                add(stmt, "adding-field-with-default", "error",
                    f"adding {m[3].lower()} with this default rewrites the whole table"
                    + (" (PostgreSQL < 11)" if pg_version < 11 else " (volatile default)"))
            if re.search(r"\bNOT\s+NULL\b", rest) and not default and "IDENTITY" not in rest:
                add(stmt, "adding-required-field", "error",
                    f"NOT NULL column {m[3].lower()} without a default fails on a table with rows")
        if re.match(rf"^ALTER\s+(COLUMN\s+)?{_IDENT}\s+SET\s+NOT\s+NULL", clause):
            add(stmt, "adding-not-nullable-field", "error",
                "SET NOT NULL scans the table under an ACCESS EXCLUSIVE lock")
        if re.match(rf"^ALTER\s+(COLUMN\s+)?{_IDENT}\s+(SET\s+DATA\s+)?TYPE\b", clause):
            add(stmt, "changing-column-type", "error",
                "changing a column's type rewrites the table under an ACCESS EXCLUSIVE lock")
        if re.match(r"^RENAME\s+(COLUMN\s+)?(?!TO\b)", clause) and " TO " in f" {clause} ":
            add(stmt, "renaming-column", "error",
                "renaming a column breaks every running query that uses the old name")
        elif re.match(r"^RENAME\s+TO\b", clause):
            add(stmt, "renaming-table", "error",
                "renaming a table breaks every running query that uses the old name")
        if re.match(r"^DROP\s+(COLUMN\s+)?(?!CONSTRAINT\b)", clause):
            add(stmt, "ban-drop-column", "error",
                "dropping a column breaks services that still read or write it")


def _constraint_rules(stmt: Statement, upper: str, new_table: bool, not_valid: set[str],
                      add: Any) -> None:
    if upper.startswith("ALTER TABLE") and not new_table:
        for clause in _clauses(upper):
            m = re.match(rf"^ADD\s+(CONSTRAINT\s+({_IDENT})\s+)?(FOREIGN\s+KEY|CHECK|UNIQUE|PRIMARY"
                         r"\s+KEY)\b(.*)$", clause, re.S)
            if not m:
                v = re.match(rf"^VALIDATE\s+CONSTRAINT\s+({_IDENT})", clause)
                if v and v[1] in not_valid:
                    add(stmt, "constraint-missing-not-valid", "error",
                        f"VALIDATE CONSTRAINT {v[1].lower()} in the same transaction as its NOT "
                        "VALID add keeps the lock for the whole validation")
                continue
            kind, tail = m[3], m[4]
            if kind in ("FOREIGN KEY", "CHECK"):
                if "NOT VALID" in tail:
                    if m[2]:
                        not_valid.add(m[2])
                else:
                    add(stmt, "constraint-missing-not-valid", "error",
                        f"adding a {kind.lower()} constraint scans the table under a lock that "
                        "blocks writes")
            elif "USING INDEX" not in tail:
                add(stmt, "disallowed-unique-constraint", "error",
                    f"adding a {kind.lower()} constraint builds its index under an ACCESS "
                    "EXCLUSIVE lock")
    if m := re.match(rf"^DROP\s+TABLE\s+(IF\s+EXISTS\s+)?({_TABLE})", upper):
        add(stmt, "ban-drop-table", "error", f"dropping {m[2].lower()} breaks services still using it")
    if upper.startswith("DROP DATABASE"):
        add(stmt, "ban-drop-database", "error", "a migration must not drop a database")
    if re.match(r"^VACUUM\s*(\(\s*)?FULL\b", upper):
        add(stmt, "ban-vacuum-full", "error", "VACUUM FULL holds an ACCESS EXCLUSIVE lock while it "
            "rewrites the table")
    if upper.startswith("CLUSTER"):
        add(stmt, "ban-cluster", "error", "CLUSTER holds an ACCESS EXCLUSIVE lock while it rewrites")


def _type_rules(stmt: Statement, upper: str, add: Any) -> None:
    if not re.match(r"^(CREATE\s+TABLE|ALTER\s+TABLE)", upper):
        return
    if re.search(r"\b(SMALL|BIG)?SERIAL\d?\b", upper):
        add(stmt, "prefer-identity", "warning", "serial columns: use an identity column")
    if re.search(r"\b(VARCHAR|CHARACTER\s+VARYING)\s*\(", upper):
        add(stmt, "prefer-text-field", "warning",
            "varchar(n): changing n later takes an ACCESS EXCLUSIVE lock")
    if re.search(r"\bTIMESTAMP\b(?!\s*(\(\d\)\s*)?WITH\s+TIME\s+ZONE)(?!TZ)", upper):
        add(stmt, "prefer-timestamptz", "warning", "timestamp without time zone loses the offset")
    if re.search(r"\b(CHAR|CHARACTER)\s*\(\d+\)", upper) and not re.search(r"VARYING\s*\(", upper):
        add(stmt, "ban-char-field", "warning", "char(n) pads values with spaces")
    if re.search(r"\b(ID|\w+_ID)\s+(INT|INTEGER|INT4|SERIAL)\b", upper) or \
            re.search(r"\b(INT|INTEGER|INT4)\s+(GENERATED|PRIMARY\s+KEY)", upper):
        add(stmt, "prefer-bigint-over-int", "warning", "an int key runs out at 2^31")


def _robust_rules(stmt: Statement, upper: str, new_table: bool, add: Any) -> None:
    fragile = (
        (re.match(r"^CREATE\s+(UNIQUE\s+)?INDEX\b", upper) and "IF NOT EXISTS" not in upper)
        or (re.match(r"^CREATE\s+TABLE\b", upper) and "IF NOT EXISTS" not in upper)
        or (re.match(r"^DROP\s+(INDEX|TABLE)\b", upper) and "IF EXISTS" not in upper)
        or (upper.startswith("ALTER TABLE") and not new_table and any(
            (re.match(r"^ADD\s+(COLUMN\s+)?(?!CONSTRAINT|PRIMARY|UNIQUE|FOREIGN|CHECK)", c)
             and "IF NOT EXISTS" not in c) or
            (re.match(r"^DROP\s+(COLUMN\s+)?(?!CONSTRAINT)", c) and "IF EXISTS" not in c) or
            re.match(rf"^ALTER\s+(COLUMN\s+)?{_IDENT}\s+(SET\s+DATA\s+)?TYPE\b", c)
            for c in _clauses(upper)))
    )
    if fragile:
        add(stmt, "prefer-robust-stmts", "warning",
            "without IF [NOT] EXISTS the migration cannot simply be run again after a partial failure")


def _clauses(upper: str) -> list[str]:
    """The comma-separated actions of ALTER TABLE (commas inside parentheses kept)."""
    m = re.match(rf"^ALTER\s+TABLE\s+(IF\s+EXISTS\s+)?(ONLY\s+)?{_TABLE}\s+(.*)$", upper, re.S)
    if not m:
        return []
    body, depth, part, parts = m[3], 0, "", []
    for char in body:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(part.strip())
            part = ""
        else:
            part += char
    parts.append(part.strip())
    return [p for p in parts if p]


def _plain(sql: str) -> str:
    """Comments removed, whitespace folded."""
    text = re.sub(r"--[^\n]*|/\*.*?\*/", " ", sql, flags=re.S)
    return re.sub(r"\s+", " ", text).strip()


def _parse(stmt: Statement, file: str, result: LintResult) -> exp.Expression | None:
    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # its fallback warnings become our notes
    try:
        tree = sqlglot.parse_one(stmt.sql, read="postgres")
    except Exception as exc:  # noqa: BLE001 - sqlglot raises several kinds
        result.notes.append({"file": file, "line": stmt.line,
                             "note": f"sqlglot could not parse this statement ({type(exc).__name__});"
                                     " statement-level text rules were used"})
        return None
    if isinstance(tree, exp.Command):
        result.notes.append({"file": file, "line": stmt.line,
                             "note": "sqlglot read this statement only as a command; statement-level "
                                     "text rules were used"})
        return None
    return tree


def _target_table(tree: exp.Expression | None, text: str) -> str | None:
    if tree is not None:
        table = tree.find(exp.Table)
        if table is not None and table.name:
            schema = table.args.get("db")
            return (f"{schema.name}.{table.name}" if schema is not None else table.name).lower()
    m = re.match(rf"^(?:ALTER|CREATE|DROP)\s+(?:UNIQUE\s+)?(?:TABLE|INDEX)\s+(?:CONCURRENTLY\s+)?"
                 rf"(?:IF\s+(?:NOT\s+)?EXISTS\s+)?(?:ONLY\s+)?(?:{_IDENT}\s+ON\s+)?({_TABLE})", text, re.I)
    return m[1].lower().replace('"', "") if m else None
