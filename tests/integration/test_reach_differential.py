"""The narrowed reads (`services.policy_reach`) answer exactly what the whole reads answered.

Random account trees of every allowed shape (partners, agencies with and without partner
management, advertisers below both, deactivated ones, stand-alone advertisers), custom roles,
and people holding random roles, pending or active, in random accounts. For every kind of
actor (the operator, each person, API accounts and people's tokens at home anywhere, made in
their home or in an ancestor, an actor with no person and no home), the services that narrow
(`directory.placements_of`, `tenant_members.tenant_members`,
`policy_identities.check_may_see_user`) must give the same answers as they do when the reach
is left out (every membership read, the policy alone deciding).
"""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest

from tenantry.domain.accounts import Account, AccountKind, AccountStatus
from tenantry.domain.errors import DomainError
from tenantry.domain.memberships import Membership, MembershipStatus
from tenantry.domain.users import User, UserStatus
from tenantry.services import directory, policy_identities, tenant_members
from tenantry.services.context import Actor, ActorKind, ServiceContext
from tenantry.services.roles import create_custom_role

from factories import OPERATOR, make_account, unique_email

PREDEFINED = ("admin", "view", "marketing_limited", "qa", "security")
CUSTOM = "narrow"


def answers(ctx: ServiceContext, actor: Actor, users: list[str], accounts: list[str]) -> Any:
    out: dict[Any, Any] = {}
    for user_id, entry in directory.placements_of(ctx, actor, users).items():
        placed = [(p.account.id, p.role.key, p.membership.status.value) for p in entry.placements]
        out[("placements", user_id)] = (placed, entry.sole_admin)
    for account_id in accounts:
        try:
            found = tenant_members.tenant_members(ctx, actor, account_id, at_most=100)
        except DomainError as refused:
            out[("tenant", account_id)] = refused.code
            continue
        out[("tenant", account_id)] = (
            [u.id for u in found.users],
            {u: [(h.account.id, h.role.key) for h in held] for u, held in found.held.items()},
        )
    for user_id in users:
        with ctx.uow(readonly=True) as uow:
            try:
                policy_identities.check_may_see_user(ctx, uow, actor, user_id)
                out[("sees", user_id)] = True
            except DomainError:
                out[("sees", user_id)] = False
    return out


def random_tree(ctx: ServiceContext, rnd: random.Random) -> list[Account]:
    def maybe_closed() -> dict[str, Any]:
        if rnd.random() < 0.3:
            return {"can_partner_manage": False, "admin_email": unique_email("closed")}
        return {}

    made: list[Account] = []
    for _ in range(2):
        partner = make_account(ctx, kind=AccountKind.PARTNER)
        made.append(partner)
        for _ in range(2):
            agency = make_account(ctx, kind=AccountKind.AGENCY, parent=partner, **maybe_closed())
            made.append(agency)
            for _ in range(2):
                status = AccountStatus.DEACTIVATED if rnd.random() < 0.15 else AccountStatus.ACTIVE
                made.append(make_account(ctx, parent=agency, status=status, **maybe_closed()))
        made.append(make_account(ctx, parent=partner, **maybe_closed()))
    made.append(make_account(ctx))
    return made


def place_people(
    ctx: ServiceContext, rnd: random.Random, accounts: list[Account], with_custom: set[str]
) -> list[str]:
    people = [
        User(
            id=str(uuid.uuid4()),
            email=unique_email("placed"),
            status=rnd.choice(list(UserStatus)),
            created_at=ctx.now(),
        )
        for _ in range(8)
    ]
    held = []
    for person in people:
        for account in rnd.sample(accounts, rnd.randint(1, 6)):
            keys = [*PREDEFINED, *([CUSTOM] if account.id in with_custom else [])]
            status = rnd.choice(list(MembershipStatus))
            held.append(
                Membership(person.id, account.id, rnd.choice(keys), status, created_at=ctx.now())
            )
    # Written as rows: the joining rules would keep some of these apart, the reads must hold
    # whatever the rows.
    with ctx.uow() as uow:
        uow.users.add_many(people)
        uow.memberships.add_many(held)
    return [p.id for p in people]


def random_actors(
    ctx: ServiceContext, rnd: random.Random, accounts: list[Account], people: list[str]
) -> list[Actor]:
    actors = [OPERATOR, Actor(ActorKind.USER, "nobody", "nobody")]
    actors += [Actor.for_user(p, "person") for p in people]
    actors.append(Actor(ActorKind.API_ACCOUNT, "homeless", "homeless", role_key="admin"))
    for n in range(12):
        home = rnd.choice(accounts)
        with ctx.uow(readonly=True) as uow:
            chain = [a.id for a in uow.accounts.chain(home.id)]
        made_in = rnd.choice([None, *chain])
        actors.append(
            Actor(
                ActorKind.API_ACCOUNT,
                f"k{n}",
                f"k{n}",
                home_account_id=home.id,
                role_key=rnd.choice(["admin", "view", "qa"]),
                minted_in=made_in,
            )
        )
        actors.append(
            Actor(
                ActorKind.API_TOKEN,
                f"t{n}",
                f"t{n}",
                user_id=rnd.choice(people),
                home_account_id=home.id,
                role_key=rnd.choice(["admin", "view"]),
                minted_in=made_in,
            )
        )
    return actors


@pytest.mark.parametrize("seed", range(4))
def test_the_narrowed_reads_answer_as_the_whole_reads(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    rnd = random.Random(seed)  # noqa: S311  (reproducible shapes, not secrets)
    accounts = random_tree(ctx, rnd)
    with_custom = {a.id for a in rnd.sample(accounts, 4)}
    for account_id in with_custom:
        create_custom_role(
            ctx,
            OPERATOR,
            account_id,
            key=CUSTOM,
            display_name="Narrow",
            capabilities={"account": {"settings": "read"}},
        )
    people = place_people(ctx, rnd, accounts, with_custom)
    account_ids = [a.id for a in accounts]
    shown = 0
    for actor in random_actors(ctx, rnd, accounts, people):
        narrowed = answers(ctx, actor, people, account_ids)
        with monkeypatch.context() as whole:
            for module in (directory, policy_identities, tenant_members):
                whole.setattr(module, "reach_of", lambda _actor: None)
            everything = answers(ctx, actor, people, account_ids)
        assert narrowed == everything, actor
        if not actor.is_system:
            shown += sum(bool(v[0]) for k, v in narrowed.items() if k[0] == "placements")
    assert shown > 0  # the actors saw something: the comparison is not of empty answers
