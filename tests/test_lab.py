"""`make lab`: JupyterLab on loopback beside the workbench's server, its kernels on the CLI's
WORKBENCH_HOME; started, asked over its API, stopped, nothing left running."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pids_with(text: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def _api(port: int, path: str, token: str | None, method: str = "GET") -> tuple[int, dict]:
    headers = {"Authorization": f"token {token}"} if token else {}
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers,
                                     method=method, data=b"{}" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, {}


@pytest.mark.slow
def test_make_lab_serves_on_loopback_with_the_clis_home_and_stops_clean(
        server_dsn: str, test_home: Path) -> None:
    port = _free_port()
    # -o: do not reinstall the venv from inside a test even if pyproject.toml is newer.
    make = subprocess.Popen(["make", "-s", "-o", ".venv/.installed", "lab", f"LAB_PORT={port}"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, start_new_session=True,
                            env={**os.environ, "WORKBENCH_HOME": str(test_home)})
    try:
        url = ""
        deadline = time.monotonic() + 120
        while not url and time.monotonic() < deadline:
            line = make.stdout.readline()
            if not line and make.poll() is not None:
                break
            match = re.search(r"JupyterLab: (http://127\.0\.0\.1:(\d+)/lab\?token=(\w+))", line)
            url = match.group(1) if match else ""
        assert url, "make lab printed no URL"
        token = url.rsplit("token=", 1)[1]
        assert f":{port}/" in url
        # Loopback only: JupyterLab listens on 127.0.0.1, not on every address.
        lab_pids = _pids_with(f"--ServerApp.port={port}")
        assert lab_pids and all(b"--ServerApp.ip=127.0.0.1" in Path(f"/proc/{p}/cmdline").read_bytes()
                                for p in lab_pids)
        assert token.encode() not in Path(f"/proc/{lab_pids[0]}/cmdline").read_bytes()
        assert _api(port, "/api/status", None)[0] == 403
        status, body = _api(port, "/api/status", token)
        assert status == 200 and "started" in body
        # Nothing looked up on the network: news and update checks are off.
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=10)
        assert '"news": {"disabled": true}' in page.read().decode()
        assert _api(port, "/lab/api/update", token) == (200, {"notification": None})
        # A kernel started by JupyterLab gets the CLI's WORKBENCH_HOME, so it finds the same
        # embedded server (the one the session started: its DSN names that home).
        status, kernel = _api(port, "/api/kernels", token, method="POST")
        assert status == 201
        kernel_pids = []
        for _ in range(100):
            kernel_pids = _pids_with(kernel["id"])
            if kernel_pids:
                break
            time.sleep(0.1)
        assert kernel_pids
        environ = Path(f"/proc/{kernel_pids[0]}/environ").read_bytes().split(b"\0")
        assert f"WORKBENCH_HOME={test_home}".encode() in environ
        assert str(test_home) in server_dsn
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        make.wait(timeout=60)
    time.sleep(0.5)
    left = [p for p in lab_pids + kernel_pids if Path(f"/proc/{p}").exists()
            and Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"]
    assert left == [], "processes left after make lab stopped"
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, "the port still answers"
