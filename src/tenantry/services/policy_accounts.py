"""The policy on the account tree: which accounts an actor reaches, who changes an account,
sets and lifts its deactivation, turns partner management back on, or hands its ownership
over."""

from __future__ import annotations

from collections.abc import Collection

from tenantry.domain.accounts import Account, AccountStatus
from tenantry.domain.errors import Conflict, ErrorCode, Forbidden
from tenantry.domain.memberships import Membership, MembershipStatus
from tenantry.domain.roles import Need, Role
from tenantry.domain.users import User, UserStatus
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.policy import (
    active_admin_count,
    is_the_person,
    manages_from_parent,
    require,
    require_for_child,
    role_in,
)
from tenantry.services.policy_roles import roles_of
from tenantry.services.ports import UnitOfWork


def check_may_change_account(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, account: Account
) -> None:
    """Changing an account (name, status, settings) is its own settings admins', or theirs who
    manage it from its parent."""
    role = role_in(ctx, uow, actor, uow.accounts.chain(account.id))
    if role is not None and role.allows(Need.MANAGE_SETTINGS):
        return
    require_for_child(ctx, uow, actor, account, Need.MANAGE_CHILD_ACCOUNTS)


def check_may_change_policy(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, account_id: str
) -> Account:
    """An account's security policy is its settings admins' to change, or theirs who manage it
    from above while partner management reaches it (the role they inherit there). Unlike
    `check_may_change_account`, the parent side has no say of its own here: a parent whose
    reach the account's admins turned off can't loosen (or tighten) how its members sign in."""
    account, _ = require(ctx, uow, actor, account_id, Need.MANAGE_SETTINGS)
    return account


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
    """Once an account's own side turned partner management off, only it turns it on again;
    the parent side may while the account has no one of its own who could."""
    if not value or account.can_partner_manage:
        return
    own = role_in(ctx, uow, actor, [account])  # the account alone: its own membership
    if own is not None and own.allows(Need.MANAGE_SETTINGS):
        return
    if actor.is_system or not _has_own_settings_admin(ctx, uow, account):
        return
    raise Forbidden(ErrorCode.PARTNER_MANAGE_LOCKED, field="canPartnerManage")


def _has_own_settings_admin(ctx: ServiceContext, uow: UnitOfWork, account: Account) -> bool:
    """Whether someone of the account's own may change its settings: an accepted admin, or an
    open credential made in the account itself (not by a member of an account above) with a
    role that may. An account run by its API accounts alone is its own side too."""
    roles = roles_of(ctx, uow, account)
    if active_admin_count(ctx, uow, account, roles) > 0:
        return True
    keys = [key for key, role in roles.items() if role.allows(Need.MANAGE_SETTINGS)]
    now = ctx.now()
    return any(
        credentials.count_open_own(account.id, keys, now) > 0
        for credentials in (uow.api_accounts, uow.api_tokens)
    )


def accounts_managed_from(uow: UnitOfWork, account_id: str) -> set[str]:
    """The account, and the accounts below it its admins manage: as far down as every account
    on the way lets its partner manage it (the reach `reachable_parents` gives an admin)."""
    reached: set[str] = set()
    for link in uow.accounts.subtree(account_id):
        if link.id == account_id or (link.parent_id in reached and link.can_partner_manage):
            reached.add(link.id)
    return reached


ONLY_THE_OPERATOR_ASSIGNS_DOMAINS = "Only the operator assigns e-mail domains to a provider."


def check_may_assign_provider_domains(
    actor: Actor, before: Collection[str], wanted: Collection[str]
) -> None:
    """Which e-mail domains an identity provider serves is the operator's to say: a provider
    speaks for the people of its domains, so an account's admin naming another company's (or
    a public mail) domain would be claiming those people."""
    if actor.is_system or set(before) == set(wanted):
        return
    raise Forbidden(ErrorCode.FORBIDDEN, ONLY_THE_OPERATOR_ASSIGNS_DOMAINS, field="domains")


def reachable_account_ids(ctx: ServiceContext, uow: UnitOfWork, actor: Actor) -> set[str]:
    """The accounts an actor may read: where it holds a role, and below, as far as partner
    management reaches (plus the direct children of accounts where it may see children).

    One subtree query per root, whatever the number of accounts below it.
    """
    return set(reachable_parents(ctx, uow, actor))


def reachable_parents(ctx: ServiceContext, uow: UnitOfWork, actor: Actor) -> dict[str, str | None]:
    """`reachable_account_ids`, each with its parent's id."""
    if actor.home_account_id is not None:
        roots = [actor.home_account_id]
    elif actor.user_id is not None:
        roots = [m.account_id for m in uow.memberships.for_user(actor.user_id)]
    else:
        return {}
    reachable: dict[str, str | None] = {}
    for root in roots:
        if root in reachable:
            continue
        role = role_in(ctx, uow, actor, uow.accounts.chain(root))
        if role is None:
            continue
        inherited: dict[str, Role | None] = {}
        for link in uow.accounts.subtree(root):
            own: Role | None
            if link.id == root:
                own = role
            else:
                parent_role = inherited.get(link.parent_id or "")
                if parent_role is not None and parent_role.allows(Need.READ_CHILD_ACCOUNTS):
                    reachable[link.id] = link.parent_id
                own = parent_role if link.can_partner_manage else None
            inherited[link.id] = own
            if own is not None and own.allows(Need.READ_ACCOUNT):
                reachable[link.id] = link.parent_id
    return reachable


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
