"""JupyterLab in one command (``make lab`` / ``workbench lab``), beside the workbench's server.

The embedded server is started first (unless ``WORKBENCH_DSN`` names another), and JupyterLab's
kernels inherit the caller's ``WORKBENCH_HOME``, pinned to the folder the CLI would use here (the
nearest ``.workbench``), so every notebook talks to the same server as the CLI at the repo's
root, whatever folder the notebook sits in. JupyterLab listens on 127.0.0.1 only, with a fresh
random token passed through the environment (not the command line, where ``ps`` shows it); the
extension manager is read-only and news and update checks are off, so nothing is looked up on
the network. Stopping (Ctrl-C or
SIGTERM) shuts JupyterLab and its kernels down; the embedded server keeps running, as it does
after any CLI command (``workbench server stop`` / ``make stop``).

>>> lab(port=8888)            # doctest: +SKIP
JupyterLab: http://127.0.0.1:8888/lab?token=...
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError

HOST = "127.0.0.1"
DEFAULT_PORT = 8888
START_TIMEOUT_S = 90


def lab(port: int | None = None, root: str | Path | None = None, *,
        announce: Any = print) -> int:
    """Run JupyterLab until it stops or is interrupted; return its exit status."""
    from workbench.config import workbench_home
    from workbench.connect import is_embedded, resolve_dsn
    from workbench.dsn import mask_dsn

    root_dir = Path(root or Path.cwd()).resolve()
    if not root_dir.is_dir():
        raise WorkbenchError(f"--root {root_dir} is not a folder", "pass the folder to open")
    if port is not None and not 1 <= port <= 65535:
        raise WorkbenchError(f"--port must be 1 to 65535, got {port}", "e.g. --port 8888")
    home = workbench_home()
    chosen = port or (DEFAULT_PORT if _port_free(DEFAULT_PORT) else _free_port())
    if not _port_free(chosen):
        raise WorkbenchError(f"port {chosen} on {HOST} is in use", "pass another --port")
    dsn = resolve_dsn()  # starts the embedded server when it is the one in use
    token = secrets.token_hex(24)
    env = {**os.environ, "WORKBENCH_HOME": str(home), "JUPYTER_TOKEN": token}
    argv = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--ServerApp.ip={HOST}",
            f"--ServerApp.port={chosen}", "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={root_dir}", "--ServerApp.log_level=WARN",
            "--LabApp.extension_manager=readonly", "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0:
        argv.append("--ServerApp.allow_root=True")
    process = subprocess.Popen(argv, env=env, cwd=root_dir, start_new_session=True)
    stop = _stop_on_signals(process)
    try:
        _wait_ready(process, chosen, token)
        server = "embedded server" if is_embedded() else "server"
        announce(f"JupyterLab: http://{HOST}:{chosen}/lab?token={token}\n"
                 f"  notebooks use WORKBENCH_HOME={home} ({server} {mask_dsn(dsn)}); "
                 "%load_ext workbench adds %%sql and %%explain\n"
                 "  Ctrl-C stops JupyterLab; the database server keeps running (make stop)")
        sys.stdout.flush()
        return process.wait()
    except KeyboardInterrupt:
        return _terminate(process)
    finally:
        stop()
        if process.poll() is None:
            _terminate(process)


def _wait_ready(process: subprocess.Popen[bytes], port: int, token: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    url = f"http://{HOST}:{port}/api/status"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise WorkbenchError(f"JupyterLab exited at start (status {process.returncode})",
                                 "see its messages above; is jupyterlab installed (make install)?")
        request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
        with contextlib.suppress(OSError), urllib.request.urlopen(request, timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.3)
    _terminate(process)
    raise WorkbenchError(f"JupyterLab did not answer on {HOST}:{port} within {START_TIMEOUT_S} s",
                         "see its messages above")


def _terminate(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM: JupyterLab shuts its kernels down and exits; SIGKILL after 30 s."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return 0


def _stop_on_signals(process: subprocess.Popen[bytes]) -> Any:
    """SIGTERM/SIGHUP to us stop JupyterLab too (Ctrl-C arrives as KeyboardInterrupt)."""
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])
