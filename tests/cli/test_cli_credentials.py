"""`tenantry api-accounts` and `tenantry tokens`: secrets shown once, revocation works."""

from __future__ import annotations

import shlex

import pytest

from tenantry.domain.credentials import API_TOKEN_PREFIX
from tenantry.domain.errors import MESSAGES, ErrorCode, Forbidden, Unauthenticated
from tenantry.domain.ids import split_token
from tenantry.services import credentials, members
from tenantry.services.context import ActorKind, ServiceContext

from clitools import Cli, table_rows
from factories import OPERATOR, World, make_account, make_member, unique_email


def test_api_account_secret_is_shown_once(cli: Cli, ctx: ServiceContext, world: World) -> None:
    created = cli.json("api-accounts", "create", "--account", world.a.id, "reporting1")
    assert set(created) == {"account_id", "client_id", "role", "client_secret"}
    # The operator acts as an admin; an API account takes its maker's role unless told.
    assert (created["account_id"], created["client_id"], created["role"]) == (
        world.a.id,
        "reporting1",
        "admin",
    )
    secret = created["client_secret"]
    issued = credentials.issue_access_token(ctx, "reporting1", secret)
    actor = credentials.authenticate(ctx, issued.token, face="test")
    assert (actor.kind, actor.home_account_id) == (ActorKind.API_ACCOUNT, world.a.id)

    listed = cli.ok("api-accounts", "list", "--account", world.a.id).stdout
    assert secret not in listed
    [row] = table_rows(listed)
    assert row[0] == "reporting1"
    assert row[1] == "admin"
    assert row[3] == "operator"
    assert row[4] != "never"  # the token above used it
    assert row[5] == "no"


def test_api_account_human_output_and_revocation(
    cli: Cli, ctx: ServiceContext, world: World
) -> None:
    output = cli.ok("api-accounts", "create", "--account", world.a.id, "etl2").stdout
    assert "shown once" in output
    [line] = [line for line in output.splitlines() if "Client secret" in line]
    secret = line.strip("│ ").split()[-1]
    credentials.issue_access_token(ctx, "etl2", secret)  # the printed secret is whole and real

    revoked = cli.ok("api-accounts", "revoke", "--account", world.a.id, "etl2")
    assert "Revoked API account etl2" in revoked.stdout
    with pytest.raises(Unauthenticated):
        credentials.issue_access_token(ctx, "etl2", secret)
    [row] = table_rows(cli.ok("api-accounts", "list", "--account", world.a.id).stdout)
    assert row[0] == "etl2"
    assert row[5] not in {"no", ""}
    assert row[5].startswith("20")  # the revocation time


def test_api_accounts_are_per_account(cli: Cli, world: World) -> None:
    cli.ok("api-accounts", "create", "--account", world.a.id, "onlya")
    assert table_rows(cli.ok("api-accounts", "list", "--account", world.b.id).stdout) == []
    other = cli("api-accounts", "revoke", "--account", world.b.id, "onlya")
    assert other.exit_code == 1
    assert other.stderr.strip() == "No such API account."
    taken = cli("api-accounts", "create", "--account", world.b.id, "onlya")
    assert taken.exit_code == 1
    assert taken.stderr.strip() == "This API account name is taken."


def test_token_acts_as_the_named_user(cli: Cli, ctx: ServiceContext, world: World) -> None:
    member = make_member(ctx, world.a, role="member")
    created = cli.json(
        "tokens", "create", "--account", world.a.id, "--user", member.email.upper(), "--name", "ci"
    )
    assert created == {
        "token": created["token"],
        "account_id": world.a.id,
        "user_email": member.email,
        "role": "member",  # the user's own role, unless told
    }
    actor = credentials.authenticate(ctx, created["token"], face="test")
    assert actor.kind is ActorKind.API_TOKEN
    assert (actor.user_id, actor.label, actor.home_account_id) == (
        member.id,
        member.email,
        world.a.id,
    )


def test_token_acts_as_the_first_admin_by_default(
    cli: Cli, ctx: ServiceContext, world: World
) -> None:
    created = cli.json("tokens", "create", "--account", world.b.id)
    assert created["user_email"] == world.b_admin.email
    actor = credentials.authenticate(ctx, created["token"], face="test")
    assert actor.user_id == world.b_admin.id


def test_token_list_and_revoke(cli: Cli, ctx: ServiceContext, world: World) -> None:
    token = cli.json("tokens", "create", "--account", world.a.id, "--name", "nightly")["token"]
    parts = split_token(token, API_TOKEN_PREFIX)
    assert parts is not None
    key, secret = parts

    listed = cli.ok("tokens", "list", "--account", world.a.id).stdout
    assert secret not in listed
    [row] = table_rows(listed)
    assert row[0] == key
    assert row[1] == world.a_admin.email
    assert row[2] == "admin"
    assert row[3] == "nightly"
    assert row[6] == "no"

    cli.ok("tokens", "revoke", "--account", world.a.id, key)
    with pytest.raises(Unauthenticated):
        credentials.authenticate(ctx, token, face="test")
    [row] = table_rows(cli.ok("tokens", "list", "--account", world.a.id).stdout)
    assert row[6].startswith("20")


def test_token_for_a_non_member_is_refused(cli: Cli, ctx: ServiceContext, world: World) -> None:
    result = cli("tokens", "create", "--account", world.a.id, "--user", world.b_admin.email)
    assert result.exit_code == 1
    assert "not one" in result.stderr
    assert credentials.list_api_tokens(ctx, OPERATOR, world.a.id) == []
    unknown = cli("tokens", "revoke", "--account", world.a.id, "0123456789abcdef")
    assert unknown.exit_code == 1
    assert unknown.stderr.strip() == "No such API token."


@pytest.mark.parametrize("admin", ["invited", "none"])
def test_a_token_for_an_account_nobody_accepted_points_to_an_api_account(
    cli: Cli, ctx: ServiceContext, world: World, admin: str
) -> None:
    # A new account whose admin has not accepted the invitation yet, or that has no member.
    if admin == "invited":
        owner = unique_email("owner")
        account = make_account(ctx, parent=world.host, can_partner_manage=False, admin_email=owner)
    else:
        account = make_account(ctx, parent=world.host)
    refused = cli("tokens", "create", "--account", account.id)
    assert refused.exit_code == 1
    assert credentials.list_api_tokens(ctx, OPERATOR, account.id) == []
    lines = refused.stderr.splitlines()
    [create] = [line for line in lines if "tenantry api-accounts create" in line]
    [exchange] = [line for line in lines if "/clients/token" in line]
    assert exchange.split()[2:] == [
        "-d",
        "grant_type=client_credentials",
        "-d",
        "client_id=NAME",
        "-d",
        "client_secret=SECRET",
    ]

    # The way it names works: the API account it makes acts in that account.
    command = shlex.split(create.replace("NAME", "newacct1"), comments=True)
    assert command[:5] == ["tenantry", "api-accounts", "create", "--account", account.id]
    created = cli.json(*command[1:])
    issued = credentials.issue_access_token(ctx, "newacct1", created["client_secret"])
    actor = credentials.authenticate(ctx, issued.token, face="test")
    assert (actor.kind, actor.home_account_id) == (ActorKind.API_ACCOUNT, account.id)
    assert members.list_members(ctx, actor, account.id).items == (
        [] if admin == "none" else members.list_members(ctx, OPERATOR, account.id).items
    )


def test_other_refused_tokens_carry_no_api_account_advice(cli: Cli, world: World) -> None:
    unknown = cli("tokens", "create", "--account", world.a.id, "--user", unique_email())
    above = cli("tokens", "create", "--account", world.a.id, "--role", "nosuchrole")
    for result in (unknown, above):
        assert result.exit_code == 1
        assert "api-accounts" not in result.stderr


# -- roles -------------------------------------------------------------------------------------


def test_an_api_account_acts_with_the_role_it_was_given(
    cli: Cli, ctx: ServiceContext, world: World
) -> None:
    created = cli.json(
        "api-accounts", "create", "--account", world.a.id, "viewer1", "--role", "view"
    )
    assert created["role"] == "view"
    issued = credentials.issue_access_token(ctx, "viewer1", created["client_secret"])
    actor = credentials.authenticate(ctx, issued.token, face="test")
    assert actor.role_key == "view"
    # It reads the account, but adds nobody: the role holds, not the operator's who made it.
    assert members.list_members(ctx, actor, world.a.id).items
    with pytest.raises(Forbidden):
        members.add_member(
            ctx, actor, world.a.id, members.NewMember(email=unique_email(), role_key="view")
        )

    output = cli.ok("api-accounts", "create", "--account", world.a.id, "viewer2", "--role", "qa")
    [line] = [line for line in output.stdout.splitlines() if "Role" in line]
    assert line.strip("│ ").split() == ["Role", "qa"]
    rows = table_rows(cli.ok("api-accounts", "list", "--account", world.a.id).stdout)
    assert sorted((row[0], row[1]) for row in rows) == [("viewer1", "view"), ("viewer2", "qa")]


def test_an_unknown_role_makes_no_api_account(cli: Cli, ctx: ServiceContext, world: World) -> None:
    result = cli("api-accounts", "create", "--account", world.a.id, "ghost1", "--role", "wizard")
    assert result.exit_code == 1
    assert result.stderr.strip() == MESSAGES[ErrorCode.UNKNOWN_ROLE]
    assert credentials.list_api_accounts(ctx, OPERATOR, world.a.id) == []


def test_a_token_acts_with_its_role_never_above_its_user(
    cli: Cli, ctx: ServiceContext, world: World
) -> None:
    member = make_member(ctx, world.a, role="manage")
    created = cli.json(
        "tokens", "create", "--account", world.a.id, "--user", member.email, "--role", "view"
    )
    assert created["role"] == "view"
    actor = credentials.authenticate(ctx, created["token"], face="test")
    assert actor.role_key == "view"
    with pytest.raises(Forbidden):  # the member could; the token can't
        members.add_member(
            ctx, actor, world.a.id, members.NewMember(email=unique_email(), role_key="view")
        )
    [row] = table_rows(cli.ok("tokens", "list", "--account", world.a.id).stdout)
    assert (row[1], row[2]) == (member.email, "view")

    above = cli(
        "tokens", "create", "--account", world.a.id, "--user", member.email, "--role", "admin"
    )
    assert above.exit_code == 1
    assert "more rights than the member it acts as" in above.stderr
    assert len(credentials.list_api_tokens(ctx, OPERATOR, world.a.id)) == 1
