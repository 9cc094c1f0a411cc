"""`tenantry sso set|show|remove`: an account's identity provider, its secret never shown."""

from __future__ import annotations

import pytest

from tenantry.services.context import ServiceContext

from clitools import Cli
from factories import World

SECRET = "the-client-secret-value"


@pytest.fixture(autouse=True)
def secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TENANTRY_SECRET_KEY", "k" * 40)


def set_args(account_id: str, *extra: str) -> list[str]:
    return [
        "sso",
        "set",
        account_id,
        "--issuer",
        "https://idp.example.com/",
        "--client-id",
        "tenantry",
        "--client-secret",
        SECRET,
        "--domains",
        "Example.com, example.net",
        *extra,
    ]


def test_set_show_and_remove(cli: Cli, ctx: ServiceContext, world: World) -> None:
    tenant = world.a
    made = cli.json(*set_args(tenant.id, "--jit-role", "view", "--no-require-verified-email"))
    assert made["issuer"] == "https://idp.example.com"
    assert made["domains"] == ["example.com", "example.net"]
    assert made["jit_role"] == "view"
    assert made["require_verified_email"] is False
    assert made["scopes"] == ["openid", "email", "profile"]
    assert "client_secret" not in made
    shown = cli.ok("sso", "show", tenant.id).stdout
    assert "https://idp.example.com" in shown
    assert SECRET not in shown
    with ctx.uow(readonly=True) as uow:
        stored = uow.single_sign_on.find(tenant.id)
        [event] = uow.audit.query(account_ids=None, action="account.sso_set")
    assert stored is not None
    assert SECRET not in stored.client_secret  # encrypted at rest
    assert SECRET not in str(event.after)
    assert SECRET not in str(event.before)

    assert cli.json("sso", "remove", tenant.id) == {"account_id": tenant.id, "removed": True}
    assert cli.json("sso", "show", tenant.id) == {"account_id": tenant.id, "provider": None}
    gone = cli("sso", "remove", tenant.id)
    assert gone.exit_code != 0
    assert "no identity provider" in gone.output


def test_a_domain_serves_one_account_and_bad_input_changes_nothing(
    cli: Cli, ctx: ServiceContext, world: World
) -> None:
    first, second = world.a, world.b
    cli.ok(*set_args(first.id))
    taken = cli(*set_args(second.id))
    assert taken.exit_code != 0
    assert "serves example.com, example.net" in taken.output
    plain_http = cli(
        "sso",
        "set",
        second.id,
        "--issuer",
        "http://idp.example.com",
        "--client-id",
        "x",
        "--client-secret",
        "y",
        "--domains",
        "other.example",
    )
    assert plain_http.exit_code != 0
    assert "https" in plain_http.output
    unknown_role = cli(*set_args(second.id, "--jit-role", "emperor"))
    assert unknown_role.exit_code != 0
    with ctx.uow(readonly=True) as uow:
        assert uow.single_sign_on.find(second.id) is None
