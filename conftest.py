"""Shared fixtures for tests/ and the nbval notebooks: a real PostgreSQL for the whole session.

The embedded servers live in a private WORKBENCH_HOME for the test session and are stopped at the
end, so no postgres process survives the test run.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent
SHARED = REPO.parent / "shared"
PG15_BINDIR = Path("/usr/lib/postgresql/15/bin")

# Notebooks under tests/ are executed by the tests that own them (with their parameters), not by
# nbval, which checks the stored outputs of notebooks/.
collect_ignore_glob = ["tests/notebooks/*.ipynb"]

_TEST_HOME = Path(tempfile.mkdtemp(prefix="workbench-tests-"))
os.environ["WORKBENCH_HOME"] = str(_TEST_HOME)
os.environ.pop("WORKBENCH_PG_BINDIR", None)
os.environ.pop("WORKBENCH_PGBENCH", None)


def pytest_configure(config: pytest.Config) -> None:
    """tmp_path folders inside the session's own WORKBENCH_HOME, not /tmp/pytest-of-<user>: other
    pytest sessions on the machine reset that folder to 0700 (the server's OS account can no
    longer reach a home in it) and remove its older numbered folders while tests use them."""
    if not config.option.basetemp:
        config.option.basetemp = str(_TEST_HOME / "pytest")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop every server the session started, whatever happened."""
    from workbench.server import EmbeddedServer

    for state in _TEST_HOME.glob("pg*/server.json"):
        try:
            bindir = json.loads(state.read_text()).get("bindir")
            EmbeddedServer(home=_TEST_HOME, bindir=bindir).stop()
        except Exception as exc:  # noqa: BLE001 - report, keep stopping the others
            print(f"could not stop the server in {state.parent}: {exc}")
            return  # keep the folder: a server may still be using it
    shutil.rmtree(_TEST_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def test_home() -> Path:
    """The session's WORKBENCH_HOME."""
    return _TEST_HOME


@pytest.fixture(scope="session")
def server_dsn() -> Iterator[str]:
    """DSN of a running server: WORKBENCH_DSN if set, else the embedded PostgreSQL 18."""
    if os.environ.get("WORKBENCH_DSN"):
        yield os.environ["WORKBENCH_DSN"]
        return
    from workbench.server import EmbeddedServer

    server = EmbeddedServer(home=_TEST_HOME)
    yield server.start()
    server.stop()


@pytest.fixture(scope="session")
def pg15_dsn() -> Iterator[str]:
    """DSN of an embedded PostgreSQL 15 (Debian's binaries); skipped where they are absent."""
    if not (PG15_BINDIR / "postgres").exists():
        pytest.skip("PostgreSQL 15 binaries are not installed here")
    from workbench.server import EmbeddedServer

    server = EmbeddedServer(home=_TEST_HOME, bindir=PG15_BINDIR)
    yield server.start()
    server.stop()


def _fresh(dsn: str) -> Iterator[str]:
    from workbench.databases import create_database, drop_database

    name = f"wbtest_{uuid.uuid4().hex[:10]}"
    target = create_database(name, dsn)
    yield target
    drop_database(name, dsn)


@pytest.fixture
def fresh_db(server_dsn: str) -> Iterator[str]:
    """A new database marked as the workbench's, dropped afterwards; yields its DSN."""
    yield from _fresh(server_dsn)


@pytest.fixture
def fresh_db15(pg15_dsn: str) -> Iterator[str]:
    """Like fresh_db, on PostgreSQL 15."""
    yield from _fresh(pg15_dsn)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the clone (plans corpus); skipped when absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside this clone")
    return SHARED
