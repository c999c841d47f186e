"""The embedded server's life cycle, each test on a server of its own (own WORKBENCH_HOME)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from workbench.errors import WorkbenchError
from workbench.server import SERVICE_USER, EmbeddedServer, _alive, _child_pids

REPO = Path(__file__).resolve().parents[1]


def _postgres_pids_for(data_dir: Path) -> list[int]:
    """Every live process whose command line names this data directory, and their children."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if str(data_dir).encode() in cmdline and _alive(int(entry.name)):
            pids.append(int(entry.name))
    return pids + [c for p in pids for c in _child_pids(p) if _alive(c)]


@pytest.fixture
def own_server(tmp_path: Path):
    server = EmbeddedServer(home=tmp_path / "home")
    yield server
    server.stop()
    assert _postgres_pids_for(server.data_dir) == []


def test_start_is_idempotent_and_stop_leaves_no_process(own_server: EmbeddedServer) -> None:
    dsn = own_server.start()
    pid = own_server.status().pid
    assert own_server.start() == dsn
    assert own_server.status().pid == pid
    with psycopg.connect(dsn) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
    assert own_server.stop() is True
    assert own_server.status().running is False
    assert _postgres_pids_for(own_server.data_dir) == []
    assert own_server.stop() is False


def test_measurement_settings_are_in_force(own_server: EmbeddedServer) -> None:
    with psycopg.connect(own_server.start()) as conn:
        settings = dict(conn.execute(
            "select name, setting from pg_settings where name = any(%s)",
            [["shared_preload_libraries", "track_io_timing", "pg_stat_statements.track",
              "compute_query_id", "listen_addresses", "jit"]],
        ).fetchall())
    assert settings == {
        "shared_preload_libraries": "pg_stat_statements,auto_explain",
        "track_io_timing": "on",
        "pg_stat_statements.track": "all",
        "compute_query_id": "on",
        "listen_addresses": "127.0.0.1",
        "jit": "off",
    }


def test_concurrent_starts_give_one_server(tmp_path: Path) -> None:
    home = tmp_path / "home"
    code = "from workbench.server import EmbeddedServer; print(EmbeddedServer().start())"
    env = {**os.environ, "WORKBENCH_HOME": str(home)}
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              env=env) for _ in range(3)]
    outputs = {p.communicate(timeout=120)[0].strip() for p in procs}
    server = EmbeddedServer(home=home)
    try:
        assert all(p.returncode == 0 for p in procs)
        assert len(outputs) == 1
        postmasters = [p for p in _postgres_pids_for(server.data_dir)
                       if Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")[0].endswith(b"postgres")
                       and b"-D" in Path(f"/proc/{p}/cmdline").read_bytes()]
        assert len(postmasters) == 1
    finally:
        server.stop()
    assert _postgres_pids_for(server.data_dir) == []


def test_recovers_from_a_crash_that_left_postmaster_pid(own_server: EmbeddedServer) -> None:
    own_server.start()
    pid = own_server.status().pid
    assert pid is not None
    children = _child_pids(pid)
    os.kill(pid, signal.SIGKILL)
    for child in children:  # backends exit on postmaster death; don't wait on them for long
        os.kill(child, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (own_server.data_dir / "postmaster.pid").exists()
    assert own_server.status().running is False
    dsn = own_server.start()
    with psycopg.connect(dsn) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
    assert own_server.status().pid != pid


@pytest.mark.skipif(os.geteuid() != 0, reason="only root needs the unprivileged account")
def test_as_root_the_server_runs_as_the_unprivileged_account(own_server: EmbeddedServer) -> None:
    import pwd

    own_server.start()
    status = Path(f"/proc/{own_server.status().pid}/status").read_text()
    uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
    assert pwd.getpwuid(uid).pw_name == SERVICE_USER
    assert (own_server.password_path.stat().st_mode & 0o077) == 0


def test_bad_pg_bindir_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    with pytest.raises(WorkbenchError, match=r"has no postgres binary \(point it at"):
        EmbeddedServer(home=tmp_path, bindir=tmp_path / "bin")


def test_password_files_are_never_readable_by_others(own_server: EmbeddedServer) -> None:
    """Watch the state folder while the first start runs initdb: no password file is ever seen
    with group or other permissions (the old code left initdb.pw 0644 for about 0.7 s)."""
    import threading

    seen: dict[str, set[int]] = {}
    done = threading.Event()
    old_umask = os.umask(0o022)

    def watch() -> None:
        while not done.is_set():
            for name in ("initdb.pw", "password"):
                try:
                    mode = (own_server.root / name).stat().st_mode & 0o777
                except OSError:
                    continue
                seen.setdefault(name, set()).add(mode)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        own_server.start()
    finally:
        done.set()
        watcher.join()
        os.umask(old_umask)
    assert "initdb.pw" in seen and "password" in seen  # the watcher did see both files
    assert seen == {"initdb.pw": {0o600}, "password": {0o600}}
