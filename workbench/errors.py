"""The one error type users see: what went wrong, and what to do about it."""

from __future__ import annotations


class WorkbenchError(Exception):
    """A problem the user can fix, reported as one line.

    >>> err = WorkbenchError("scale must be > 0, got -1", "pass --scale 0.2 or more")
    >>> str(err)
    'scale must be > 0, got -1 (pass --scale 0.2 or more)'
    """

    def __init__(self, what: str, hint: str | None = None) -> None:
        self.what = what
        self.hint = hint
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
