"""Browsing an account's members (the console's users list): search, filters, every sort in
both directions, offset pages, and the cost: the page and a count, for 10,000 members too."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tenantry.domain.accounts import Account
from tenantry.domain.memberships import Membership, MembershipStatus
from tenantry.domain.users import User, UserStatus
from tenantry.services import member_browsing, roles
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.member_browsing import MemberBrowse, browse_members, member_state
from tenantry.services.ports import MemberSort, MemberState

from factories import World, as_user, make_account, statements

ROLES = ("view", "member", "manage", "marketing")


def fill(ctx: ServiceContext, account: Account, count: int) -> list[User]:
    """`count` members written straight through the repositories, in one transaction: every
    fifth pending, every seventh deactivated, every third never signed in, roles in turn.
    Number n joined n seconds after the first; e-mail addresses and names sort by n."""
    start = ctx.now() - timedelta(days=30)
    users = [
        User(
            id=f"00000000-0000-4000-8000-{n:012d}",
            email=f"m{n:05d}@browse.example.com",
            name=f"Member {n:05d}",
            status=(
                UserStatus.DEACTIVATED
                if n % 7 == 0
                else UserStatus.PENDING
                if n % 5 == 0
                else UserStatus.ACTIVATED
            ),
            last_login_at=None if n % 3 == 0 else start + timedelta(minutes=(n * 7919) % count),
            created_at=start,
        )
        for n in range(count)
    ]
    new_memberships = [
        Membership(
            user_id=user.id,
            account_id=account.id,
            role_key=ROLES[n % len(ROLES)],
            status=MembershipStatus.PENDING if n % 5 == 0 else MembershipStatus.ACTIVE,
            created_at=start + timedelta(seconds=n),
        )
        for n, user in enumerate(users)
    ]
    with ctx.uow() as uow:
        uow.users.add_many(users)
        uow.memberships.add_many(new_memberships)
    return users


def emails(found: MemberBrowse) -> list[str]:
    return [m.user.email for m in found.items]


@pytest.fixture
def crowd(ctx: ServiceContext, world: World) -> tuple[Account, Actor, list[User]]:
    """Advertiser B with 120 members more than its admin, and its admin acting."""
    return world.b, as_user(world.b_admin), fill(ctx, world.b, 120)


def test_pages_sorted_by_email_both_ways_cover_every_member_once(
    ctx: ServiceContext, crowd: tuple[Account, Actor, list[User]]
) -> None:
    account, actor, people = crowd
    ascending: list[str] = []
    descending: list[str] = []
    for page in (1, 2, 3):
        up = browse_members(ctx, actor, account.id, sort=MemberSort.EMAIL, page=page, page_size=50)
        down = browse_members(
            ctx, actor, account.id, sort=MemberSort.EMAIL, descending=True, page=page, page_size=50
        )
        assert up.total == down.total == 121
        assert up.pages == 3
        ascending += emails(up)
        descending += emails(down)
    assert len(ascending) == 121
    assert ascending == sorted(ascending)
    assert descending == ascending[::-1]
    assert set(ascending) >= {p.email for p in people}
    beyond = browse_members(ctx, actor, account.id, page=4, page_size=50)
    assert (beyond.items, beyond.total) == ([], 121)


def test_every_sort_orders_its_column_and_reverses_exactly(
    ctx: ServiceContext, crowd: tuple[Account, Actor, list[User]]
) -> None:
    account, actor, _ = crowd
    for sort in MemberSort:
        up = browse_members(ctx, actor, account.id, sort=sort, page_size=200).items
        down = browse_members(ctx, actor, account.id, sort=sort, descending=True, page_size=200)
        assert [m.user.id for m in down.items] == [m.user.id for m in up][::-1], sort
    joined = browse_members(ctx, actor, account.id, page_size=200).items
    times = [m.membership.created_at for m in joined]
    assert times == sorted(t for t in times if t is not None)
    by_login = browse_members(ctx, actor, account.id, sort=MemberSort.LAST_LOGIN, page_size=200)
    logins = [m.user.last_login_at for m in by_login.items]
    never = logins.count(None)
    assert never > 0
    assert logins[:never] == [None] * never  # never signed in sorts as the oldest
    assert logins[never:] == sorted(t for t in logins if t is not None)
    by_role = browse_members(ctx, actor, account.id, sort=MemberSort.ROLE, page_size=200).items
    names = [m.role.display_name.lower() for m in by_role]
    assert names == sorted(names)
    by_name = browse_members(ctx, actor, account.id, sort=MemberSort.NAME, page_size=200).items
    assert [m.user.name.lower() for m in by_name] == sorted(m.user.name.lower() for m in by_name)


def test_filters_by_state_role_and_search(
    ctx: ServiceContext, crowd: tuple[Account, Actor, list[User]]
) -> None:
    account, actor, _ = crowd
    every = browse_members(ctx, actor, account.id, page_size=200).items
    for state in MemberState:
        found = browse_members(ctx, actor, account.id, state=state, page_size=200)
        expected = {m.user.id for m in every if member_state(m.user, m.membership) is state}
        assert {m.user.id for m in found.items} == expected, state
        assert found.total == len(expected)
    # 0..119: multiples of 7 are deactivated (18), other multiples of 5 pending (20).
    assert browse_members(ctx, actor, account.id, state=MemberState.DEACTIVATED).total == 18
    assert browse_members(ctx, actor, account.id, state=MemberState.PENDING).total == 20

    managers = browse_members(ctx, actor, account.id, role_key="manage", page_size=200)
    assert managers.total == 30
    assert {m.membership.role_key for m in managers.items} == {"manage"}

    by_mail = browse_members(ctx, actor, account.id, search="  M00042@BROWSE ")
    assert emails(by_mail) == ["m00042@browse.example.com"]
    by_name = browse_members(ctx, actor, account.id, search="member 0010", role_key="view")
    assert emails(by_name) == [f"m00{n}@browse.example.com" for n in (100, 104, 108)]
    nothing = browse_members(ctx, actor, account.id, search="100%_")
    assert (nothing.items, nothing.total) == ([], 0)


def test_the_roles_come_by_name_with_the_accounts_own(ctx: ServiceContext, world: World) -> None:
    actor = as_user(world.b_admin)
    roles.create_custom_role(
        ctx, actor, world.b.id, key="auditor", display_name="Aardvark auditor", capabilities={}
    )
    usable = member_browsing.account_roles(ctx, actor, world.b.id)
    assert usable[0].key == "auditor"
    names = [r.display_name.lower() for r in usable]
    assert names == sorted(names)
    assert browse_members(ctx, actor, world.b.id).roles == usable


def test_10000_members_cost_one_page_select_and_one_count_at_most(ctx: ServiceContext) -> None:
    account = make_account(ctx, name="Big advertiser")
    fill(ctx, account, 10_000)
    actor = Actor.system(face="test")
    member_browsing.account_roles(ctx, actor, account.id)  # warm up the engine's caches
    with statements(ctx) as authorizing:
        member_browsing.account_roles(ctx, actor, account.id)
    for sort in MemberSort:
        for descending in (False, True):
            with statements(ctx) as sent:
                found = browse_members(
                    ctx,
                    actor,
                    account.id,
                    state=MemberState.ACTIVE,
                    search="member",
                    sort=sort,
                    descending=descending,
                    page=37,
                    page_size=50,
                )
            assert len(found.items) == 50
            # 1,429 multiples of 7 are deactivated, 2,000 - 286 other multiples of 5 pending.
            assert found.total == 10_000 - 1429 - (2000 - 286)
            # A search first reads the member text, which stops past `CUT_AT_MOST` matches.
            probe = 1
            extra = sent[len(authorizing) + probe :]
            assert len(sent) == len(authorizing) + probe + 1, sent
            # The page counts every match with it: a search reads them all anyway.
            assert "LIMIT" in extra[0].upper(), extra[0]
            assert "count(*) over" in extra[0].lower(), extra[0]
            with statements(ctx) as unsearched:
                browse_members(ctx, actor, account.id, sort=sort, page=37, page_size=50)
            # Without one, the page stops at its last row, and the account's index counts;
            # in order of address, the member text names the page first.
            named = sort is MemberSort.EMAIL
            assert len(unsearched) == len(authorizing) + 2 + named, unsearched
            assert "count(" in unsearched[-1].lower(), unsearched[-1]
            if named:
                assert "FROM search_member_text" in unsearched[len(authorizing)], unsearched
