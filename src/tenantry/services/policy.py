"""The one policy: every "may this actor do this here?" of the core is answered here.

Services ask; faces never decide. The questions are named predicates over (actor, action,
account, target), built from the role catalogue's capabilities and the account tree:

- An actor's role in an account (`grant_in`) is its own active membership there, or else the
  role it holds in the nearest ancestor, as long as every account on the way down lets its
  partner manage it (`can_partner_manage`). Inheritance runs downwards only.
- API accounts and API tokens act with the role chosen when they were made, never above what
  their maker could grant; a token never above its user's own role in its account either.
  Credentials that belong to an account never reach outside its managed subtree.
- A role held in a deactivated account, or below one, grants nothing (`ACCOUNT_DEACTIVATED`).

Protections, each written once: nobody grants a role above their own (`check_grantable`), nor
acts on a member above them (`check_may_manage`); the last admin stays (`check_admin_kept`); the
owner can be neither removed, deactivated nor demoted (`check_owner_kept`); the rules on
identities (`policy_identities`) and on the account tree (`policy_accounts`) are built from
these grants, and `access.explain` explains them from the same `grant_in`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from tenantry.domain import memberships as rules
from tenantry.domain.accounts import Account, is_closed, reaches
from tenantry.domain.errors import Conflict, ErrorCode, Forbidden
from tenantry.domain.memberships import Membership, MembershipStatus
from tenantry.domain.roles import AccessLevel, Need, Role
from tenantry.domain.users import User, UserStatus
from tenantry.services.context import Actor, ActorKind, ServiceContext
from tenantry.services.policy_roles import resolve_role, roles_of
from tenantry.services.ports import UnitOfWork

Requirement = tuple[str, str, AccessLevel]


class GrantSource(StrEnum):
    OPERATOR = "operator"
    MEMBERSHIP = "membership"
    INHERITED = "inherited"
    CREDENTIAL = "credential"


@dataclass(frozen=True, slots=True)
class Grant:
    """Where an actor's role in an account comes from."""

    role: Role
    source: GrantSource
    held_in: Account | None
    """The account whose membership (or credential) grants the role; None for the operator."""
    closed: bool = False
    """Held in a deactivated account, or below one: it grants nothing."""


def grant_in(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    chain: Sequence[Account],
    memberships: Mapping[str, Membership] | None = None,
) -> Grant | None:
    """The grant `actor` holds in `chain[0]`; `chain` is the account and its ancestors.

    `memberships` (the actor's, by account id) may be passed when already loaded.
    """
    if actor.is_system:
        return Grant(ctx.roles.admin, GrantSource.OPERATOR, None)
    if not chain:
        return None
    if actor.home_account_id is not None:
        return _credential_grant(ctx, uow, actor, chain, memberships)
    if actor.user_id is None:
        return None
    return _membership_grant(ctx, uow, actor.user_id, chain, memberships)


def _membership_grant(
    ctx: ServiceContext,
    uow: UnitOfWork,
    user_id: str,
    chain: Sequence[Account],
    memberships: Mapping[str, Membership] | None,
) -> Grant | None:
    if memberships is None:
        memberships = uow.memberships.in_accounts(user_id, [a.id for a in chain])
    for depth, account in enumerate(chain):
        membership = memberships.get(account.id)
        if membership is not None and membership.status is MembershipStatus.ACTIVE:
            role = resolve_role(ctx, uow, account, membership.role_key)
            if role is None:
                return None
            source = GrantSource.MEMBERSHIP if depth == 0 else GrantSource.INHERITED
            return Grant(role, source, account, is_closed(chain[depth:]))
        if not account.can_partner_manage:
            return None
    return None


def _credential_grant(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    chain: Sequence[Account],
    memberships: Mapping[str, Membership] | None,
) -> Grant | None:
    ids = [a.id for a in chain]
    if actor.home_account_id not in ids:
        return None
    home_at = ids.index(actor.home_account_id)
    if any(not a.can_partner_manage for a in chain[:home_at]):
        return None
    home_chain = chain[home_at:]
    if not _maker_still_reaches(actor, home_chain):
        return None
    role = resolve_role(ctx, uow, home_chain[0], actor.role_key or "")
    if role is None:
        return None
    if actor.kind is ActorKind.API_TOKEN:
        # A token acts as its user: never above the user's own role in the token's account
        # (inherited from above it included), whatever stronger membership the user holds
        # further down, which is the person's, not the token's.
        if actor.user_id is None:
            return None
        own = _membership_grant(ctx, uow, actor.user_id, home_chain, memberships)
        if own is None:
            return None
        role = role.limited_to(own.role)
    return Grant(role, GrantSource.CREDENTIAL, home_chain[0], is_closed(home_chain))


def _maker_still_reaches(actor: Actor, home_chain: Sequence[Account]) -> bool:
    """A credential that a parent's member made inside an account acts only while that
    parent still reaches the account: turning partner management off ends it too."""
    return actor.minted_in is None or reaches(home_chain, actor.minted_in)


def acting_from(grant: Grant, actor: Actor, account_id: str) -> str | None:
    """The account the actor acts from with `grant` in `account_id`, when another (a parent's
    member, a credential at home in a parent or made by one): what it makes there (a
    credential, a webhook receiver) lasts while that account reaches `account_id`."""
    if grant.source is GrantSource.CREDENTIAL and actor.minted_in is not None:
        return actor.minted_in  # made by a member of an account above its home: that one
    held_in = grant.held_in.id if grant.held_in is not None else None
    return held_in if held_in != account_id else None


def role_in(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    chain: Sequence[Account],
    memberships: Mapping[str, Membership] | None = None,
) -> Role | None:
    """The role `actor` may act with in `chain[0]`, or None."""
    grant = grant_in(ctx, uow, actor, chain, memberships)
    return grant.role if grant is not None and not grant.closed else None


def readable_accounts(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    account_ids: Collection[str],
    *,
    with_members: bool = False,
    chains: Mapping[str, Sequence[Account]] | None = None,
) -> dict[str, Account]:
    """Of `account_ids`, those the actor may read, in a constant number of queries however
    many ids are asked about (`chains`, when the caller read them already, spares one).

    An account is readable with a role in it, or seen from its parent as a child account;
    `with_members` keeps only the first kind, whose members the actor may also see.
    """
    if chains is None:
        chains = uow.accounts.chains(account_ids)
    else:
        chains = {a: chains[a] for a in account_ids if a in chains}
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


def require(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    account_id: str,
    *needs: Requirement,
    chain: Sequence[Account] | None = None,
) -> tuple[Account, Role]:
    """The account and the actor's role in it, or Forbidden when a need is not met (with
    `ACCOUNT_DEACTIVATED` when the role would do but is held in a deactivated account);
    `chain` is the account's, when the caller read it already."""
    account, grant = require_grant(ctx, uow, actor, account_id, *needs, chain=chain)
    return account, grant.role


def require_grant(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    account_id: str,
    *needs: Requirement,
    chain: Sequence[Account] | None = None,
) -> tuple[Account, Grant]:
    """`require`, answering the whole grant: where the role comes from (`acting_from`)."""
    if chain is None or (chain and chain[0].id != account_id):  # another's is read afresh
        chain = uow.accounts.chain(account_id)
    if not chain:
        uow.accounts.get(account_id)  # raises the not-found error
    grant = grant_in(ctx, uow, actor, chain)
    if grant is None or not all(grant.role.allows(need) for need in needs):
        raise Forbidden(ErrorCode.FORBIDDEN, account_id=account_id)
    if grant.closed:
        raise Forbidden(ErrorCode.ACCOUNT_DEACTIVATED, account_id=account_id)
    return chain[0], grant


def require_for_child(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, account: Account, need: Requirement
) -> None:
    """Actions on an account as a whole (rename, deactivate, delete) are its parent's to take,
    or, for its own settings, an admin's of the account itself."""
    if actor.is_system:
        return
    if account.parent_id is not None and manages_from_parent(ctx, uow, actor, account, need):
        return
    raise Forbidden(ErrorCode.FORBIDDEN, account_id=account.id)


def manages_from_parent(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, account: Account, need: Requirement
) -> bool:
    """Whether the actor meets `need` in the account's parent (the parent side)."""
    if actor.is_system:
        return True
    if account.parent_id is None:
        return False
    role = role_in(ctx, uow, actor, uow.accounts.chain(account.parent_id))
    return role is not None and role.allows(need)


def can(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, account_id: str, need: Requirement
) -> bool:
    try:
        require(ctx, uow, actor, account_id, need)
    except Forbidden:
        return False
    return True


# -- granting and acting on members ------------------------------------------------------------


def may_grant(actor_role: Role, role: Role) -> bool:
    """Nobody grants a role above their own, to a member or to a credential: a role that
    manages admins but lacks, say, API access can't make anyone (itself included) a full
    admin. The catalogue's admin holds everything, so it grants any role."""
    return not role.exceeds(actor_role)


def check_grantable(actor_role: Role, role: Role, *, field: str = "role") -> None:
    if not may_grant(actor_role, role):
        raise Forbidden(ErrorCode.FORBIDDEN, field=field)


def check_may_manage(
    ctx: ServiceContext,
    uow: UnitOfWork,
    account: Account,
    actor_role: Role,
    membership: Membership,
    *,
    field: str = "email",
    roles: Mapping[str, Role] | None = None,
) -> None:
    """Nobody acts on a member whose role is above their own."""
    role = resolve_role(ctx, uow, account, membership.role_key, roles) or ctx.roles.admin
    check_grantable(actor_role, role, field=field)


def active_admin_count(
    ctx: ServiceContext,
    uow: UnitOfWork,
    account: Account,
    roles: Mapping[str, Role] | None = None,
) -> int:
    """Accepted admins (admin-like roles) of the account whose users are active."""
    roles = roles if roles is not None else roles_of(ctx, uow, account)
    keys = {r.key for r in roles.values() if r.is_admin_like}
    return uow.memberships.count_active_with_roles(account.id, keys)


def is_acting_admin(role: Role, membership: Membership, user: User) -> bool:
    """Whether the member counts among `active_admin_count`'s admins."""
    return (
        role.is_admin_like
        and membership.status is MembershipStatus.ACTIVE
        and user.status is UserStatus.ACTIVATED
    )


def check_admin_kept(
    ctx: ServiceContext,
    uow: UnitOfWork,
    account: Account,
    membership: Membership,
    new_role: Role | None,
    *,
    user_active: bool,
    active_admins: int | None = None,
    roles: Mapping[str, Role] | None = None,
) -> None:
    """The last active admin can be neither removed (`new_role` None), demoted nor
    deactivated. The admins are counted here, unless the membership changes service, which
    counts them itself across the changes of a batch, gives its count."""
    current = resolve_role(ctx, uow, account, membership.role_key, roles) or ctx.roles.admin
    if not current.is_admin_like:
        return
    if active_admins is None:
        uow.accounts.lock(account.id)  # so that no other transaction counts the same admins
        active_admins = active_admin_count(ctx, uow, account, roles)
    rules.check_keeps_an_admin(
        current, membership, new_role, active_admins, user_active=user_active
    )


class OwnerChange(StrEnum):
    REMOVE = "remove"
    DEACTIVATE = "deactivate"
    DEMOTE = "demote"


_OWNER_MESSAGES = {
    OwnerChange.REMOVE: None,  # the AppsFlyer document's own words
    OwnerChange.DEACTIVATE: "The account owner can't be deactivated.",
    OwnerChange.DEMOTE: (
        "The account owner's role can't be changed; the owner can first hand ownership to "
        "another active admin."
    ),
}


def check_owner_kept(account: Account, user_id: str, change: OwnerChange) -> None:
    """Ownership moves only by the owner's explicit transfer (`accounts.transfer_ownership`)."""
    if account.owner_user_id == user_id:
        raise Conflict(ErrorCode.OWNER_PROTECTED, _OWNER_MESSAGES[change], field="email")


def is_the_person(actor: Actor, user: User | None) -> bool:
    """Whether `actor` is `user` themselves: signed in as them, or a token acting as them that
    they minted themselves. A token someone else minted to act as them is not them (its
    maker's label is the person's address only when the person made it)."""
    if user is None or actor.user_id != user.id:
        return False
    if actor.kind is ActorKind.USER:
        return True
    return actor.kind is ActorKind.API_TOKEN and actor.minted_by == user.email


def check_removable(account: Account, user_id: str, actor: Actor) -> None:
    """Nobody removes themselves; the owner is not removed."""
    rules.check_not_self(user_id, actor.user_id)
    check_owner_kept(account, user_id, OwnerChange.REMOVE)


def check_may_take_away(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    account: Account,
    membership: Membership,
    change: OwnerChange,
    *,
    user_active: bool,
    active_admins: int | None = None,
    roles: Mapping[str, Role] | None = None,
) -> None:
    """What removing or deactivating a member must keep: nobody does it to themselves, the
    owner stays (as the AppsFlyer document has it, whether or not they accepted yet), and so
    does the last active admin."""
    rules.check_not_self(membership.user_id, actor.user_id)
    check_owner_kept(account, membership.user_id, change)
    check_admin_kept(
        ctx,
        uow,
        account,
        membership,
        None,
        user_active=user_active,
        active_admins=active_admins,
        roles=roles,
    )
