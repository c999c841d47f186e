"""A real PgBouncer in front of the embedded server, started and stopped like the server itself.

Each configuration (pool mode and pool size) runs as its own PgBouncer in a private folder under
``WORKBENCH_HOME/pgbouncer/<mode>-<size>/``, listening on 127.0.0.1 only, on a free port. It
reaches the server through the server's private Unix socket; clients authenticate with SCRAM
against an auth file holding the server's SCRAM verifier for ``postgres`` (never the password,
never printed; mode 0600). As root it runs as the unprivileged ``workbench`` account, as the server
does. ``workbench server stop`` stops every PgBouncer of the state folder.

Debian 12's PgBouncer is 1.18: it has no protocol-level prepared statements in transaction
pooling (1.21 added ``max_prepared_statements``), so ``--protocol prepared`` through
``pgbouncer:transaction`` is refused with the reason, and allowed where the version has it.

>>> bouncer = PgBouncer(mode="transaction", pool_size=8)     # doctest: +SKIP
>>> target = bouncer.route(resolve_target("shop"))           # doctest: +SKIP
>>> run_workload(on=target, clients=64)                      # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg

from workbench.config import workbench_home
from workbench.errors import WorkbenchError
from workbench.folders import write_private
from workbench.stats import Sampler
from workbench.target import Target

MODES = ("transaction", "session", "statement")
DEFAULT_POOL_SIZE = 8
MAX_CLIENT_CONN = 4000
PREPARED_SINCE = (1, 21)
INSTALL_HINT = ("install Debian's pgbouncer package (make test does it as root: "
                "scripts/os-packages.sh), or give a pooler's DSN with --via DSN")


@dataclass(frozen=True)
class Route:
    """How the workload's clients reach the server: direct, a managed PgBouncer, or a DSN.

    >>> Route.parse("pgbouncer:session", pool_size=4)
    Route(kind='pgbouncer', mode='session', pool_size=4, dsn=None)
    >>> Route.parse(None).kind
    'direct'
    """

    kind: str = "direct"
    mode: str = "transaction"
    pool_size: int = DEFAULT_POOL_SIZE
    dsn: str | None = None
    tcp: bool = False  # to a managed PgBouncer: over 127.0.0.1 with the password, not its socket

    @classmethod
    def parse(cls, via: str | None, pool_size: int | None = None) -> Route:
        """``None``/``direct`` (the embedded server's private socket, no password), ``tcp``
        (127.0.0.1 with the password, as an application would connect: the fair baseline for
        connection churn), ``pgbouncer[:transaction|:session|:statement]``, or a pooler's DSN."""
        if pool_size is not None and (isinstance(pool_size, bool) or not isinstance(pool_size, int)
                                      or pool_size < 1):
            raise WorkbenchError(f"--pool-size must be a whole number >= 1, got {pool_size!r}",
                                 "e.g. --pool-size 8")
        if via in (None, "", "direct"):
            if pool_size is not None:
                raise WorkbenchError("--pool-size needs a pooler", "add --via pgbouncer")
            return cls()
        assert via is not None
        if via == "tcp":
            if pool_size is not None:
                raise WorkbenchError("--pool-size needs a pooler", "add --via pgbouncer")
            return cls("tcp", "none", 0)
        if via.startswith("pgbouncer"):
            parts = via.split(":")[1:]
            tcp = "tcp" in parts
            modes = [p for p in parts if p != "tcp"] or ["transaction"]
            if len(modes) > 1 or modes[0] not in MODES:
                raise WorkbenchError(f"unknown pool mode {':'.join(modes)!r} in --via {via}",
                                     f"use pgbouncer:{' or pgbouncer:'.join(MODES)}, "
                                     "optionally followed by :tcp")
            return cls("pgbouncer", modes[0], pool_size or DEFAULT_POOL_SIZE, tcp=tcp)
        if "=" in via or "://" in via:
            from workbench.dsn import parse

            parse(via)
            return cls("dsn", "unknown", pool_size or 0, via)
        raise WorkbenchError(f"--via {via!r} is neither pgbouncer[:mode] nor a DSN",
                             "e.g. --via pgbouncer:transaction, or --via postgresql://...:6432/db")

    @property
    def label(self) -> str:
        """direct / tcp / pgbouncer:transaction(8) / pgbouncer:transaction:tcp(8) / pooler."""
        if self.kind == "tcp":
            return "tcp"
        if self.kind == "pgbouncer":
            return f"pgbouncer:{self.mode}{':tcp' if self.tcp else ''}({self.pool_size})"
        if self.kind == "dsn":
            from workbench.dsn import describe

            return f"pooler {describe(self.dsn or '')}"
        return "direct"

    def apply(self, target: Target) -> Target:
        """The target with its clients sent along this route (the workbench's own connections
        for statistics, copies and DDL stay direct)."""
        if self.kind == "direct":
            return replace(target, client_dsn=None, route="direct", pooler_admin=None)
        if self.kind == "dsn":
            from workbench.dsn import with_database

            return replace(target, client_dsn=with_database(self.dsn or "", target.database),
                           route=self.label, pooler_admin=None)
        if self.kind == "tcp":
            return replace(target, client_dsn=tcp_dsn(target.database), route="tcp",
                           pooler_admin=None)
        bouncer = PgBouncer(mode=self.mode, pool_size=self.pool_size, server_dsn=target.dsn)
        bouncer.start()
        return replace(target, client_dsn=bouncer.client_dsn(target.database, tcp=self.tcp),
                       route=self.label, pooler_admin=bouncer.client_dsn("pgbouncer"))


def tcp_dsn(database: str) -> str:
    """The embedded server over TCP on 127.0.0.1, with its password (SCRAM): how an application
    connects. Keep it out of anything shown or saved; :func:`workbench.dsn.redact` knows it."""
    from psycopg.conninfo import make_conninfo

    from workbench.connect import is_embedded
    from workbench.dsn import parse
    from workbench.server import SUPERUSER, EmbeddedServer

    if not is_embedded(None):
        raise WorkbenchError("--via tcp reaches the embedded server over TCP; with WORKBENCH_DSN "
                             "the DSN already says how clients connect", "drop --via tcp")
    server = EmbeddedServer()
    server.start()
    port = server.status().port
    dsn = make_conninfo(host="127.0.0.1", port=str(port), user=SUPERUSER, dbname=database,
                        password=server.password_path.read_text().strip())
    parse(dsn)  # remembered as a secret to scrub
    return dsn


def pgbouncer_binary() -> Path:
    """The pgbouncer program: WORKBENCH_PGBOUNCER, else PATH, else Debian's /usr/sbin."""
    configured = os.environ.get("WORKBENCH_PGBOUNCER")
    if configured:
        found = configured if Path(configured).is_file() else None
    else:
        found = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer"
                                              if Path("/usr/sbin/pgbouncer").is_file() else None)
    if not found:
        raise WorkbenchError("--via pgbouncer needs the pgbouncer program, which is not installed",
                             INSTALL_HINT)
    return Path(found)


def pgbouncer_version(binary: Path | None = None) -> tuple[int, int]:
    """(major, minor) of the installed PgBouncer, e.g. (1, 18)."""
    out = subprocess.run([str(binary or pgbouncer_binary()), "--version"], capture_output=True,
                         text=True, check=False).stdout
    match = re.search(r"PgBouncer (\d+)\.(\d+)", out)
    if not match:
        raise WorkbenchError(f"cannot tell PgBouncer's version from {out.strip()[:60]!r}",
                             INSTALL_HINT)
    return int(match[1]), int(match[2])


def check_protocol(route: Route, protocol: str) -> None:
    """Refuse what the pooler cannot do: prepared statements through transaction pooling on a
    PgBouncer older than 1.21."""
    if route.kind == "pgbouncer" and route.mode != "session" and protocol == "prepared":
        version = pgbouncer_version()
        if version < PREPARED_SINCE:
            raise WorkbenchError(
                f"PgBouncer {version[0]}.{version[1]} cannot carry protocol-level prepared "
                f"statements in {route.mode} pooling (1.21 added max_prepared_statements)",
                "use --protocol extended or simple, or --via pgbouncer:session")


class PgBouncer:
    """One PgBouncer configuration in front of the embedded server."""

    def __init__(self, *, mode: str = "transaction", pool_size: int = DEFAULT_POOL_SIZE,
                 server_dsn: str | None = None, home: str | os.PathLike[str] | None = None
                 ) -> None:
        if mode not in MODES:
            raise WorkbenchError(f"unknown pool mode {mode!r}", f"use one of {MODES}")
        self.mode, self.pool_size = mode, pool_size
        self.server_dsn = server_dsn
        self.home = Path(home).resolve() if home else workbench_home()
        self.root = self.home / "pgbouncer" / f"{mode}-{pool_size}"
        self.state_path = self.root / "state.json"

    # -- public -------------------------------------------------------------------------------

    def start(self) -> int:
        """Start (idempotent); return the port."""
        from workbench.server import _chown, _grant_traverse, _service_account

        server = self._server()
        state = self._state()
        if state and self._alive(state):
            if state.get("server") == [server["host"], server["port"]]:
                return int(state["port"])
            self.stop()  # it fronts another server (another PostgreSQL version): restart it
        binary = pgbouncer_binary()
        version = pgbouncer_version(binary)
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)
        account = _service_account()
        if account:
            _grant_traverse(self.root)
        port = _free_port()
        verifier = self._verifier(server["dsn"])
        write_private(self.root / "userlist.txt", f'"{server["user"]}" "{verifier}"\n')
        write_private(self.root / "password", server["password"] + "\n")
        # Its private socket (0700, like the server's) trusts; 127.0.0.1 asks for the password.
        (self.root / "hba.conf").write_text("local all all trust\n"
                                            "host all all 127.0.0.1/32 scram-sha-256\n")
        sock = self.socket_dir()
        sock.mkdir(mode=0o700, parents=True, exist_ok=True)
        sock.chmod(0o700)
        (self.root / "pgbouncer.ini").write_text(self._config(server, port, version, sock))
        for name in ("userlist.txt", "pgbouncer.ini", "password", "hba.conf"):
            _chown(self.root / name, account)
        _chown(sock, account)
        _chown(self.root, account)
        (self.root / "pgbouncer.pid").unlink(missing_ok=True)
        kwargs: dict[str, Any] = {}
        if account:
            kwargs = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        _raise_fd_limit()
        result = subprocess.run([str(binary), "-d", str(self.root / "pgbouncer.ini")],
                                capture_output=True, text=True, check=False, cwd=str(self.root),
                                start_new_session=True, **kwargs)
        if result.returncode != 0 or not _wait_port(port, 10):
            detail = (result.stderr or _last_lines(self.root / "pgbouncer.log")).strip()
            raise WorkbenchError(f"PgBouncer did not start: {detail.splitlines()[-1] if detail else '?'}",
                                 f"see {self.root / 'pgbouncer.log'}")
        self.state_path.write_text(json.dumps({"port": port, "pid": self._pid(),
                                               "version": ".".join(map(str, version)),
                                               "user": server["user"],
                                               "server": [server["host"], server["port"]]}))
        return port

    def stop(self) -> bool:
        """Stop it and wait until its process is gone; return whether it was running."""
        state = self._state()
        pid = self._pid()
        if not pid or not _is_pgbouncer(pid):
            self.state_path.unlink(missing_ok=True)
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)  # immediate shutdown (1.18): clients are cut
        deadline = time.monotonic() + 10
        while _is_pgbouncer(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _is_pgbouncer(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)
        del state
        self.state_path.unlink(missing_ok=True)
        return True

    def client_dsn(self, database: str, *, tcp: bool = False) -> str:
        """The DSN clients use to reach ``database`` through this PgBouncer: its private socket
        (no password, as the server's own socket), or with ``tcp`` 127.0.0.1 with the password
        (keep that out of anything shown or saved; :func:`workbench.dsn.redact` knows it)."""
        state = self._state()
        if not state:
            raise WorkbenchError("PgBouncer is not running", "start it with --via pgbouncer")
        from psycopg.conninfo import make_conninfo

        from workbench.dsn import parse

        if not tcp:
            return make_conninfo(host=str(self.socket_dir()), port=str(state["port"]),
                                 user=state["user"], dbname=database)
        password = (self.root / "password").read_text().strip()
        dsn = make_conninfo(host="127.0.0.1", port=str(state["port"]), user=state["user"],
                            dbname=database, password=password)
        parse(dsn)  # remembers the password as a secret to scrub
        return dsn

    def status(self) -> dict[str, Any]:
        """running, port, mode, pool size, version."""
        state = self._state()
        return {"running": bool(state and self._alive(state)), "mode": self.mode,
                "pool_size": self.pool_size, "port": state.get("port"),
                "version": state.get("version"), "folder": str(self.root)}

    # -- inside ---------------------------------------------------------------------------------

    def _server(self) -> dict[str, str]:
        """The embedded server's socket folder, port, superuser and its password."""
        from workbench.connect import is_embedded
        from workbench.dsn import parse
        from workbench.server import EmbeddedServer

        if self.server_dsn and not is_embedded(None) and not _is_embedded_dsn(self.server_dsn):
            raise WorkbenchError("the workbench runs PgBouncer in front of its embedded server "
                                 "only", "for another server, start a pooler there and pass its "
                                 "DSN with --via DSN")
        server = EmbeddedServer(home=self.home)
        dsn = self.server_dsn or server.start()
        params = parse(dsn)
        return {"dsn": dsn, "host": params["host"], "port": params["port"],
                "user": params.get("user", "postgres"),
                "password": server.password_path.read_text().strip()}

    def _verifier(self, dsn: str) -> str:
        from workbench.connect import connect

        with connect(dsn) as conn:
            row = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = current_user"
                               ).fetchone()
        if not row or not str(row[0]).startswith("SCRAM-SHA-256$"):
            raise WorkbenchError("the server's superuser has no SCRAM password",
                                 "start the embedded server with `workbench server start`")
        return str(row[0])

    def socket_dir(self) -> Path:
        """Its private socket folder (a short one in /tmp when the path would be too long)."""
        preferred = self.root / "sock"
        if len(str(preferred)) + len("/.s.PGSQL.65535") > 100:
            import hashlib

            digest = hashlib.sha1(str(self.root).encode()).hexdigest()[:12]
            preferred = Path("/tmp") / f"workbench-pgbouncer-{digest}"
        return preferred

    def _config(self, server: dict[str, str], port: int, version: tuple[int, int],
                sock: Path) -> str:
        lines = [
            "[databases]",
            f"* = host={server['host']} port={server['port']}",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {port}",
            f"unix_socket_dir = {sock}",
            "unix_socket_mode = 0600",
            "auth_type = hba",
            f"auth_hba_file = {self.root / 'hba.conf'}",
            f"auth_file = {self.root / 'userlist.txt'}",
            f"admin_users = {server['user']}",
            f"stats_users = {server['user']}",
            f"pool_mode = {self.mode}",
            f"default_pool_size = {self.pool_size}",
            "min_pool_size = 0",
            "reserve_pool_size = 0",
            f"max_client_conn = {MAX_CLIENT_CONN}",
            "max_db_connections = 0",
            "ignore_startup_parameters = extra_float_digits",
            f"logfile = {self.root / 'pgbouncer.log'}",
            f"pidfile = {self.root / 'pgbouncer.pid'}",
        ]
        if version >= PREPARED_SINCE:
            lines.append("max_prepared_statements = 200")
        return "\n".join(lines) + "\n"

    def _state(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.state_path.read_text()))
        except (OSError, ValueError):
            return {}

    def _pid(self) -> int | None:
        try:
            return int((self.root / "pgbouncer.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _alive(self, state: dict[str, Any]) -> bool:
        pid = self._pid()
        return bool(pid and _is_pgbouncer(pid) and _port_open(int(state["port"])))


def poolers(home: str | os.PathLike[str] | None = None) -> list[PgBouncer]:
    """Every PgBouncer configuration with a folder in the state folder."""
    base = (Path(home).resolve() if home else workbench_home()) / "pgbouncer"
    found = []
    for folder in sorted(base.glob("*-*")) if base.is_dir() else []:
        mode, _, size = folder.name.partition("-")
        if mode in MODES and size.isdigit():
            found.append(PgBouncer(mode=mode, pool_size=int(size), home=home))
    return found


def stop_all(home: str | os.PathLike[str] | None = None) -> int:
    """Stop every PgBouncer of the state folder; return how many were running."""
    return sum(bouncer.stop() for bouncer in poolers(home))


class PoolSampler(Sampler):
    """Samples PgBouncer's SHOW POOLS (clients active and waiting, servers active and idle, the
    longest wait) every ``interval`` seconds in a background thread, for one database."""

    name = "workbench-pools"
    COLUMNS = ["t", "cl_active", "cl_waiting", "sv_active", "sv_idle", "sv_used", "maxwait_s"]

    def __init__(self, admin_dsn: str, database: str, interval: float = 1.0) -> None:
        super().__init__(admin_dsn, interval)
        self.database = database
        self.rows: list[tuple[Any, ...]] = []

    def connect(self) -> psycopg.Connection[Any]:
        """PgBouncer's admin console (simple protocol, no transactions)."""
        return psycopg.connect(self.dsn, autocommit=True, connect_timeout=10)

    def sample(self, conn: psycopg.Connection[Any], t: float) -> None:
        """The database's row of SHOW POOLS."""
        cur = conn.execute("SHOW POOLS")
        names = [d.name for d in cur.description or []]
        for values in cur.fetchall():
            row = dict(zip(names, values, strict=True))
            if row.get("database") != self.database:
                continue
            wait = float(row.get("maxwait") or 0) + float(row.get("maxwait_us") or 0) / 1e6
            self.rows.append((t, row.get("cl_active"), row.get("cl_waiting"),
                              row.get("sv_active"), row.get("sv_idle"), row.get("sv_used"),
                              round(wait, 6)))

    def frame(self) -> pd.DataFrame:
        """The samples, one row per sample."""
        return pd.DataFrame(self.rows, columns=self.COLUMNS)


def _is_embedded_dsn(dsn: str) -> bool:
    from workbench.dsn import parse
    from workbench.server import EmbeddedServer

    try:
        state = EmbeddedServer()._state()
    except WorkbenchError:
        return False
    return bool(state) and parse(dsn).get("host") == state.get("socket_dir")


def _raise_fd_limit() -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, MAX_CLIENT_CONN + 1000) if hard != resource.RLIM_INFINITY \
        else MAX_CLIENT_CONN + 1000
    if soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def _is_pgbouncer(pid: int) -> bool:
    try:
        return b"pgbouncer" in Path(f"/proc/{pid}/cmdline").read_bytes() and \
            Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait_port(port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _port_open(port):
            return True
        time.sleep(0.05)
    return False


def _last_lines(path: Path) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-5:])
    except OSError:
        return ""
