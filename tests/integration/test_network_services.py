"""The network integration's rules in the core: who may act, which users may be changed, the
core's membership rules, users deleted with their last account, and the audit trail."""

from __future__ import annotations

from typing import Any

import pytest

from tenantry.domain.accounts import Account, AccountKind
from tenantry.domain.errors import Conflict, ErrorCode, Forbidden, NotFound
from tenantry.domain.managed import InvalidNetworkInput
from tenantry.domain.users import UserStatus
from tenantry.services import accounts, credentials, managed_accounts, managed_users, members, setup
from tenantry.services.accounts import AccountChanges
from tenantry.services.context import ServiceContext
from tenantry.services.members import NewMember

from factories import (
    OPERATOR,
    advertiser_spec,
    as_user,
    listed_users,
    make_account,
    make_member,
    managed_user,
    set_policy,
)


@pytest.fixture
def host(ctx: ServiceContext) -> Account:
    init = setup.initialize(ctx)
    with ctx.uow(readonly=True) as uow:
        return uow.accounts.get(init.account_id)


person = managed_user


def advertiser(ctx: ServiceContext, host: Account, id_from_network: str, **fields: Any) -> Account:
    spec = advertiser_spec(id_from_network, **fields)
    return managed_accounts.upsert_advertiser(ctx, OPERATOR, host.id, spec).advertiser.account


def codes(error: InvalidNetworkInput) -> list[ErrorCode]:
    return [p.code for p in error.problems]


def test_users_made_here_are_network_managed_like_the_cores(
    ctx: ServiceContext, host: Account
) -> None:
    account = advertiser(ctx, host, "adv")
    made_here = managed_users.upsert_advertiser_user(ctx, OPERATOR, host.id, "adv", person("here"))
    elsewhere = members.add_member(
        ctx,
        OPERATOR,
        account.id,
        NewMember("there@example.com", "member", network_managed=True, id_from_network="there"),
    )
    for user in (made_here.member.user, elsewhere.user):
        assert user.can_login_via_platform is False
        assert user.status is UserStatus.ACTIVATED
        assert user.network_account_id == host.id
    # The core's network-managed user is this face's to manage, by the network's id.
    updated = managed_users.upsert_advertiser_user(
        ctx, OPERATOR, host.id, "adv", person("there", role="view")
    )
    assert updated.created is False
    assert updated.member.user.id == elsewhere.user.id
    assert updated.member.role.key == "view"


def test_a_user_removed_from_their_last_account_is_deleted(
    ctx: ServiceContext, host: Account
) -> None:
    advertiser(ctx, host, "a")
    advertiser(ctx, host, "b")
    managed_users.upsert_advertiser_user(ctx, OPERATOR, host.id, "a", person("both", role="manage"))
    managed_users.upsert_advertiser_user(ctx, OPERATOR, host.id, "b", person("both", role="manage"))
    managed_users.delete_advertiser_user(ctx, OPERATOR, host.id, "a", "both")
    with ctx.uow(readonly=True) as uow:
        assert "both" in uow.network.users_by_network_ids(host.id, ["both"])
    managed_users.delete_advertiser_user(ctx, OPERATOR, host.id, "b", "both")
    with ctx.uow(readonly=True) as uow:
        assert uow.network.users_by_network_ids(host.id, ["both"]) == {}


def test_a_manager_grants_no_more_than_their_own_role(ctx: ServiceContext, host: Account) -> None:
    advertiser(ctx, host, "adv")
    manager = make_member(ctx, host, role="manage")
    _, token, _ = credentials.create_api_token(ctx, OPERATOR, host.id, user_email=manager.email)
    actor = credentials.authenticate(ctx, token, face="network")
    with pytest.raises(Forbidden):
        managed_users.upsert_advertiser_user(ctx, actor, host.id, "adv", person("x", role="admin"))
    added = managed_users.upsert_advertiser_user(
        ctx, actor, host.id, "adv", person("x", role="member")
    )
    assert added.created


def test_nobody_removes_themselves(ctx: ServiceContext, host: Account) -> None:
    managed_users.replace_network_users(
        ctx, OPERATOR, host.id, listed_users(person("me"), person("you"))
    )
    _, token, _ = credentials.create_api_token(ctx, OPERATOR, host.id, user_email="me@example.com")
    actor = credentials.authenticate(ctx, token, face="network")
    with pytest.raises(InvalidNetworkInput) as refused:
        managed_users.replace_network_users(ctx, actor, host.id, listed_users(person("you")))
    assert codes(refused.value) == [ErrorCode.SELF_DELETE]
    assert refused.value.problems[0].path == ("users",)


def test_the_owner_of_an_advertiser_stays(ctx: ServiceContext, host: Account) -> None:
    account = advertiser(ctx, host, "adv", users=[person("owner"), person("other")])
    with ctx.uow() as uow:
        owner = uow.network.users_by_network_ids(host.id, ["owner"])["owner"]
        account.owner_user_id = owner.id
        uow.accounts.update(account)
    with pytest.raises(InvalidNetworkInput) as refused:
        advertiser(ctx, host, "adv", users=[person("other")])
    assert codes(refused.value) == [ErrorCode.OWNER_PROTECTED]


def test_multi_account_rules_hold(ctx: ServiceContext, host: Account) -> None:
    account = advertiser(ctx, host, "adv")
    set_policy(ctx, account.id, multi_account_users=False)
    managed_users.replace_network_users(ctx, OPERATOR, host.id, listed_users(person("net-user")))
    other = advertiser(ctx, host, "other")
    managed_users.upsert_advertiser_user(ctx, OPERATOR, host.id, "other", person("adv-user"))
    assert other.id
    for who, code in (
        ("net-user", ErrorCode.AGENCY_USER_TO_ADVERTISER),
        ("adv-user", ErrorCode.THIS_ACCOUNT_SINGLE),
    ):
        with pytest.raises(InvalidNetworkInput) as refused:
            managed_users.upsert_advertiser_user(ctx, OPERATOR, host.id, "adv", person(who))
        assert codes(refused.value) == [code]


def test_one_audit_event_per_call_and_none_when_nothing_changes(
    ctx: ServiceContext, host: Account
) -> None:
    def events() -> list[Any]:
        with ctx.uow(readonly=True) as uow:
            return uow.audit.query(account_ids=None, limit=1000)

    before = len(events())
    spec = advertiser_spec("adv", users=[person("u1", oauth_refresh_token="rt-secret")])
    managed_accounts.upsert_advertiser(ctx, OPERATOR, host.id, spec)
    assert len(events()) == before + 1
    managed_accounts.upsert_advertiser(ctx, OPERATOR, host.id, spec)
    assert len(events()) == before + 1
    created = events()[0]
    assert created.action == "network.advertiser.create"
    assert created.after is not None
    assert created.after["users"]["u1"]["role"] == "admin"  # the audit trail keeps role keys
    assert "rt-secret" not in repr([e.before for e in events()] + [e.after for e in events()])


def test_a_network_is_a_top_level_partner(ctx: ServiceContext, host: Account) -> None:
    agency = make_account(ctx, parent=host, kind=AccountKind.AGENCY, name="Agency")
    with pytest.raises(NotFound):
        managed_users.get_network(ctx, OPERATOR, agency.id)
    with pytest.raises(NotFound):
        managed_users.get_network(ctx, OPERATOR, "not-an-id\x00")


def test_an_advertiser_id_used_by_an_agency_is_taken(ctx: ServiceContext, host: Account) -> None:
    make_account(ctx, parent=host, kind=AccountKind.AGENCY, id_from_network="taken")
    with pytest.raises(InvalidNetworkInput) as refused:
        advertiser(ctx, host, "taken")
    assert refused.value.problems[0].path == ("id_from_network",)


def test_the_last_admin_of_an_advertiser_stays(ctx: ServiceContext, host: Account) -> None:
    # The core's rule holds here too: Super is the default role, and the advertiser's only
    # Super can't be removed or demoted until another one is there.
    advertiser(ctx, host, "adv")
    managed_users.upsert_advertiser_user(ctx, OPERATOR, host.id, "adv", person("boss"))
    for attempt in (
        lambda: managed_users.delete_advertiser_user(ctx, OPERATOR, host.id, "adv", "boss"),
        lambda: managed_users.upsert_advertiser_user(
            ctx, OPERATOR, host.id, "adv", person("boss", role="member")
        ),
    ):
        with pytest.raises(InvalidNetworkInput) as refused:
            attempt()
        assert codes(refused.value) == [ErrorCode.LAST_ADMIN]
    managed_users.upsert_advertiser_user(ctx, OPERATOR, host.id, "adv", person("next"))
    managed_users.delete_advertiser_user(ctx, OPERATOR, host.id, "adv", "boss")


def test_a_network_user_joins_no_account_outside_the_network(
    ctx: ServiceContext, host: Account
) -> None:
    advertiser(ctx, host, "adv")
    made = managed_users.upsert_advertiser_user(ctx, OPERATOR, host.id, "adv", person("theirs"))
    email = made.member.user.email
    outsider = make_account(ctx, parent=make_account(ctx, kind=AccountKind.PARTNER))
    with pytest.raises(Conflict) as caught:
        members.add_member(ctx, OPERATOR, outsider.id, NewMember(email, "admin"))
    assert caught.value.code is ErrorCode.OTHER_NETWORK_USER
    assert members.list_members(ctx, OPERATOR, outsider.id).items == []
    # Inside the network, the same person joins another advertiser as before, at any depth.
    second = advertiser(ctx, host, "adv2")
    joined = members.add_member(ctx, OPERATOR, second.id, NewMember(email, "member"))
    assert joined.user.id == made.member.user.id
    deeper = make_account(ctx, parent=make_account(ctx, parent=host, kind=AccountKind.AGENCY))
    joined = members.add_member(ctx, OPERATOR, deeper.id, NewMember(email, "member"))
    assert joined.user.id == made.member.user.id


def test_network_users_made_in_the_core_belong_to_the_top_account(
    ctx: ServiceContext, host: Account
) -> None:
    agency = make_account(ctx, parent=host, kind=AccountKind.AGENCY)
    deeper = make_account(ctx, parent=agency)
    spec = NewMember("deep@example.com", "member", network_managed=True, id_from_network="deep")
    added = members.add_member(ctx, OPERATOR, deeper.id, spec)
    assert added.user.network_account_id == host.id


def test_a_network_rewrites_only_people_whose_accounts_it_still_reaches(
    ctx: ServiceContext, host: Account
) -> None:
    """The home rule: an advertiser that turned partner management off keeps its members as
    they are, even the network's own people (a second security review found them rewritten)."""
    first, second = advertiser(ctx, host, "adv1"), advertiser(ctx, host, "adv2")
    managed_users.upsert_advertiser_user(ctx, OPERATOR, host.id, "adv1", person("u1"))
    managed_users.upsert_advertiser_user(ctx, OPERATOR, host.id, "adv2", person("u1"))
    host_admin = make_member(ctx, host, role="admin")
    network_admin = as_user(host_admin)
    moved = person("u1", emails=("moved@example.com",))
    managed_users.upsert_advertiser_user(ctx, network_admin, host.id, "adv1", moved)  # both reached
    own = make_member(ctx, second, role="admin")
    accounts.update_account(ctx, as_user(own), second.id, AccountChanges(can_partner_manage=False))
    again = person("u1", emails=("again@example.com",))
    with pytest.raises(InvalidNetworkInput) as refused:
        managed_users.upsert_advertiser_user(ctx, network_admin, host.id, "adv1", again)
    assert codes(refused.value) == [ErrorCode.NOT_IDENTITY_OWNER]
    [member] = members.list_members(ctx, OPERATOR, first.id, search="u1").items
    assert member.user.email == "moved@example.com"


def test_an_advertiser_that_left_partner_management_keeps_its_members_to_itself(
    ctx: ServiceContext, host: Account
) -> None:
    """The network still renames it, as a parent does, but the answer lists no members: the
    network may not read them any more (a hostile review read them this way)."""
    account = advertiser(ctx, host, "adv1")
    network_admin = as_user(make_member(ctx, host, role="admin"))
    own = make_member(ctx, account, role="admin")
    accounts.update_account(ctx, as_user(own), account.id, AccountChanges(can_partner_manage=False))
    spec = advertiser_spec("adv1", name="Renamed")
    upserted = managed_accounts.upsert_advertiser(ctx, network_admin, host.id, spec)
    assert upserted.advertiser.members == []
    assert accounts.get_account(ctx, OPERATOR, account.id).name == "Renamed"
    # Where it may read them, the same answer lists them.
    again = managed_accounts.upsert_advertiser(ctx, OPERATOR, host.id, spec)
    assert [m.user.id for m in again.advertiser.members] == [own.id]
