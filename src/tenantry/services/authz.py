"""Authorization: what role an actor holds in an account, and whether it is enough.

An actor's role in an account is its own active membership there, or else the role it holds in
the nearest ancestor account, as long as every account on the way down lets its partner manage
it (`can_partner_manage`). API accounts act as admins of their own account; API tokens act with
their user's role in their own account. Credentials that belong to an account never reach
outside that account's managed subtree.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from tenantry.domain.accounts import Account
from tenantry.domain.errors import ErrorCode, Forbidden
from tenantry.domain.memberships import Membership, MembershipStatus
from tenantry.domain.roles import AccessLevel, Need, Role, is_role_key
from tenantry.services.context import Actor, ActorKind, ServiceContext
from tenantry.services.ports import UnitOfWork

Requirement = tuple[str, str, AccessLevel]


def role_in(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    chain: Sequence[Account],
    memberships: Mapping[str, Membership] | None = None,
) -> Role | None:
    """The role `actor` holds in `chain[0]`; `chain` is the account and its ancestors.

    `memberships` (the actor's, by account id) may be passed when already loaded.
    """
    if actor.is_system:
        return ctx.roles.admin
    if not chain:
        return None
    if actor.home_account_id is not None:
        ids = [a.id for a in chain]
        if actor.home_account_id not in ids:
            return None
        below_home = chain[: ids.index(actor.home_account_id)]
        if any(not a.can_partner_manage for a in below_home):
            return None
        if actor.kind is ActorKind.API_ACCOUNT:
            return ctx.roles.admin
        # A token acts with its user's role in the token's account, inherited below it: any
        # stronger membership the user holds further down is the person's, not the token's
        # (minting a token checks the role in its account only).
        chain = chain[ids.index(actor.home_account_id) :]
    if actor.user_id is None:
        return None
    if memberships is None:
        memberships = uow.memberships.in_accounts(actor.user_id, [a.id for a in chain])
    for account in chain:
        membership = memberships.get(account.id)
        if membership is not None and membership.status is MembershipStatus.ACTIVE:
            return resolve_role(ctx, uow, account, membership.role_key)
        if not account.can_partner_manage:
            return None
    return None


def readable_accounts(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    account_ids: Collection[str],
    *,
    with_members: bool = False,
) -> dict[str, Account]:
    """Of `account_ids`, those the actor may read, in a constant number of queries however
    many ids are asked about.

    An account is readable with a role in it, or seen from its parent as a child account;
    `with_members` keeps only the first kind, whose members the actor may also see.
    """
    chains = uow.accounts.chains(account_ids)
    own: Mapping[str, Membership] = {}
    if actor.user_id is not None and not actor.is_system:
        every = {a.id for chain in chains.values() for a in chain}
        own = uow.memberships.in_accounts(actor.user_id, every)
    readable = {}
    for account_id, chain in chains.items():
        role = role_in(ctx, uow, actor, chain, own)
        if role is None or not role.allows(Need.READ_ACCOUNT):
            if with_members:
                continue
            parent = role_in(ctx, uow, actor, chain[1:], own) if len(chain) > 1 else None
            if parent is None or not parent.allows(Need.READ_CHILD_ACCOUNTS):
                continue
        readable[account_id] = chain[0]
    return readable


def resolve_role(ctx: ServiceContext, uow: UnitOfWork, account: Account, key: str) -> Role | None:
    """A predefined role by key, or one of the account's custom roles. Text that does not have
    a role key's shape is no role, found without a lookup (PostgreSQL refuses some strings
    outright, such as those with NUL characters)."""
    if not is_role_key(key):
        return None
    return ctx.roles.find(key) or uow.custom_roles.find(account.id, key)


def require(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, account_id: str, *needs: Requirement
) -> tuple[Account, Role]:
    """The account and the actor's role in it, or Forbidden when a need is not met."""
    chain = uow.accounts.chain(account_id)
    if not chain:
        uow.accounts.get(account_id)  # raises the not-found error
    role = role_in(ctx, uow, actor, chain)
    if role is None or not all(role.allows(need) for need in needs):
        raise Forbidden(ErrorCode.FORBIDDEN, account_id=account_id)
    return chain[0], role


def require_for_child(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, account: Account, need: Requirement
) -> None:
    """Actions on an account as a whole (rename, deactivate, delete) are its parent's to take,
    or, for its own settings, an admin's of the account itself."""
    if account.parent_id is not None:
        parent_chain = uow.accounts.chain(account.parent_id)
        role = role_in(ctx, uow, actor, parent_chain)
        if role is not None and role.allows(need):
            return
    if actor.is_system:
        return
    raise Forbidden(ErrorCode.FORBIDDEN, account_id=account.id)


def can(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, account_id: str, need: Requirement
) -> bool:
    try:
        require(ctx, uow, actor, account_id, need)
    except Forbidden:
        return False
    return True
