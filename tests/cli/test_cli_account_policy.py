"""`tenantry accounts policy`: shows an account's security policy, changes it (the rest stays),
names the members a stricter policy affects, and refuses bad values without changing anything."""

from __future__ import annotations

from tenantry.domain.accounts import SsoMode
from tenantry.services import accounts
from tenantry.services.context import ServiceContext

from clitools import Cli, table_rows
from factories import OPERATOR, World, make_member


def test_without_options_it_shows_the_policy(cli: Cli, world: World) -> None:
    shown = cli.json("accounts", "policy", world.a.id)
    assert shown == {
        "account_id": world.a.id,
        "multi_account_users": True,
        "two_factor_required": False,
        "sso": "off",
        "invitation_days": None,
        "allowed_email_domains": [],
        "session_minutes": None,
        "affected_members": [],
        "sessions_shortened": 0,
    }
    rows = dict(table_rows(cli.ok("accounts", "policy", world.a.id).stdout))
    assert rows["single sign-on"] == "off"
    assert rows["allowed e-mail domains"] == "any"


def test_options_change_the_policy_and_it_is_audited(
    cli: Cli, ctx: ServiceContext, world: World
) -> None:
    changed = cli.json(
        "accounts",
        "policy",
        world.a.id,
        "--no-multi-account",
        "--require-2fa",
        "--sso",
        "allowed",
        "--invitation-days",
        "10",
        "--allowed-domains",
        "Example.com, example.org",
        "--session-minutes",
        "90",
    )
    assert changed["sso"] == "allowed"
    assert changed["allowed_email_domains"] == ["example.com", "example.org"]
    stored = accounts.get_account(ctx, OPERATOR, world.a.id)
    assert not stored.multi_account_users
    assert stored.two_factor_required
    assert stored.sso_mode is SsoMode.ALLOWED
    assert (stored.invitation_ttl_days, stored.session_lifetime_minutes) == (10, 90)
    with ctx.uow(readonly=True) as uow:
        [event] = uow.audit.query(account_ids=None, action="account.policy_update")
    assert (event.face, event.after["sso_mode"]) == ("cli", "allowed")
    # One option changes one setting; `default` and an empty list go back to the defaults.
    again = cli.json(
        "accounts",
        "policy",
        world.a.id,
        "--multi-account",
        "--invitation-days",
        "default",
        "--allowed-domains",
        "",
    )
    assert again["multi_account_users"] is True
    assert again["two_factor_required"] is True
    assert (again["invitation_days"], again["allowed_email_domains"]) == (None, [])
    assert again["session_minutes"] == 90


def test_the_members_affected_are_listed(cli: Cli, ctx: ServiceContext, world: World) -> None:
    outsider = make_member(ctx, world.a, role="view", email="ann@elsewhere.example")
    output = cli.ok(
        "accounts", "policy", world.a.id, "--allowed-domains", "example.com", "--sso", "required"
    ).stdout
    assert "1 member: Their address is outside the allowed domains" in output
    assert outsider.email in output
    assert "2 members: They sign in with a password today" in output
    shown = cli.json("accounts", "policy", world.a.id, "--require-2fa")
    [affected] = shown["affected_members"]
    assert affected["reason"] == "without_two_factor"
    assert affected["count"] == 2
    assert {u["email"] for u in affected["users"]} == {outsider.email, world.a_admin.email}


def test_bad_values_are_refused_and_change_nothing(
    cli: Cli, ctx: ServiceContext, world: World
) -> None:
    for args, message in (
        (("--invitation-days", "0"), "Invitations last 1 to 90 days."),
        (("--session-minutes", "1"), "Console sessions last 5 to 720 minutes."),
        (("--allowed-domains", "not a domain"), "\u201cnot a domain\u201d is not an e-mail domain"),
    ):
        refused = cli("accounts", "policy", world.a.id, "--require-2fa", *args)
        assert refused.exit_code == 1
        assert message in refused.stderr
    usage = cli("accounts", "policy", world.a.id, "--session-minutes", "soon")
    assert usage.exit_code == 2
    assert cli("accounts", "policy", world.a.id, "--sso", "sometimes").exit_code == 2
    missing = cli("accounts", "policy", "zzzzzzzz", "--require-2fa")
    assert (missing.exit_code, missing.stderr.strip()) == (1, "The account doesn't exist.")
    assert not accounts.get_account(ctx, OPERATOR, world.a.id).two_factor_required
