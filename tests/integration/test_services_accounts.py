"""Accounts: creating, reading, listing, updating and deleting tenants, and their apps."""

from __future__ import annotations

import pytest

from tenantry.domain.accounts import AccountKind, AccountStatus
from tenantry.domain.errors import Conflict, ErrorCode, Forbidden, InvalidInput, NotFound
from tenantry.services import accounts, members
from tenantry.services.accounts import AccountChanges
from tenantry.services.context import ServiceContext
from tenantry.services.members import NewMember

from factories import (
    OPERATOR,
    World,
    activate,
    as_user,
    make_account,
    make_member,
    set_policy,
    statements,
    unique_email,
)


def test_a_partner_admin_builds_a_tree(ctx: ServiceContext, world: World) -> None:
    admin = as_user(world.host_admin)
    agency = accounts.create_account(
        ctx, admin, name="  Agency   One ", kind=AccountKind.AGENCY, parent_id=world.host.id
    )
    advertiser = accounts.create_account(
        ctx,
        admin,
        name="Advertiser C",
        kind=AccountKind.ADVERTISER,
        parent_id=agency.id,
        id_from_network="net-42",
        custom_data={"crm": "x1"},
    )
    assert agency.name == "Agency One"
    stored = accounts.get_account(ctx, admin, advertiser.id)
    assert stored.parent_id == agency.id
    assert stored.kind is AccountKind.ADVERTISER
    assert stored.status is AccountStatus.ACTIVE
    assert stored.id_from_network == "net-42"
    assert stored.custom_data == {"crm": "x1"}
    assert len(stored.id) == 8


@pytest.mark.parametrize(
    ("kind", "parent"),
    [(AccountKind.ADVERTISER, "a"), (AccountKind.PARTNER, "host"), (AccountKind.AGENCY, "a")],
)
def test_impossible_parents_are_refused(
    ctx: ServiceContext, world: World, kind: AccountKind, parent: str
) -> None:
    parent_id = getattr(world, parent).id
    with pytest.raises(InvalidInput) as caught:
        accounts.create_account(ctx, OPERATOR, name="X", kind=kind, parent_id=parent_id)
    assert caught.value.field == "parent"


def test_only_the_operator_creates_top_level_accounts(ctx: ServiceContext, world: World) -> None:
    with pytest.raises(Forbidden):
        accounts.create_account(
            ctx, as_user(world.host_admin), name="Rogue", kind=AccountKind.PARTNER, parent_id=None
        )
    top = accounts.create_account(
        ctx, OPERATOR, name="Second partner", kind=AccountKind.PARTNER, parent_id=None
    )
    assert top.parent_id is None


def test_advertiser_admins_create_no_accounts(ctx: ServiceContext, world: World) -> None:
    with pytest.raises(Forbidden):
        accounts.create_account(
            ctx,
            as_user(world.a_admin),
            name="Sibling",
            kind=AccountKind.ADVERTISER,
            parent_id=world.host.id,
        )


def test_network_ids_are_unique_under_one_parent(ctx: ServiceContext, world: World) -> None:
    make_account(ctx, parent=world.host, id_from_network="n-1")
    with pytest.raises(Conflict) as caught:
        make_account(ctx, parent=world.host, id_from_network="n-1")
    assert caught.value.code is ErrorCode.ID_TAKEN
    other_partner = make_account(ctx, kind=AccountKind.PARTNER)
    make_account(ctx, parent=other_partner, id_from_network="n-1")
    with pytest.raises(Conflict):
        accounts.update_account(ctx, OPERATOR, world.a.id, AccountChanges(id_from_network="n-1"))


def test_an_account_admin_changes_its_settings(ctx: ServiceContext, world: World) -> None:
    admin = as_user(world.a_admin)
    updated = accounts.update_account(
        ctx,
        admin,
        world.a.id,
        AccountChanges(
            name="Renamed",
            status=1,
        ),
    )
    # The security policy has its own service (account_policy), with its own rule of who may.
    set_policy(ctx, world.a.id, sso_enabled=True, two_factor_required=True)
    set_policy(ctx, world.a.id, multi_account_users=False, invitation_ttl_days=3)
    assert updated.name == "Renamed"
    stored = accounts.get_account(ctx, admin, world.a.id)
    assert stored.name == "Renamed"
    assert stored.status is AccountStatus.PENDING_CONFIGURATION
    assert stored.sso_enabled
    assert stored.two_factor_required
    assert not stored.multi_account_users
    assert stored.invitation_ttl_days == 3
    assert stored.event_enrichment is False  # untouched


@pytest.mark.parametrize(
    "changes",
    [
        AccountChanges(name="   "),
        AccountChanges(status=7),
    ],
    ids=["blank-name", "status"],
)
def test_bad_settings_are_refused_whole(
    ctx: ServiceContext, world: World, changes: AccountChanges
) -> None:
    with pytest.raises(InvalidInput):
        accounts.update_account(ctx, OPERATOR, world.a.id, changes)
    assert accounts.get_account(ctx, OPERATOR, world.a.id) == world.a


def test_who_may_change_settings(ctx: ServiceContext, world: World) -> None:
    manager = make_member(ctx, world.a, role="manage")
    for actor in (as_user(manager), as_user(world.b_admin)):
        with pytest.raises(Forbidden):
            accounts.update_account(ctx, actor, world.a.id, AccountChanges(name="Nope"))
    accounts.update_account(ctx, as_user(world.host_admin), world.a.id, AccountChanges(name="Ok"))
    assert accounts.get_account(ctx, OPERATOR, world.a.id).name == "Ok"


def test_an_unchanged_update_writes_nothing(ctx: ServiceContext, world: World) -> None:
    with ctx.uow(readonly=True) as uow:
        before = len(uow.audit.query(account_ids=[world.a.id], limit=1000))
    accounts.update_account(ctx, OPERATOR, world.a.id, AccountChanges(name=world.a.name))
    with ctx.uow(readonly=True) as uow:
        assert len(uow.audit.query(account_ids=[world.a.id], limit=1000)) == before


def test_an_account_with_children_is_not_deleted(ctx: ServiceContext, world: World) -> None:
    agency = make_account(ctx, parent=world.host, kind=AccountKind.AGENCY)
    child = make_account(ctx, parent=agency)
    with pytest.raises(Conflict) as caught:
        accounts.delete_account(ctx, OPERATOR, agency.id)
    assert caught.value.code is ErrorCode.ACCOUNT_HAS_CHILDREN
    accounts.delete_account(ctx, OPERATOR, child.id)
    accounts.delete_account(ctx, OPERATOR, agency.id)
    with pytest.raises(NotFound):
        accounts.get_account(ctx, OPERATOR, agency.id)


def test_deleting_an_account_takes_its_memberships_not_its_users(
    ctx: ServiceContext, world: World
) -> None:
    shared = make_member(ctx, world.a, role="marketing")
    members.add_member(ctx, OPERATOR, world.b.id, NewMember(email=shared.email, role_key="qa"))
    pending = members.add_member(
        ctx, OPERATOR, world.a.id, NewMember(email=unique_email(), role_key="qa")
    )
    accounts.delete_account(ctx, as_user(world.host_admin), world.a.id)
    with ctx.uow(readonly=True) as uow:
        assert uow.accounts.find(world.a.id) is None
        assert uow.memberships.find(shared.id, world.a.id) is None
        assert uow.memberships.find(shared.id, world.b.id) is not None
        assert uow.users.find(world.a_admin.id) is not None
        assert uow.invitations.for_account(world.a.id, limit=10) == []
        assert uow.users.find(pending.user.id) is not None
        events = uow.audit.query(account_ids=[world.a.id], action="account.delete", limit=5)
    assert len(events) == 1
    assert events[0].before is not None
    assert events[0].before["name"] == world.a.name


def test_who_may_delete_an_account(ctx: ServiceContext, world: World) -> None:
    for actor in (as_user(world.a_admin), as_user(world.b_admin)):
        with pytest.raises(Forbidden):
            accounts.delete_account(ctx, actor, world.a.id)
    with pytest.raises(Forbidden):
        accounts.delete_account(ctx, as_user(world.host_admin), world.host.id)
    assert accounts.get_account(ctx, OPERATOR, world.a.id) == world.a


def test_list_accounts_returns_only_reachable_ones(ctx: ServiceContext, world: World) -> None:
    other_partner = make_account(ctx, kind=AccountKind.PARTNER)
    outside = make_account(ctx, parent=other_partner)
    agency = make_account(ctx, parent=world.host, kind=AccountKind.AGENCY)
    below_agency = make_account(ctx, parent=agency)

    def ids(actor_user: object) -> set[str]:
        found = accounts.list_accounts(ctx, as_user(actor_user), limit=500)  # type: ignore[arg-type]
        return {a.id for a in found}

    assert ids(world.a_admin) == {world.a.id}
    assert ids(world.b_admin) == {world.b.id}
    assert ids(world.host_admin) == {
        world.host.id,
        world.a.id,
        world.b.id,
        agency.id,
        below_agency.id,
    }
    everything = {a.id for a in accounts.list_accounts(ctx, OPERATOR, limit=500)}
    assert {other_partner.id, outside.id} <= everything
    assert outside.id not in ids(world.host_admin)


def test_an_account_closed_to_its_partner(ctx: ServiceContext, world: World) -> None:
    accounts.update_account(
        ctx, as_user(world.a_admin), world.a.id, AccountChanges(can_partner_manage=False)
    )
    host = as_user(world.host_admin)
    with pytest.raises(Forbidden):
        members.list_members(ctx, host, world.a.id)
    # The partner still sees that the child exists, but no longer manages what is inside.
    assert world.a.id in {a.id for a in accounts.list_accounts(ctx, host)}


def test_list_accounts_pages_and_searches(ctx: ServiceContext, world: World) -> None:
    made = [make_account(ctx, parent=world.host, name=f"Paged {i}") for i in range(7)]
    host = as_user(world.host_admin)
    seen: list[str] = []
    after = None
    while True:
        page = accounts.list_accounts(ctx, host, parent_id=world.host.id, limit=3, after=after)
        seen.extend(a.id for a in page)
        if len(page) < 3:
            break
        after = page[-1].id
    assert sorted(seen) == sorted([world.a.id, world.b.id, *(a.id for a in made)])
    assert len(seen) == len(set(seen))
    found = accounts.list_accounts(ctx, host, search="paged 3")
    assert [a.id for a in found] == [made[3].id]


def test_reading_another_account_is_forbidden(ctx: ServiceContext, world: World) -> None:
    with pytest.raises(Forbidden):
        accounts.get_account(ctx, as_user(world.a_admin), world.b.id)
    with pytest.raises(Forbidden):
        accounts.get_account(ctx, as_user(world.a_admin), world.host.id)
    with pytest.raises(NotFound):
        accounts.get_account(ctx, OPERATOR, "nOsUcHid")


def test_apps_of_an_account(ctx: ServiceContext, world: World) -> None:
    admin = as_user(world.a_admin)
    accounts.add_app(ctx, admin, world.a.id, " com.example.app ", "Example")
    accounts.add_app(ctx, admin, world.a.id, "id123")
    assert accounts.list_apps(ctx, admin, world.a.id) == {
        "com.example.app": "Example",
        "id123": "id123",
    }
    with pytest.raises(Conflict):
        accounts.add_app(ctx, admin, world.a.id, "id123")
    for bad in ("", "has space", "a,b", "x" * 201):
        with pytest.raises(InvalidInput):
            accounts.add_app(ctx, admin, world.a.id, bad)
    with pytest.raises(InvalidInput) as caught:
        accounts.remove_app(ctx, admin, world.a.id, "nope")
    assert caught.value.code is ErrorCode.UNKNOWN_APPS
    accounts.remove_app(ctx, admin, world.a.id, "id123")
    assert accounts.list_apps(ctx, admin, world.a.id) == {"com.example.app": "Example"}
    with pytest.raises(Forbidden):
        accounts.add_app(ctx, as_user(world.b_admin), world.a.id, "id999")


def test_first_children_are_list_accounts_first_page_for_each_parent(
    ctx: ServiceContext, world: World
) -> None:
    """A person in three accounts: each one's first children as list_accounts pages them,
    whether there are more, nothing they do not reach, and no statement per parent."""
    agency = make_account(ctx, parent=world.host, kind=AccountKind.AGENCY)
    for i in range(4):
        make_account(ctx, parent=agency, name=f"Agency child {i}")
    childless = make_account(ctx, parent=world.host, kind=AccountKind.AGENCY)
    person = make_member(ctx, world.host, role="view")
    for account in (agency, childless):
        members.add_member(
            ctx, OPERATOR, account.id, NewMember(email=person.email, role_key="view")
        )
        activate(ctx, person.id, account.id)
    other_partner = make_account(ctx, kind=AccountKind.PARTNER)
    make_account(ctx, parent=other_partner)  # a child the person does not reach
    actor = as_user(person)
    parents = [world.host.id, agency.id, childless.id, other_partner.id]

    found = accounts.first_children(ctx, actor, parents, limit_each=3)

    for parent_id in parents[:3]:
        expected = accounts.list_accounts(ctx, actor, parent_id=parent_id, limit=4)
        shown, more = found[parent_id]
        assert [a.id for a in shown] == [a.id for a in expected[:3]]
        assert more is (len(expected) > 3)
    assert found[world.host.id][1] is True  # a, b and the two agencies
    assert found[agency.id][1] is True
    assert found[childless.id] == ([], False)
    assert found[other_partner.id] == ([], False)

    with statements(ctx) as for_one:
        accounts.first_children(ctx, actor, parents[:1], limit_each=3)
    with statements(ctx) as for_four:
        accounts.first_children(ctx, actor, parents, limit_each=3)
    assert len(for_four) == len(for_one), for_four
