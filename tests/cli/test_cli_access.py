"""`tenantry access explain`: what a person may do in an account, and what grants it, as the
core's one policy answers it."""

from __future__ import annotations

from tenantry.services import accounts
from tenantry.services.accounts import AccountChanges
from tenantry.services.context import ServiceContext

from clitools import Cli, table_rows
from factories import OPERATOR, World, make_member


def explain(cli: Cli, account_id: str, email: str) -> dict[str, object]:
    found: dict[str, object] = cli.json(
        "access", "explain", "--account", account_id, "--user", email
    )
    return found


def test_a_member_s_rights_each_name_their_membership(cli: Cli, world: World) -> None:
    found = explain(cli, world.a.id, world.a_admin.email.upper())
    assert set(found) == {
        "account_id",
        "user_id",
        "email",
        "role",
        "source",
        "permissions",
        "notes",
    }
    assert (found["account_id"], found["user_id"], found["email"]) == (
        world.a.id,
        world.a_admin.id,
        world.a_admin.email,
    )
    assert (found["role"], found["source"]) == ("admin", "membership")
    permissions = found["permissions"]
    assert isinstance(permissions, list)
    assert {
        "action": "create API accounts and API tokens",
        "capability": "account.api_access",
        "level": "all",
        "granted_by": f"membership in Advertiser A [{world.a.id}] as Admin (admin)",
    } in permissions
    assert {p["granted_by"] for p in permissions} == {
        f"membership in Advertiser A [{world.a.id}] as Admin (admin)"
    }


def test_a_viewer_may_read_but_not_manage(cli: Cli, ctx: ServiceContext, world: World) -> None:
    viewer = make_member(ctx, world.a, role="view")
    found = explain(cli, world.a.id, viewer.email)
    assert (found["role"], found["source"]) == ("view", "membership")
    permissions = found["permissions"]
    assert isinstance(permissions, list)
    levels = {p["action"]: p["level"] for p in permissions}
    assert levels["read the account and its members"] == "read"
    for refused in (
        "add, change and remove members",
        "create API accounts and API tokens",
        "read the audit log",
    ):
        assert refused not in levels


def test_a_partner_admin_inherits_until_partner_management_is_off(
    cli: Cli, ctx: ServiceContext, world: World
) -> None:
    inherited = explain(cli, world.a.id, world.host_admin.email)
    assert (inherited["role"], inherited["source"]) == ("admin", "inherited")
    permissions = inherited["permissions"]
    assert isinstance(permissions, list)
    assert permissions
    assert all(
        p["granted_by"]
        == (
            f"membership in {world.host.name} [{world.host.id}] as Admin (admin), inherited "
            f"down through partner management to Advertiser A [{world.a.id}]"
        )
        for p in permissions
    )

    accounts.update_account(ctx, OPERATOR, world.a.id, AccountChanges(can_partner_manage=False))
    cut_off = explain(cli, world.a.id, world.host_admin.email)
    assert (cut_off["role"], cut_off["source"], cut_off["permissions"]) == (None, None, [])
    notes = cut_off["notes"]
    assert isinstance(notes, list)
    assert (
        f"partner management is off in Advertiser A [{world.a.id}]: no role is inherited "
        "from above it"
    ) in notes


def test_the_table_shows_action_level_and_grant_then_the_notes(
    cli: Cli, ctx: ServiceContext, world: World
) -> None:
    manager = make_member(ctx, world.a, role="manage")
    output = cli.ok("access", "explain", "--account", world.a.id, "--user", manager.email).stdout
    assert output.splitlines()[0] == (
        f"{manager.email} in Advertiser A [{world.a.id}]: role Team manager (manage)"
    )
    rows = {row[0]: row[1:] for row in table_rows(output)}
    grant = f"membership in Advertiser A [{world.a.id}] as Team manager (manage)"
    assert rows["add, change and remove members"] == ["all", grant]
    assert rows["read the audit log"] == ["read", grant]
    assert "create API accounts and API tokens" not in rows
    assert "• this account is the identity's home: its admins may edit the profile" in output

    pending = make_member(ctx, world.a, role="view", active=False)
    nothing = cli.ok("access", "explain", "--account", world.a.id, "--user", pending.email)
    assert table_rows(nothing.stdout) == []
    assert "Nothing is granted." in nothing.stdout
    assert "• their membership here is pending until they accept the invitation" in nothing.stdout


def test_unknown_people_and_accounts_are_reported(cli: Cli, world: World) -> None:
    nobody = cli("access", "explain", "--account", world.a.id, "--user", "nobody@example.com")
    assert nobody.exit_code == 1
    assert nobody.stderr.strip() == "The user doesn't exist."
    nowhere = cli("access", "explain", "--account", "nope1234", "--user", world.a_admin.email)
    assert nowhere.exit_code == 1
    assert nowhere.stderr.strip() == "The account doesn't exist."
