"""DSN parsing, database switching and password masking (no server needed)."""

from __future__ import annotations

import pytest

from workbench.dsn import describe, mask_dsn, parse, redact, with_database
from workbench.errors import WorkbenchError


@pytest.mark.parametrize(
    ("dsn", "masked"),
    [
        ("postgresql://bob:s3cret@db:5432/shop", "postgresql://bob:***@db:5432/shop"),
        ("postgres://bob:p%40ss@db/shop?sslmode=require", "postgres://bob:***@db/shop?sslmode=require"),
        ("postgresql://bob@db/shop?password=hunter2&x=1", "postgresql://bob@db/shop?password=***&x=1"),
        ("host=db password=hunter2 dbname=x", "host=db password=*** dbname=x"),
        ("host=db password = 'a b\\' c' dbname=x", "host=db password = *** dbname=x"),
        ("host=db dbname=x", "host=db dbname=x"),
        ("postgresql://bob@db/shop", "postgresql://bob@db/shop"),
    ],
)
def test_mask_dsn_hides_every_password_form(dsn: str, masked: str) -> None:
    assert mask_dsn(dsn) == masked


def test_redact_removes_passwords_seen_in_parsed_dsns_from_free_text() -> None:
    parse("host=db user=u password=Zq9-very-secret dbname=x")
    text = "pgbench: connection to server failed for password Zq9-very-secret at postgresql://u:pw1@h/d"
    cleaned = redact(text)
    assert "Zq9-very-secret" not in cleaned
    assert "pw1" not in cleaned


def test_with_database_keeps_server_and_credentials() -> None:
    changed = parse(with_database("postgresql://bob:pw@db:6432/postgres?sslmode=disable", "shop"))
    assert changed == {
        "user": "bob", "password": "pw", "host": "db", "port": "6432", "dbname": "shop",
        "sslmode": "disable",
    }
    assert with_database("host=db dbname=a", None) == "host=db dbname=a"


def test_describe_names_host_port_and_database_without_credentials() -> None:
    assert describe("postgresql://u:pw@db.example:6432/shop") == "db.example:6432/shop"
    assert "pw" not in describe("host=h port=1 user=u password=pw dbname=d")


def test_malformed_dsn_is_one_clear_line_without_the_password() -> None:
    with pytest.raises(WorkbenchError) as err:
        parse("host=db password=topsecret bogus_key")
    message = str(err.value)
    assert "cannot read the DSN" in message and "\n" not in message
    assert "topsecret" not in message
