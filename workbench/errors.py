"""The one error type users see: what went wrong, and what to do about it."""

from __future__ import annotations


class WorkbenchError(Exception):
    """A problem the user can fix, reported as one line.

    >>> err = WorkbenchError("scale must be > 0, got -1", "pass --scale 0.2 or more")
    >>> str(err)
    'scale must be > 0, got -1 (pass --scale 0.2 or more)'
    """

    def __init__(self, what: str, hint: str | None = None, *, sqlstate: str | None = None) -> None:
        self.what = what
        self.hint = hint
        self.sqlstate = sqlstate  # PostgreSQL's error code, when PostgreSQL said it
        super().__init__(f"{what} ({hint})" if hint else what)

    def _render_traceback_(self) -> list[str]:
        """IPython shows this instead of a traceback: the CLI's one line.

        >>> WorkbenchError("no dataset 'shp'", "one of: shop, events")._render_traceback_()
        ["workbench: error: no dataset 'shp' (one of: shop, events)"]
        """
        return [f"workbench: error: {self}"]


class UnsafeOperation(WorkbenchError):
    """A destructive step was refused on a database the workbench was not given."""


class ServerUnavailable(WorkbenchError):
    """The PostgreSQL server cannot be reached or started."""


class Incomplete(WorkbenchError):
    """A result was saved but is incomplete (a run aborted, an arm missing): exit status 3."""


def as_workbench_error(exc: BaseException) -> WorkbenchError | None:
    """An expected failure (I/O, decoding, PostgreSQL's errors) as one line; None for a bug.

    >>> str(as_workbench_error(FileNotFoundError(2, "No such file or directory", "x.sql")))
    'cannot use x.sql: No such file or directory (check the path)'
    """
    if isinstance(exc, WorkbenchError):
        return exc
    if isinstance(exc, UnicodeDecodeError):
        return WorkbenchError("a file is not UTF-8 text (binary or another encoding)",
                              "pass a UTF-8 text file")
    if isinstance(exc, OSError):
        where = exc.filename or "a file"
        return WorkbenchError(f"cannot use {where}: {exc.strerror or exc}",
                              "check the path" if isinstance(exc, FileNotFoundError)
                              else "check the path and its permissions")
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return None
    if isinstance(exc, psycopg.Error):
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        state = getattr(getattr(exc, "diag", None), "sqlstate", None)
        return WorkbenchError(f"PostgreSQL: {first}",
                              f"SQLSTATE {state}" if state else "see the server log",
                              sqlstate=state)
    return None
