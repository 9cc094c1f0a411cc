"""Batched reads across accounts: where users are and which roles accounts offer.

These serve faces that walk a graph (GraphQL's tenant → users → tenants → roles): each
function answers for many users or accounts at once, in a constant number of queries, and
shows only the accounts the actor may read.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from tenantry.domain.accounts import Account
from tenantry.domain.errors import ErrorCode, NotFound
from tenantry.domain.memberships import Membership, MembershipStatus
from tenantry.domain.roles import Role
from tenantry.domain.users import User, UserStatus
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.policy import readable_accounts
from tenantry.services.policy_reach import reach_of
from tenantry.services.policy_roles import role_named, role_shown
from tenantry.services.ports import UnitOfWork


@dataclass(slots=True)
class Placement:
    """A user's membership in one account the actor may read."""

    account: Account
    membership: Membership
    role: Role


@dataclass(slots=True)
class UserPlacements:
    placements: list[Placement] = field(default_factory=list)
    sole_admin: bool = False
    """The user is the only active admin of at least one account (readable or not)."""


def placements_of(
    ctx: ServiceContext, actor: Actor, user_ids: Collection[str]
) -> dict[str, UserPlacements]:
    """Each user's memberships in accounts the actor may read, with their roles."""
    with ctx.uow(readonly=True) as uow:
        return _placements(ctx, uow, actor, user_ids)


def _placements(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, user_ids: Collection[str]
) -> dict[str, UserPlacements]:
    # Memberships within the actor's reach, for the placements (the policy decides on those
    # as ever: the others it would refuse, however many anybody made), and active ones
    # anywhere, for `sole_admin`: whether deleting a person leaves an account without an
    # admin does not depend on who asks.
    memberships = uow.memberships.active_or_within(user_ids, reach_of(actor))
    users = uow.users.find_many(user_ids)
    account_ids = {m.account_id for ms in memberships.values() for m, _ in ms}
    within = {m.account_id for ms in memberships.values() for m, inside in ms if inside}
    # A placement tells that the user is a member: only where the actor may see members.
    readable = readable_accounts(ctx, uow, actor, within, with_members=True)
    custom = uow.custom_roles.for_accounts(account_ids)
    own_roles = {account_id: {r.key: r for r in roles} for account_id, roles in custom.items()}
    counts = uow.memberships.active_role_counts(account_ids)
    result = {user_id: UserPlacements() for user_id in user_ids}
    for user_id, user_memberships in memberships.items():
        entry = result.setdefault(user_id, UserPlacements())
        user = users.get(user_id)
        can_act = user is not None and user.status is UserStatus.ACTIVATED
        for membership, _ in user_memberships:
            own = own_roles.get(membership.account_id, {})
            found = role_named(ctx, membership.role_key, own)
            # A membership always names an existing role (custom roles in use can't be
            # deleted), unless taken away between two statements of this read; counted as
            # admin, that keeps the last-admin protections strict, but it is shown as every
            # listing shows it (`role_shown`: granting nothing).
            role = found or ctx.roles.admin
            if can_act and role.is_admin_like and membership.status is MembershipStatus.ACTIVE:
                admin_keys = {r.key for r in ctx.roles if r.is_admin_like} | {
                    r.key for r in custom.get(membership.account_id, []) if r.is_admin_like
                }
                admins = sum(counts.get((membership.account_id, k), 0) for k in admin_keys)
                entry.sole_admin = entry.sole_admin or admins <= 1
            account = readable.get(membership.account_id)
            if account is not None:
                shown = role_shown(ctx, account, membership.role_key, own)
                entry.placements.append(Placement(account, membership, shown))
    return result


def roles_of_accounts(
    ctx: ServiceContext, actor: Actor, account_ids: Collection[str]
) -> dict[str, list[Role]]:
    """The roles each readable account offers: predefined ones for its kind, then its own."""
    with ctx.uow(readonly=True) as uow:
        readable = readable_accounts(ctx, uow, actor, account_ids)
        custom = uow.custom_roles.for_accounts(readable)
        return {
            account_id: [r for r in ctx.roles if r.applies_to(account.kind)]
            + custom.get(account_id, [])
            for account_id, account in readable.items()
        }


def visible_user(ctx: ServiceContext, actor: Actor, user_id: str) -> tuple[User, UserPlacements]:
    """A user the actor can see through at least one account; otherwise not found."""
    with ctx.uow(readonly=True) as uow:
        user = uow.users.find(user_id)
        if user is not None:
            placements = _placements(ctx, uow, actor, [user_id])[user_id]
            if placements.placements or actor.is_system:
                return user, placements
    raise NotFound(ErrorCode.USER_NOT_FOUND, field="userId")
