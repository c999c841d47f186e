"""Connections and their errors, against the real embedded server."""

from __future__ import annotations

import socket

import psycopg
import pytest

from workbench.connect import connect, resolve_dsn
from workbench.dsn import parse
from workbench.errors import ServerUnavailable, WorkbenchError
from workbench.server import EmbeddedServer


def _tcp_dsn(server_dsn: str, password: str) -> str:
    port = parse(server_dsn)["port"]
    return f"postgresql://postgres:{password}@127.0.0.1:{port}/postgres"


def _embedded_password() -> str:
    return EmbeddedServer().password_path.read_text().strip()


def test_no_dsn_means_the_embedded_server(server_dsn: str) -> None:
    with connect() as conn:
        assert conn.execute("select current_database()").fetchone() == ("postgres",)
    assert parse(resolve_dsn(database="other"))["dbname"] == "other"


def test_tcp_on_loopback_needs_the_generated_password(server_dsn: str) -> None:
    with connect(_tcp_dsn(server_dsn, _embedded_password())) as conn:
        assert conn.execute("select inet_server_addr()::text").fetchone() == ("127.0.0.1/32",)


def test_wrong_password_names_the_server_and_the_fix(server_dsn: str) -> None:
    with pytest.raises(WorkbenchError) as err:
        connect(_tcp_dsn(server_dsn, "not-the-password"))
    message = str(err.value)
    assert "password authentication failed" in message
    assert "127.0.0.1:" in message and "not-the-password" not in message
    assert "\n" not in message


def test_server_down_is_one_line_with_host_port_and_fix() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ServerUnavailable) as err:
        connect(f"postgresql://u:pw@127.0.0.1:{port}/db")
    assert str(err.value).startswith(f"cannot connect to 127.0.0.1:{port}/db: the server is not")
    assert "workbench server start" in str(err.value)


def test_missing_database_suggests_load_or_database(server_dsn: str) -> None:
    with pytest.raises(WorkbenchError, match="does not exist.*--database"):
        connect(server_dsn, database="no_such_db_here")


def test_connection_is_real_psycopg(server_dsn: str) -> None:
    with connect(server_dsn) as conn:
        assert isinstance(conn, psycopg.Connection)
        assert conn.autocommit is True
