"""`tenantry init`, `db` and the global options."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from tenantry import __version__
from tenantry.app import Composition
from tenantry.domain.errors import Unauthenticated
from tenantry.entrypoints.cli.runtime import shown_url
from tenantry.services import accounts, credentials
from tenantry.services.context import Actor, ServiceContext
from tenantry.storage.migrations import alembic_config, head_revision, upgrade_database

from clitools import Cli

INIT_KEYS = {
    "created",
    "account_id",
    "admin_email",
    "admin_password",
    "client_id",
    "client_secret",
}


def test_version(cli: Cli) -> None:
    assert cli.ok("--version").stdout.strip() == f"tenantry {__version__}"


def test_init_twice_creates_once_and_shows_secrets_once(cli: Cli, ctx: ServiceContext) -> None:
    first = cli.json("init", "--admin-email", "Root@Example.com", "--client-id", "ops1")
    assert set(first) == INIT_KEYS
    assert first["created"] is True
    assert first["admin_email"] == "root@example.com"
    assert first["client_id"] == "ops1"
    assert first["admin_password"]
    # The secret printed is the real one: it buys an access token.
    issued = credentials.issue_access_token(ctx, "ops1", first["client_secret"])
    assert issued.token.startswith("tna_")

    second = cli.json("init")
    assert set(second) == INIT_KEYS
    assert second == {
        "created": False,
        "account_id": first["account_id"],
        "admin_email": "root@example.com",
        "admin_password": None,
        "client_id": "ops1",
        "client_secret": None,
    }
    roots = accounts.list_accounts(ctx, Actor.system(face="test"))
    assert [a.id for a in roots] == [first["account_id"]]


def _panel_value(output: str, label: str) -> str:
    [line] = [line for line in output.splitlines() if f"│ {label}  " in line]
    return line.strip("│ ").split()[-1]


def test_init_human_output_shows_secrets_only_the_first_time(cli: Cli, ctx: ServiceContext) -> None:
    first = cli.ok("init", "--account-name", "Platform").stdout
    assert "shown once" in first
    assert _panel_value(first, "Admin e-mail") == "admin@example.com"
    assert _panel_value(first, "API client id") == "tenantryadmin"
    password = _panel_value(first, "Admin password")
    secret = _panel_value(first, "API client secret")
    # Printed whole, on one line: it buys an access token.
    assert credentials.issue_access_token(ctx, "tenantryadmin", secret).expires_in > 0

    second = cli.ok("init").stdout
    assert "Already initialized" in second
    [host] = accounts.list_accounts(ctx, Actor.system(face="test"))
    assert _panel_value(second, "Account id") == host.id
    assert host.name == "Platform"
    assert password not in second
    assert secret not in second
    assert "Admin password" not in second
    assert "API client secret" not in second


def test_init_refuses_a_bad_client_id_in_red_without_traceback(cli: Cli) -> None:
    result = cli("init", "--client-id", "not valid!")
    assert result.exit_code == 1
    assert "An API account name has only letters and digits" in result.stderr
    assert result.stdout == ""


def test_db_current_shows_the_head_revision(cli: Cli, composition: Composition) -> None:
    current, head = composition.database_revisions()
    assert head is not None
    assert current == head  # the fixture's database is migrated
    output = cli.ok("db", "current").stdout
    assert f"current: {head}" in output
    assert f"head:    {head}" in output
    assert "db upgrade" not in output


def test_db_upgrade_migrates_an_empty_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    cli = Cli(url)
    before = cli.ok("db", "current").stdout
    assert "none (empty database)" in before
    assert "Run `tenantry db upgrade`" in before
    cli.ok("db", "upgrade")
    after = cli.ok("db", "current").stdout
    assert "none" not in after
    assert "db upgrade" not in after


def test_a_revoked_init_client_stops_working(cli: Cli, ctx: ServiceContext) -> None:
    created = cli.json("init")
    cli.ok("api-accounts", "revoke", "--account", created["account_id"], created["client_id"])
    with pytest.raises(Unauthenticated):
        credentials.issue_access_token(ctx, created["client_id"], created["client_secret"])


UNREACHABLE_PG = "postgresql+psycopg://ops:s3cret-pw@127.0.0.1:1/tenantry"
UNOPENABLE_SQLITE = "sqlite:////no/such/folder/tenantry.db"


@pytest.mark.parametrize(
    ("database_url", "command", "reason"),
    [
        (UNREACHABLE_PG, ["accounts", "list"], "Connection refused"),
        (UNREACHABLE_PG, ["db", "upgrade"], "Connection refused"),
        (UNREACHABLE_PG, ["init"], "Connection refused"),
        # (`accounts list` on a SQLite file that is not there names the file instead.)
        (UNOPENABLE_SQLITE, ["db", "upgrade"], "unable to open database file"),
        (UNOPENABLE_SQLITE, ["init"], "unable to open database file"),
    ],
)
def test_an_unreachable_database_is_one_line_not_a_traceback(
    database_url: str, command: list[str], reason: str
) -> None:
    result = Cli(database_url)(*command)
    assert result.exit_code == 1
    assert result.stderr.startswith("Cannot reach the database: ")
    assert reason in result.stderr
    assert "s3cret-pw" not in result.output


def test_a_missing_database_file_is_named_and_not_created(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.db"
    result = Cli(f"sqlite:///{path}")("accounts", "list")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"There is no database file {path}")
    assert "tenantry init" in result.stderr
    assert not path.exists()


def test_a_database_without_the_schema_is_named_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    url = f"sqlite:///{path}"
    result = Cli(url)("accounts", "list")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"The database {url} has no tenantry tables.")


def test_a_database_of_an_older_release_asks_for_an_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    head = head_revision()
    assert head is not None
    previous = ScriptDirectory.from_config(alembic_config(url)).get_revision(head).down_revision
    assert isinstance(previous, str)
    upgrade_database(url, previous)
    result = Cli(url)("accounts", "list")
    assert result.exit_code == 1
    assert f"is at revision {previous}, not {head}" in result.stderr
    assert Cli(url).ok("db", "upgrade")
    assert Cli(url).ok("accounts", "list")


def test_printed_database_urls_hide_the_password() -> None:
    assert shown_url("postgresql://ops:s3cret@db.internal:5432/tenantry") == (
        "postgresql://ops:***@db.internal:5432/tenantry"
    )
    assert shown_url("sqlite:///./tenantry.db") == "sqlite:///./tenantry.db"
