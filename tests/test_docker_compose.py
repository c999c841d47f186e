"""docker-compose.yml cannot be started here (no Docker engine): check what can be checked.

The file parses, the services, ports and credentials match the README's WORKBENCH_DSN lines, and
the db service carries the same measurement settings as the embedded server.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from workbench.server import MEASUREMENT_SETTINGS

REPO = Path(__file__).resolve().parents[1]


def _compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_services_ports_and_pool_mode() -> None:
    services = _compose()["services"]
    assert set(services) == {"db", "pgbouncer"}
    assert services["db"]["ports"] == ["127.0.0.1:5432:5432"]
    assert services["pgbouncer"]["ports"] == ["127.0.0.1:6432:6432"]
    assert services["pgbouncer"]["environment"]["POOL_MODE"] == "transaction"
    assert services["pgbouncer"]["environment"]["DB_HOST"] == "db"


def test_db_image_adds_hypopg() -> None:
    dockerfile = (REPO / _compose()["services"]["db"]["build"] / "Dockerfile").read_text()
    assert re.search(r"^FROM postgres:1[78]", dockerfile, re.M)
    assert "hypopg" in dockerfile


def test_db_has_the_embedded_measurement_settings() -> None:
    command = _compose()["services"]["db"]["command"]
    given = dict(arg.split("=", 1) for arg in command if "=" in arg)
    for name, (value, _why) in MEASUREMENT_SETTINGS.items():
        if name == "listen_addresses":  # the container listens inside its own network
            continue
        assert given.get(name) == value.strip("'"), name


def test_readme_dsns_match_the_services() -> None:
    env = _compose()["services"]["db"]["environment"]
    readme = (REPO / "README.md").read_text()
    assert "docker compose up -d" in readme
    for port in ("5432", "6432"):
        dsn = f"postgresql://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}@localhost:{port}/postgres"
        assert dsn in readme
