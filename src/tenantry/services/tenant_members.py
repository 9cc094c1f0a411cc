"""An account's members with every role they hold where the actor may see it, for faces that
walk tenant → users → roles (GraphQL): one read transaction, a constant handful of statements
however many members, and plain facts rather than whole domain objects (a tenant of 50 people
holding 2 roles each used to cost 150 objects and eleven statements in four transactions)."""

from __future__ import annotations

from dataclasses import dataclass

from tenantry.domain.accounts import Account
from tenantry.domain.roles import Need, Role
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.member_query import UserFacts
from tenantry.services.policy import readable_accounts, require
from tenantry.services.policy_reach import reach_of
from tenantry.services.policy_roles import role_shown


@dataclass(frozen=True, slots=True)
class RoleHeld:
    """A role a user holds in an account the actor may see the members of."""

    account: Account
    role: Role


@dataclass(slots=True)
class TenantMembers:
    account: Account
    users: list[UserFacts]
    held: dict[str, list[RoleHeld]]
    """By user id: their roles in the accounts whose members the actor may see, in the order
    they got them (as `directory.placements_of` gives them)."""
    roles: list[Role]
    """The roles the account offers: predefined ones for its kind, then its own."""


def tenant_members(
    ctx: ServiceContext, actor: Actor, account_id: str, *, at_most: int
) -> TenantMembers:
    """The members of an account (the first `at_most` + 1 who joined, so that a caller can
    tell there are more), each with the roles they hold wherever the actor may see members,
    and the roles the account offers."""
    predefined = ctx.roles
    with ctx.uow(readonly=True) as uow:
        # The right first: nothing about the members is read for a caller who may not see
        # them (how many there are would show in the time a refusal takes).
        chain, offers_own = uow.accounts.chain_with_own_roles(account_id)
        account, _ = require(ctx, uow, actor, account_id, Need.READ_ACCOUNT, chain=chain)
        # Memberships elsewhere are read only within the actor's reach: the policy below
        # would refuse the others, however many anybody made.
        rows = uow.memberships.member_placements(account_id, at_most + 1, reach_of(actor))
        held_where = {(row[4], row[5]) for row in rows}  # a few (account, role) among many rows
        elsewhere = {where for where, _ in held_where} - {account_id}
        chains = uow.accounts.chains(elsewhere, known=chain)
        readable = readable_accounts(ctx, uow, actor, elsewhere, with_members=True, chains=chains)
        readable[account_id] = account  # `require` said so
        # Own roles are read where a member holds a role that is none of the predefined ones
        # (read after the members, so a role made and given since is found), and the
        # account's own when it has some, for the roles it offers.
        owning = {
            where for where, key in held_where if where in readable and not predefined.find(key)
        }
        if offers_own:
            owning.add(account_id)
        custom = uow.custom_roles.for_accounts(owning) if owning else {}
    own = {account_id: {r.key: r for r in roles} for account_id, roles in custom.items()}
    users: list[UserFacts] = []
    held: dict[str, list[RoleHeld]] = {}
    views: dict[tuple[str, str], RoleHeld] = {}
    for user_id, email, status, expires_on, in_account, role_key in rows:
        entry = held.get(user_id)
        if entry is None:
            entry = held[user_id] = []
            users.append(UserFacts(user_id, email, status, expires_on))
        found = views.get((in_account, role_key))
        if found is None:
            where = readable.get(in_account)
            if where is None:
                continue
            role = role_shown(ctx, where, role_key, own.get(in_account, {}))
            found = views[(in_account, role_key)] = RoleHeld(where, role)
        entry.append(found)
    offered = [r for r in predefined if r.applies_to(account.kind)] + custom.get(account_id, [])
    return TenantMembers(account, users, held, offered)
