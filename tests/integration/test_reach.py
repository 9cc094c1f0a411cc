"""Reads narrowed to the actor's reach (`services.policy_reach`) keep every row the policy would
allow, and leave out the rows of accounts nobody gave the actor a right in.

One account tree of every shape (partner → agency → advertisers, an advertiser its partner
may not manage, a deactivated one, a second partner, a stand-alone advertiser) and a person
placed in every account, as a pending or active member. For every kind of actor rooted in
every account (a member, active or pending; an API account; a person's token) the narrowed
read must be exactly the accounts whose chain holds a root, and the policy must find the same
readable accounts in it as in the whole read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest

from tenantry.domain.accounts import Account, AccountKind, AccountStatus
from tenantry.domain.memberships import Membership, MembershipStatus
from tenantry.services.context import Actor, ActorKind, ServiceContext
from tenantry.services.policy import readable_accounts
from tenantry.services.policy_reach import Reach, reach_of

from factories import OPERATOR, as_user, make_account, make_member, unique_email


@dataclass
class Tree:
    accounts: dict[str, Account]  # by a short name
    person: str  # the user placed everywhere

    def chain(self, account: Account) -> Iterator[str]:
        by_id = {a.id: a for a in self.accounts.values()}
        at: Account | None = account
        while at is not None:
            yield at.id
            at = by_id.get(at.parent_id) if at.parent_id else None


def build_tree(ctx: ServiceContext) -> Tree:
    p1 = make_account(ctx, kind=AccountKind.PARTNER, name="P1")
    agency = make_account(ctx, kind=AccountKind.AGENCY, parent=p1, name="Agency")
    accounts = {
        "p1": p1,
        "agency": agency,
        "under_agency": make_account(ctx, parent=agency, name="Under agency"),
        "under_p1": make_account(ctx, parent=p1, name="Under P1"),
        "closed_to_p1": make_account(
            ctx,
            parent=p1,
            name="Closed to P1",
            can_partner_manage=False,
            admin_email=unique_email("closed"),
        ),
        "deactivated": make_account(
            ctx, parent=agency, name="Deactivated", status=AccountStatus.DEACTIVATED
        ),
    }
    p2 = accounts["p2"] = make_account(ctx, kind=AccountKind.PARTNER, name="P2")
    accounts["under_p2"] = make_account(ctx, parent=p2, name="Under P2")
    accounts["alone"] = make_account(ctx, name="Stand-alone")
    first, *others = accounts.values()
    person = make_member(ctx, first, role="view").id
    # The joining rules would not let one person into all of these (partners' and
    # advertisers' people are kept apart): the narrowing must hold whatever the rows.
    place(ctx, person, others[::2], MembershipStatus.ACTIVE)
    place(ctx, person, others[1::2], MembershipStatus.PENDING)
    return Tree(accounts, person)


def place(
    ctx: ServiceContext, user_id: str, accounts: Sequence[Account], status: MembershipStatus
) -> None:
    with ctx.uow() as uow:
        uow.memberships.add_many(
            [Membership(user_id, a.id, "view", status, created_at=ctx.now()) for a in accounts]
        )


def actors(ctx: ServiceContext, tree: Tree) -> Iterator[tuple[str, Actor, set[str]]]:
    """(what it is, the actor, its roots) for every kind of actor rooted in every account."""
    for name, account in tree.accounts.items():
        admin = make_member(ctx, account, role="admin")
        yield f"an admin of {name}", as_user(admin), {account.id}
        pending = make_member(ctx, account, role="admin", active=False)
        yield f"a pending admin of {name}", as_user(pending), set()
        api = Actor(
            ActorKind.API_ACCOUNT, f"k-{name}", name, home_account_id=account.id, role_key="admin"
        )
        yield f"an API account of {name}", api, {account.id}
        token = Actor(
            ActorKind.API_TOKEN,
            f"t-{name}",
            name,
            user_id=admin.id,
            home_account_id=account.id,
            role_key="admin",
        )
        yield f"a token of {name}'s admin", token, {account.id}
    yield "nobody", Actor(ActorKind.USER, "x", "x"), set()


def test_a_narrowed_read_keeps_exactly_the_accounts_a_root_reaches(ctx: ServiceContext) -> None:
    tree = build_tree(ctx)
    everywhere = {a.id for a in tree.accounts.values()}
    narrowed_somewhere = False
    for what, actor, roots in actors(ctx, tree):
        with ctx.uow(readonly=True) as uow:
            whole = {m.account_id for m in uow.memberships.for_user(tree.person)}
            narrowed = {
                m.account_id for m in uow.memberships.for_user(tree.person, reach_of(actor))
            }
            assert whole == everywhere
            expected = {a.id for a in tree.accounts.values() if roots & set(tree.chain(a))}
            assert narrowed == expected, what
            narrowed_somewhere |= narrowed != whole
            for with_members in (True, False):
                allowed = readable_accounts(ctx, uow, actor, whole, with_members=with_members)
                kept = readable_accounts(ctx, uow, actor, narrowed, with_members=with_members)
                assert kept.keys() == allowed.keys(), (what, with_members)
    assert narrowed_somewhere


def test_the_operator_reaches_every_account(ctx: ServiceContext) -> None:
    tree = build_tree(ctx)
    assert reach_of(OPERATOR) is None
    with ctx.uow(readonly=True) as uow:
        read = uow.memberships.for_user(tree.person, reach_of(OPERATOR))
    assert {m.account_id for m in read} == {a.id for a in tree.accounts.values()}


@pytest.fixture
def placed_elsewhere(ctx: ServiceContext) -> tuple[Account, Actor, str, list[Account]]:
    """An advertiser, its admin, and a member of it who works in 30 advertisers of another
    partner too (20 memberships active, 10 invitations pending)."""
    here = make_account(ctx, name="Here")
    admin = make_member(ctx, here, role="admin")
    shared = make_member(ctx, here, role="view")
    other = make_account(ctx, kind=AccountKind.PARTNER, name="Other partner")
    theirs = [make_account(ctx, parent=other) for _ in range(30)]
    place(ctx, shared.id, theirs[:20], MembershipStatus.ACTIVE)
    place(ctx, shared.id, theirs[20:], MembershipStatus.PENDING)
    return here, as_user(admin), shared.id, theirs


def test_the_tenant_query_reads_no_membership_outside_the_callers_reach(
    ctx: ServiceContext, placed_elsewhere: tuple[Account, Actor, str, list[Account]]
) -> None:
    here, admin, shared, theirs = placed_elsewhere
    with ctx.uow(readonly=True) as uow:
        whole = uow.memberships.member_placements(here.id, 10, None)
        narrowed = uow.memberships.member_placements(here.id, 10, reach_of(admin))
    assert {row[4] for row in whole if row[0] == shared} == {here.id} | {a.id for a in theirs}
    assert [row[4] for row in narrowed] == [here.id, here.id]


def test_a_persons_roles_read_active_memberships_and_those_within_reach(
    ctx: ServiceContext, placed_elsewhere: tuple[Account, Actor, str, list[Account]]
) -> None:
    here, admin, shared, theirs = placed_elsewhere
    with ctx.uow(readonly=True) as uow:
        read = uow.memberships.active_or_within([shared], reach_of(admin))[shared]
    # Only the membership here is within reach; the active ones elsewhere are read for
    # `canBeDeleted` alone (is the person some account's last admin?), the pending ones not.
    assert {(m.account_id, inside) for m, inside in read} == {(here.id, True)} | {
        (a.id, False) for a in theirs[:20]
    }
    assert len(read) == 21


def test_a_reach_with_no_root_reads_nothing_but_the_listed_account(
    ctx: ServiceContext, placed_elsewhere: tuple[Account, Actor, str, list[Account]]
) -> None:
    here, _, shared, _ = placed_elsewhere
    with ctx.uow(readonly=True) as uow:
        assert uow.memberships.for_user(shared, Reach()) == []
        rows = uow.memberships.member_placements(here.id, 10, Reach())
    assert {row[4] for row in rows} == {here.id}
