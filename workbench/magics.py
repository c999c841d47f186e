"""The IPython extension: ``%load_ext workbench`` gives SQL and EXPLAIN cells on the workbench's
server, and a status line.

- ``%%sql`` / ``%sql`` run SQL on the workbench's server (``WORKBENCH_DSN`` or the embedded one,
  started on demand) and return a pandas DataFrame of at most ``--limit`` rows (default 1000).
- ``%%explain`` shows ``EXPLAIN (ANALYZE, BUFFERS, ...)`` of the cell in the PEV2 plan viewer with
  the workbench's hints. The statement runs inside a transaction that is rolled back, so a read
  changes nothing and a write is undone; ``--no-analyze`` gives the estimated plan without
  running the statement at all (for writes with effects outside the transaction, or slow ones).
- ``%workbench`` prints the status line (server, database, dataset, scale); ``%workbench
  --database shop`` picks the database the cells use.

Parameters follow JupySQL's ``:name`` convention: ``:name`` takes the Python variable ``name``
and binds it as a query parameter (psycopg sends it apart from the SQL text), never formatted
into the SQL. JupySQL's ``{{name}}`` templates, which paste values into the text, are refused.
``::`` casts, strings, quoted identifiers, comments and dollar quotes are left alone.

>>> bind_parameters("SELECT * FROM t WHERE id = :id AND note = ':x' AND n::int > 0", {"id": 7})
('SELECT * FROM t WHERE id = %(id)s AND note = \\':x\\' AND n::int > 0', {'id': 7})
"""

from __future__ import annotations

import html
import re
import shlex
from typing import Any

import pandas as pd
from IPython.core.magic import Magics, cell_magic, line_cell_magic, line_magic, magics_class

from workbench.errors import WorkbenchError

ROW_LIMIT = 1000
_TOKENS = re.compile(
    r"--[^\n]*|/\*.*?\*/|[eE]'(?:[^'\\]|\\.|'')*'|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|"
    r"(\$\w*\$).*?\1|::|(?<![\w:]):([A-Za-z_]\w*)|\{\{|%", re.S)


def bind_parameters(sql: str, namespace: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``:name`` placeholders -> psycopg's ``%(name)s`` with values from ``namespace``; ``%``
    doubled so psycopg reads it as itself (the text is returned as it is when it has no
    parameter). Raises for unknown names and ``{{...}}`` templates."""
    params: dict[str, Any] = {}
    out: list[str] = []
    position = 0
    for match in _TOKENS.finditer(sql):
        out.append(sql[position:match.start()])
        token, name = match.group(0), match.group(2)
        if token == "{{":
            raise WorkbenchError("{{...}} templates would paste values into the SQL text",
                                 "write :name to bind the Python variable name as a parameter")
        if name is not None:
            if name not in namespace:
                raise WorkbenchError(f"no Python variable named {name!r} for :{name}",
                                     f"define {name} first, or write ::{name} for a cast")
            params[name] = namespace[name]
            out.append(f"%({name})s")
        else:
            out.append(token.replace("%", "%%"))
        position = match.end()
    out.append(sql[position:])
    if not params:  # psycopg reads % as itself when no parameters are passed
        return sql, {}
    return "".join(out), params


def load_ipython_extension(ipython: Any) -> None:
    """Called by ``%load_ext workbench``: registers the magics and puts the plan viewer's script
    on the page once."""
    from IPython.display import display

    from workbench.plans import viewer

    ipython.register_magics(WorkbenchMagics(ipython))
    version = viewer.viewer_manifest()["versions"]["pev2"]
    line = ("workbench: %%sql, %sql, %%explain and %workbench are ready; "
            f"plans show in PEV2 {version}")
    display({"text/html": f"<p>{html.escape(line)}</p>{viewer.script_element()}",
             "text/plain": line}, raw=True)
    viewer.mark_script_shown()


@magics_class
class WorkbenchMagics(Magics):  # type: ignore[misc]
    """``%%sql``, ``%sql``, ``%%explain`` and ``%workbench``."""

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.dsn: str | None = None
        self.database: str | None = None
        self._conn: Any = None
        self._conn_key: tuple[str | None, str | None] | None = None

    # -- connections ------------------------------------------------------------------------------

    def connection(self, dsn: str | None = None, database: str | None = None) -> Any:
        """The session's connection (autocommit) to the chosen database, reopened if closed."""
        from workbench.connect import connect

        key = (dsn or self.dsn, database or self.database)
        if self._conn is not None and (self._conn.closed or self._conn_key != key):
            if not self._conn.closed:
                self._conn.close()
            self._conn = None
        if self._conn is None:
            self._conn = connect(key[0], database=key[1] or _default_database(key[0]))
            self._conn_key = key
        return self._conn

    # -- magics -----------------------------------------------------------------------------------

    @line_cell_magic
    def sql(self, line: str, cell: str | None = None) -> pd.DataFrame | None:
        """%sql [--database NAME] [--dsn DSN] [--limit N] [--out NAME] [SQL]
        %%sql ... with the SQL in the cell. :name binds the Python variable name."""
        options, rest = _options(line, {"--database": str, "--dsn": str, "--limit": int,
                                        "--out": str})
        text = cell if cell is not None else rest
        if not text.strip():
            raise WorkbenchError("no SQL to run", "write the SQL after %sql or in the %%sql cell")
        frame = run_sql(self.connection(options.get("--dsn"), options.get("--database")), text,
                        self.shell.user_ns, limit=options.get("--limit", ROW_LIMIT))
        if options.get("--out"):
            self.shell.user_ns[options["--out"]] = frame
        return frame

    @cell_magic
    def explain(self, line: str, cell: str) -> Any:
        """%%explain [--no-analyze] [--timing-off] [--database NAME] [--dsn DSN] [--out NAME]
        EXPLAIN (ANALYZE, BUFFERS, ...) of the cell, rolled back; shown in the plan viewer."""
        options, rest = _options(line, {"--database": str, "--dsn": str, "--out": str,
                                        "--no-analyze": bool, "--timing-off": bool})
        if rest.strip():
            raise WorkbenchError(f"unexpected {rest.strip()!r} after %%explain",
                                 "options: --no-analyze --timing-off --database --dsn --out")
        result = explain_cell(self.connection(options.get("--dsn"), options.get("--database")),
                              cell, self.shell.user_ns, analyze=not options.get("--no-analyze"),
                              timing=not options.get("--timing-off"))
        if options.get("--out"):
            self.shell.user_ns[options["--out"]] = result
        return result

    @line_magic
    def workbench(self, line: str) -> None:
        """%workbench [--database NAME] [--dsn DSN]: choose the cells' database; print the status."""
        options, rest = _options(line, {"--database": str, "--dsn": str})
        if rest.strip():
            raise WorkbenchError(f"unexpected {rest.strip()!r} after %workbench",
                                 "options: --database NAME, --dsn DSN")
        if "--dsn" in options:
            self.dsn = options["--dsn"]
        if "--database" in options:
            self.database = options["--database"]
        print(status_line(self.dsn, self.database))


def run_sql(conn: Any, text: str, namespace: dict[str, Any], *, limit: int = ROW_LIMIT
            ) -> pd.DataFrame | None:
    """Run each statement of ``text``; the last one's rows as a DataFrame (at most ``limit``
    rows, with a note when there were more), or None when it returns no rows."""
    from workbench.loader import split_statements

    if limit < 1:
        raise WorkbenchError(f"--limit must be at least 1, got {limit}", "e.g. --limit 100")
    statements = split_statements(text)
    if not statements:
        raise WorkbenchError("no SQL to run", "the cell holds only comments")
    frame = None
    for statement in statements:
        query, params = bind_parameters(statement, namespace)
        frame = _execute(conn, query, params, limit)
    return frame


def _execute(conn: Any, query: str, params: dict[str, Any], limit: int) -> pd.DataFrame | None:
    import psycopg

    try:
        with conn.cursor() as cur:
            cur.execute(query, params or None)  # type: ignore[arg-type]
            if cur.description is None:
                return None
            rows = cur.fetchmany(limit + 1)
            columns = [c.name for c in cur.description]
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise WorkbenchError(f"the server refused the SQL: {first}", "fix the statement") from None
    frame = pd.DataFrame(rows[:limit], columns=columns)
    if len(rows) > limit:
        frame.attrs["truncated"] = True
        print(f"showing the first {limit} rows; pass --limit N for more")
    return frame


def explain_cell(conn: Any, text: str, namespace: dict[str, Any], *, analyze: bool = True,
                 timing: bool = True) -> Any:
    """EXPLAIN each statement of a cell (rolled back); one StatementPlan, or a PlanCapture with
    each plan displayed when there are several."""
    from workbench.loader import split_statements
    from workbench.plans.capture import PlanCapture, explain

    results = []
    statements = split_statements(text)
    if not statements:
        raise WorkbenchError("no SQL to explain", "write the statement in the %%explain cell")
    for index, statement in enumerate(statements, start=1):
        query, params = bind_parameters(statement, namespace)
        result = explain(conn, query, name=f"statement {index}" if len(statements) > 1
                         else "statement", params=params, analyze=analyze, timing=timing,
                         allow_writes=True, sql_params=params or None)
        result.sql = statement
        if result.error:
            raise WorkbenchError(f"EXPLAIN failed: {result.error}",
                                 "fix the statement; nothing was changed (rolled back)")
        results.append(result)
    if len(results) == 1:
        return results[0]
    from IPython.display import display

    for result in results:
        display(result)
    version = str(conn.execute("SHOW server_version").fetchone()[0]).split()[0]
    return PlanCapture(results, version, analyze)


def status_line(dsn: str | None = None, database: str | None = None) -> str:
    """``server ... | database ... | dataset ... scale ...``, without starting a server."""
    from workbench import __version__
    from workbench.connect import connect, is_embedded, resolve_dsn
    from workbench.databases import read_marker
    from workbench.dsn import describe

    database = database or _default_database(dsn)
    if is_embedded(dsn):
        from workbench.server import EmbeddedServer

        status = EmbeddedServer().status()
        if not status.running:
            return (f"workbench {__version__} | embedded PostgreSQL {status.server_version} not "
                    f"running (it starts on the first query; data {status.data_dir}) | database "
                    f"{database}")
        server = f"embedded PostgreSQL {status.server_version} on 127.0.0.1:{status.port}"
    else:
        server = f"server {describe(resolve_dsn(dsn, database))}"
    with connect(dsn, database=database) as conn:
        version = str(conn.execute("SHOW server_version").fetchone()[0]).split()[0]
        marker = read_marker(conn) or {}
    dataset = (f"dataset {marker.get('dataset')}, scale {marker.get('scale')}, seed "
               f"{marker.get('seed')}" if marker.get("dataset")
               else "no dataset loaded here (not a workbench database)")
    if "embedded" not in server:
        server += f" (PostgreSQL {version})"
    return f"workbench {__version__} | {server} | database {database} | {dataset}"


def _default_database(dsn: str | None) -> str:
    from workbench.config import env_dsn
    from workbench.dsn import parse

    chosen = dsn or env_dsn()
    return (parse(chosen).get("dbname") if chosen else None) or "postgres"


def _options(line: str, known: dict[str, type]) -> tuple[dict[str, Any], str]:
    """``--name value`` / ``--flag`` options at the start of a magic's line; the rest."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise WorkbenchError(f"cannot read the options {line!r}: {exc}", "check the quotes") from None
    options: dict[str, Any] = {}
    index = 0
    while index < len(words) and words[index].startswith("--"):
        word = words[index]
        name, _, inline = word.partition("=")
        kind = known.get(name)
        if kind is None:
            raise WorkbenchError(f"unknown option {name}", f"options: {', '.join(known)}")
        if kind is bool:
            options[name] = True
            index += 1
            continue
        value = inline or (words[index + 1] if index + 1 < len(words) else None)
        if value is None:
            raise WorkbenchError(f"{name} needs a value", f"e.g. {name} 100")
        try:
            options[name] = kind(value)
        except ValueError:
            raise WorkbenchError(f"{name} {value!r} is not a {kind.__name__}", f"e.g. {name} 100") \
                from None
        index += 1 if inline else 2
    # The SQL after the options is kept as typed (quotes and all): cut the options off the line.
    rest = line
    for word in words[:index]:
        rest = rest.lstrip()
        rest = rest[len(word):] if rest.startswith(word) else rest.split(None, 1)[-1]
    return options, rest.strip()
