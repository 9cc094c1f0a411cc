"""`tenantry accounts` (ownership included) and `tenantry apps`."""

from __future__ import annotations

import pytest

from tenantry.domain.accounts import AccountKind
from tenantry.domain.audit import AuditEvent
from tenantry.domain.errors import Conflict
from tenantry.services import accounts, members
from tenantry.services.context import ServiceContext

from clitools import Cli, table_rows
from factories import OPERATOR, World, make_member


def audit_events(ctx: ServiceContext, action: str) -> list[AuditEvent]:
    with ctx.uow(readonly=True) as uow:
        return uow.audit.query(account_ids=None, action=action)


def test_create_an_account_under_a_parent(cli: Cli, ctx: ServiceContext, world: World) -> None:
    created = cli.json(
        "accounts", "create", "--name", "Acme [beta]", "--kind", "agency", "--parent", world.host.id
    )
    assert created == {
        "id": created["id"],
        "name": "Acme [beta]",
        "kind": "agency",
        "parent_id": world.host.id,
        "status": 0,
    }
    stored = accounts.get_account(ctx, OPERATOR, created["id"])
    assert (stored.name, stored.kind, stored.parent_id) == (
        "Acme [beta]",
        AccountKind.AGENCY,
        world.host.id,
    )


def test_create_human_output_names_the_new_id(cli: Cli, ctx: ServiceContext) -> None:
    output = cli.ok("accounts", "create", "--name", "Solo", "--kind", "partner").stdout
    [solo] = accounts.list_accounts(ctx, OPERATOR, search="Solo")
    assert f"Created partner account Solo with id {solo.id}." in output


def test_create_refuses_a_bad_kind_and_a_missing_parent(cli: Cli, ctx: ServiceContext) -> None:
    bad_kind = cli("accounts", "create", "--name", "X", "--kind", "reseller")
    assert bad_kind.exit_code == 2  # a usage error, reported by the option parser
    missing = cli(
        "accounts", "create", "--name", "X", "--kind", "advertiser", "--parent", "nope1234"
    )
    assert missing.exit_code == 1
    assert missing.stderr.strip() == "The account doesn't exist."
    assert accounts.list_accounts(ctx, OPERATOR) == []


def test_list_children_and_search(cli: Cli, world: World) -> None:
    rows = table_rows(cli.ok("accounts", "list", "--parent", world.host.id).stdout)
    assert sorted(row[0] for row in rows) == sorted([world.a.id, world.b.id])
    assert {row[1] for row in rows} == {"Advertiser A", "Advertiser B"}
    assert all(row[2:] == ["advertiser", world.host.id, "active"] for row in rows)

    found = table_rows(cli.ok("accounts", "list", "--search", "Advertiser B").stdout)
    assert [row[0] for row in found] == [world.b.id]


def test_list_pages_with_limit_and_after(cli: Cli, world: World) -> None:
    ids = sorted([world.host.id, world.a.id, world.b.id])
    first = cli.ok("accounts", "list", "--limit", "2").stdout
    assert [row[0] for row in table_rows(first)] == ids[:2]
    assert f"--after {ids[1]}" in first
    rest = cli.ok("accounts", "list", "--limit", "2", "--after", ids[1]).stdout
    assert [row[0] for row in table_rows(rest)] == ids[2:]
    assert "--after" not in rest


def test_apps_add_list_remove(cli: Cli, ctx: ServiceContext, world: World) -> None:
    cli.ok("apps", "add", "--account", world.a.id, "com.example.one", "--name", "One")
    cli.ok("apps", "add", "--account", world.a.id, "id123456789")
    assert accounts.list_apps(ctx, OPERATOR, world.a.id) == {
        "com.example.one": "One",
        "id123456789": "id123456789",
    }
    rows = table_rows(cli.ok("apps", "list", "--account", world.a.id).stdout)
    assert rows == [["com.example.one", "One"], ["id123456789", "id123456789"]]

    cli.ok("apps", "remove", "--account", world.a.id, "com.example.one")
    assert accounts.list_apps(ctx, OPERATOR, world.a.id) == {"id123456789": "id123456789"}


def test_apps_errors_are_reported_in_one_line(cli: Cli, ctx: ServiceContext, world: World) -> None:
    accounts.add_app(ctx, OPERATOR, world.a.id, "com.example.one")
    twice = cli("apps", "add", "--account", world.a.id, "com.example.one")
    assert twice.exit_code == 1
    assert twice.stderr.strip() == "This identifier is already in use."
    unknown = cli("apps", "remove", "--account", world.a.id, "com.example.none")
    assert unknown.exit_code == 1
    assert "One or more app IDs were either misspelled" in unknown.stderr
    assert accounts.list_apps(ctx, OPERATOR, world.a.id) == {"com.example.one": "com.example.one"}


# -- ownership ---------------------------------------------------------------------------------


def owner_of(ctx: ServiceContext, account_id: str) -> str | None:
    return accounts.get_account(ctx, OPERATOR, account_id).owner_user_id


def test_transfer_ownership_to_an_active_admin(cli: Cli, ctx: ServiceContext, world: World) -> None:
    heir = make_member(ctx, world.a, role="admin")
    moved = cli.json("accounts", "transfer-ownership", world.a.id, "--to", heir.email.upper())
    assert moved == {"account_id": world.a.id, "owner_user_id": heir.id, "email": heir.email}
    assert owner_of(ctx, world.a.id) == heir.id
    (event,) = audit_events(ctx, "account.transfer_ownership")
    assert (event.account_id, event.face, event.after) == (
        world.a.id,
        "cli",
        {"owner_user_id": heir.id},
    )
    # The owner's protection moved with it.
    with pytest.raises(Conflict):
        members.remove_member(ctx, OPERATOR, world.a.id, heir.id)

    back = cli.ok("accounts", "transfer-ownership", world.a.id, "--to", world.a_admin.email)
    assert back.stdout.strip() == f"{world.a_admin.email} now owns Advertiser A [{world.a.id}]."
    assert owner_of(ctx, world.a.id) == world.a_admin.id
    members.remove_member(ctx, OPERATOR, world.a.id, heir.id)  # no longer the owner


def test_transfer_ownership_is_refused_to_anyone_but_an_active_admin(
    cli: Cli, ctx: ServiceContext, world: World
) -> None:
    cli.ok("accounts", "transfer-ownership", world.a.id, "--to", world.a_admin.email)
    viewer = make_member(ctx, world.a, role="view")
    pending_admin = make_member(ctx, world.a, role="admin", active=False)
    for email in (viewer.email, pending_admin.email):
        refused = cli("accounts", "transfer-ownership", world.a.id, "--to", email)
        assert refused.exit_code == 1, email
        assert refused.stderr.strip() == "Ownership goes to an active admin of the account."

    outsider = cli("accounts", "transfer-ownership", world.a.id, "--to", world.b_admin.email)
    assert outsider.exit_code == 1
    assert outsider.stderr.strip() == "This user is not a member of the account."
    unknown = cli("accounts", "transfer-ownership", "nope1234", "--to", world.a_admin.email)
    assert unknown.exit_code == 1
    assert unknown.stderr.strip() == "The account doesn't exist."
    assert owner_of(ctx, world.a.id) == world.a_admin.id
    assert len(audit_events(ctx, "account.transfer_ownership")) == 1
