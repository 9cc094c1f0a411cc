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
owner can be neither removed, deactivated nor demoted (`check_owner_kept`); an identity is
edited only by its owner or its home account's admins (`check_may_edit_identity`); an account's
status 2 is its parent side's to set and lift (`check_status_change`); a parent does not turn
partner management back on against the account's own admins (`check_partner_manage_change`).
The same policy explains itself (`explain`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from tenantry.domain import memberships as rules
from tenantry.domain.accounts import Account, AccountStatus
from tenantry.domain.errors import Conflict, ErrorCode, Forbidden, InvalidInput, NotFound
from tenantry.domain.invitations import Invitation
from tenantry.domain.memberships import Membership, MembershipStatus
from tenantry.domain.roles import AccessLevel, Need, Role, is_role_key
from tenantry.domain.users import User, UserStatus
from tenantry.services.context import Actor, ActorKind, ServiceContext
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
            return Grant(role, source, account, _closed(chain[depth:]))
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
    return Grant(role, GrantSource.CREDENTIAL, home_chain[0], _closed(home_chain))


def _maker_still_reaches(actor: Actor, home_chain: Sequence[Account]) -> bool:
    """A credential that a parent's member made inside an account acts only while that
    parent still reaches the account: turning partner management off ends it too."""
    if actor.minted_in is None or actor.minted_in == home_chain[0].id:
        return True
    for account in home_chain:
        if account.id == actor.minted_in:
            return True
        if not account.can_partner_manage:
            return False
    return False


def minted_in(grant: Grant, actor: Actor) -> str | None:
    """For a new credential made with `grant`: the account whose role its maker used, when
    that is not the credential's own (see `_maker_still_reaches`)."""
    if grant.source is GrantSource.INHERITED and grant.held_in is not None:
        return grant.held_in.id
    if grant.source is GrantSource.CREDENTIAL:
        return actor.minted_in
    return None


def _closed(chain: Sequence[Account]) -> bool:
    return any(a.status is AccountStatus.DEACTIVATED for a in chain)


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


def resolve_role(
    ctx: ServiceContext,
    uow: UnitOfWork,
    account: Account,
    key: str,
    roles: Mapping[str, Role] | None = None,
) -> Role | None:
    """A predefined role by key, or one of the account's custom roles (looked up in `roles`,
    the account's `roles_of`, when a caller read them already). Text that does not have a
    role key's shape is no role, found without a lookup (PostgreSQL refuses some strings
    outright, such as those with NUL characters)."""
    if not is_role_key(key):
        return None
    predefined = ctx.roles.find(key)
    if predefined is not None:
        return predefined
    return roles.get(key) if roles is not None else uow.custom_roles.find(account.id, key)


def usable_role(
    ctx: ServiceContext,
    uow: UnitOfWork,
    account: Account,
    key: str,
    roles: Mapping[str, Role] | None = None,
) -> Role:
    """The role `key` names among the account's (predefined for its kind, or its own)."""
    role = resolve_role(ctx, uow, account, key, roles)
    if role is None:
        raise InvalidInput(ErrorCode.UNKNOWN_ROLE, field="role")
    rules.check_role_for_account(role, account)
    return role


def require(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, account_id: str, *needs: Requirement
) -> tuple[Account, Role]:
    """The account and the actor's role in it, or Forbidden when a need is not met (with
    `ACCOUNT_DEACTIVATED` when the role would do but is held in a deactivated account)."""
    chain = uow.accounts.chain(account_id)
    if not chain:
        uow.accounts.get(account_id)  # raises the not-found error
    grant = grant_in(ctx, uow, actor, chain)
    if grant is None or not all(grant.role.allows(need) for need in needs):
        raise Forbidden(ErrorCode.FORBIDDEN, account_id=account_id)
    if grant.closed:
        raise Forbidden(ErrorCode.ACCOUNT_DEACTIVATED, account_id=account_id)
    return chain[0], grant.role


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


def check_credential_role(actor_role: Role, role: Role, *, field: str = "role") -> None:
    if not may_grant(actor_role, role):
        raise Forbidden(
            ErrorCode.FORBIDDEN,
            "A credential can't have a role with more rights than your own.",
            field=field,
        )


def check_token_role(role: Role, user_role: Role | None) -> None:
    """A token acts as its member: never with more than the member's own role."""
    if user_role is None or role.exceeds(user_role):
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            "A token can't have a role with more rights than the member it acts as.",
            field="role",
        )


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


def roles_of(ctx: ServiceContext, uow: UnitOfWork, account: Account) -> dict[str, Role]:
    """Every role usable in the account: the predefined ones for its kind, then its own."""
    roles = {r.key: r for r in ctx.roles if r.applies_to(account.kind)}
    roles.update({r.key: r for r in uow.custom_roles.for_account(account.id)})
    return roles


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


def check_may_transfer_ownership(
    actor: Actor,
    account: Account,
    owner: User | None,
    new_owner: User,
    membership: Membership,
    role: Role | None,
) -> None:
    """Only the owner (or the operator) hands ownership over, to an active admin."""
    if not (actor.is_system or is_the_person(actor, owner)):
        raise Forbidden(
            ErrorCode.FORBIDDEN, "Only the account owner can hand ownership over.", field="user"
        )
    if (
        membership.status is not MembershipStatus.ACTIVE
        or new_owner.status is not UserStatus.ACTIVATED
        or role is None
        or not role.is_admin_like
    ):
        raise Conflict(
            ErrorCode.CONFLICT,
            "Ownership goes to an active admin of the account.",
            field="user",
        )


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


# -- identities --------------------------------------------------------------------------------


def memberships_weighed_elsewhere(
    ctx: ServiceContext, uow: UnitOfWork, user: User, account_id: str
) -> list[tuple[Membership, Account]]:
    """The user's memberships in other accounts that the AppsFlyer multi-account rules weigh
    (`memberships.check_can_join`): those the person accepted, and, while the identity itself
    has never accepted anything, invitations of other accounts that are still open ("pending
    in another account"). An invitation to an identity that is in use elsewhere gates
    nothing: otherwise any account could lock a person out of every other one by inviting
    them, and that the person never agreed to."""
    held = uow.memberships.elsewhere(user.id, account_id)
    gating = user.status is UserStatus.PENDING and any(
        m.status is MembershipStatus.PENDING for m, _ in held
    )
    invitations = uow.invitations.open_for_user(user.id) if gating else []
    return weighed_elsewhere(ctx, user, held, invitations)


def weighed_elsewhere(
    ctx: ServiceContext,
    user: User,
    held: Sequence[tuple[Membership, Account]],
    open_invitations: Sequence[Invitation],
) -> list[tuple[Membership, Account]]:
    """`memberships_weighed_elsewhere` from what a caller read already: the user's memberships
    in the other accounts, and the user's open invitations."""
    now = ctx.now()

    def weighed(membership: Membership, account: Account) -> bool:
        if membership.status is MembershipStatus.ACTIVE:
            return True
        if user.status is not UserStatus.PENDING:
            return False
        return any(i.account_id == account.id and i.expires_at > now for i in open_invitations)

    return [(m, a) for m, a in held if weighed(m, a)]


def check_may_join(
    ctx: ServiceContext,
    account: Account,
    user: User,
    held: Sequence[tuple[Membership, Account]],
    open_invitations: Sequence[Invitation] = (),
) -> None:
    """The multi-account rules (`memberships.check_can_join`) for an identity that exists
    joining `account`, over what `weighed_elsewhere` weighs of its memberships elsewhere."""
    rules.check_can_join(account, weighed_elsewhere(ctx, user, held, open_invitations))


def check_may_edit_identity(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, user: User, *, address: bool
) -> None:
    """Profile, address, password and second factor are the person's own, or an admin's of
    the identity's home account while every account the identity belongs to (pending
    invitations grant nothing and don't count) is within that admin's reach, and the person's
    role is nowhere above the admin's. A credential someone else made to act as the person is
    not the person. Someone else never moves the `address` of an account owner, nor of a
    person who secures their login with a second factor: with the address goes the login."""
    if actor.is_system or is_the_person(actor, user):
        return
    home = user.home_account_id
    held = [m for m in uow.memberships.for_user(user.id) if m.status is MembershipStatus.ACTIVE]
    if (
        home is None
        or not _admin_in(ctx, uow, actor, home)
        or not all(_admin_over(ctx, uow, actor, m) for m in held)
    ):
        raise Forbidden(ErrorCode.NOT_IDENTITY_OWNER, field="userName")
    owns = set(uow.accounts.owned_by(user.id)) & {m.account_id for m in held}
    if address and (owns or _has_second_factor(uow, user)):
        raise Forbidden(
            ErrorCode.NOT_IDENTITY_OWNER,
            "Only the person can change the address of an account owner or of a login "
            "secured with a second factor.",
            field="userName",
        )


def _admin_over(ctx: ServiceContext, uow: UnitOfWork, actor: Actor, m: Membership) -> bool:
    chain = uow.accounts.chain(m.account_id)
    role = role_in(ctx, uow, actor, chain)
    theirs = resolve_role(ctx, uow, chain[0], m.role_key) if chain else None
    return (
        role is not None
        and role.allows(Need.MANAGE_ADMINS)
        and (theirs is None or may_grant(role, theirs))
    )


def _has_second_factor(uow: UnitOfWork, user: User) -> bool:
    factor = uow.auth.find_second_factor(user.id)
    return factor is not None and factor.confirmed_at is not None


def check_may_see_user(ctx: ServiceContext, uow: UnitOfWork, actor: Actor, user_id: str) -> User:
    """The user, for an actor who may read the members of an account the user belongs to;
    NotFound otherwise, so that an id tells a stranger nothing (not even an address)."""
    user = uow.users.find(user_id)
    if user is not None and not actor.is_system:
        accounts = [m.account_id for m in uow.memberships.for_user(user.id)]
        if not readable_accounts(ctx, uow, actor, accounts, with_members=True):
            user = None
    if user is None:
        raise NotFound(ErrorCode.USER_NOT_FOUND, field="userId")
    return user


def is_operator(ctx: ServiceContext, uow: UnitOfWork, actor: Actor) -> bool:
    """The deployment's operators, who see state that spans every account (mail waiting to go
    out): the system actor, and the admins of the first top-level account (`tenantry init`'s)."""
    if actor.is_system:
        return True
    root = uow.accounts.first_root()
    return root is not None and _admin_in(ctx, uow, actor, root.id)


def _admin_in(ctx: ServiceContext, uow: UnitOfWork, actor: Actor, account_id: str) -> bool:
    role = role_in(ctx, uow, actor, uow.accounts.chain(account_id))
    return role is not None and role.allows(Need.MANAGE_ADMINS)


# -- the account tree --------------------------------------------------------------------------


def check_status_change(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, account: Account, status: AccountStatus
) -> None:
    """Deactivating an account, and lifting that, are its parent side's (or the operator's):
    its own admins, who lose their rights in it while it is deactivated, can't undo it."""
    touches_deactivation = AccountStatus.DEACTIVATED in (account.status, status)
    if status is account.status or not touches_deactivation:
        return
    if not manages_from_parent(ctx, uow, actor, account, Need.MANAGE_CHILD_ACCOUNTS):
        raise Forbidden(
            ErrorCode.FORBIDDEN,
            "Only the parent account (or the operator) deactivates an account or lifts that.",
            field="status",
        )


def check_partner_manage_change(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, account: Account, value: bool
) -> None:
    """Once an account's own admins turned partner management off, only they turn it on
    again; the parent side may while the account has no active admin of its own."""
    if not value or account.can_partner_manage:
        return
    own = role_in(ctx, uow, actor, [account])  # the account alone: its own membership
    if own is not None and own.allows(Need.MANAGE_SETTINGS):
        return
    if actor.is_system or active_admin_count(ctx, uow, account) == 0:
        return
    raise Forbidden(ErrorCode.PARTNER_MANAGE_LOCKED, field="canPartnerManage")


# -- explaining --------------------------------------------------------------------------------

ACTIONS: tuple[tuple[str, Requirement], ...] = (
    ("read the account and its members", Need.READ_ACCOUNT),
    ("add, change and remove members", Need.MANAGE_USERS),
    ("manage admins (roles up to their own)", Need.MANAGE_ADMINS),
    ("change the account's settings and apps", Need.MANAGE_SETTINGS),
    ("see API accounts and API tokens", Need.READ_API_ACCESS),
    ("create API accounts and API tokens", Need.MANAGE_API_ACCESS),
    ("see child accounts", Need.READ_CHILD_ACCOUNTS),
    ("create and manage child accounts", Need.MANAGE_CHILD_ACCOUNTS),
    ("read the audit log", Need.READ_AUDIT),
)


@dataclass(frozen=True, slots=True)
class Permission:
    """One thing a person may do in an account, and what grants it."""

    action: str
    capability: str
    level: AccessLevel
    granted_by: str


@dataclass(frozen=True, slots=True)
class Explanation:
    account: Account
    user: User
    grant: Grant | None
    permissions: list[Permission]
    notes: list[str]


def explain(ctx: ServiceContext, uow: UnitOfWork, user: User, account: Account) -> Explanation:
    """What `user` may do in `account`, each line with the membership or inheritance that
    grants it, from the same `grant_in` every service asks."""
    chain = uow.accounts.chain(account.id)
    person = Actor.for_user(user.id, user.email)
    grant = grant_in(ctx, uow, person, chain)
    notes = _notes(uow, user, account, chain, grant)
    if grant is None or grant.closed or user.status is not UserStatus.ACTIVATED:
        return Explanation(account, user, grant, [], notes)
    source = _describe(grant, chain)
    permissions = [
        Permission(action, f"{need[0]}.{need[1]}", grant.role.level(need[0], need[1]), source)
        for action, need in ACTIONS
        if grant.role.allows(need)
    ]
    named = {f"{n[0]}.{n[1]}" for _, n in ACTIONS}
    for section, caps in sorted(ctx.roles.sections.items()):
        for capability in caps:
            level = grant.role.level(section, capability)
            name = f"{section}.{capability}"
            if level > AccessLevel.BLOCKED and name not in named:
                action = f"{section.replace('_', ' ')}: {capability.replace('_', ' ')}"
                permissions.append(Permission(action, name, level, source))
    return Explanation(account, user, grant, permissions, notes)


def _describe(grant: Grant, chain: Sequence[Account]) -> str:
    held = grant.held_in
    assert held is not None
    role = f"{grant.role.display_name} ({grant.role.key})"
    if grant.source is GrantSource.MEMBERSHIP:
        return f"membership in {held.name} [{held.id}] as {role}"
    below = chain[: [a.id for a in chain].index(held.id)]
    path = " → ".join(f"{a.name} [{a.id}]" for a in reversed(below))
    return (
        f"membership in {held.name} [{held.id}] as {role}, inherited down through "
        f"partner management to {path}"
    )


def _notes(
    uow: UnitOfWork, user: User, account: Account, chain: Sequence[Account], grant: Grant | None
) -> list[str]:
    notes = []
    own = uow.memberships.find(user.id, account.id)
    if own is not None and own.status is MembershipStatus.PENDING:
        notes.append("their membership here is pending until they accept the invitation")
    if user.status is UserStatus.DEACTIVATED:
        notes.append("the user is deactivated: nothing is granted")
    elif user.status is UserStatus.PENDING:
        notes.append("the user has not accepted an invitation yet: nothing is granted")
    if account.owner_user_id == user.id:
        notes.append("owner of the account: can't be removed, deactivated or demoted")
    if grant is not None and grant.closed:
        notes.append("the account granting the role is deactivated (or below one): nothing")
    if grant is None:
        blocked = [a for a in chain[:-1] if not a.can_partner_manage]
        if blocked:
            notes.append(
                f"partner management is off in {blocked[0].name} [{blocked[0].id}]: "
                "no role is inherited from above it"
            )
        notes.append("no active membership here or above grants a role")
    if user.home_account_id == account.id:
        notes.append("this account is the identity's home: its admins may edit the profile")
    return notes
