"""Members: one at a time, adding users to accounts with a role, changing roles and removing
(through the membership changes service), (de)activating, and reading them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tenantry.domain.accounts import Account
from tenantry.domain.errors import ErrorCode, InvalidInput, NotFound
from tenantry.domain.memberships import Membership, MembershipStatus
from tenantry.domain.roles import Need, Role
from tenantry.domain.users import User, UserStatus
from tenantry.services.context import Actor, ServiceContext, record
from tenantry.services.member_query import ListedUser
from tenantry.services.membership_changes import apply_membership_changes, change_member_in
from tenantry.services.membership_commands import AddedMember as AddedMember
from tenantry.services.membership_commands import (
    ChangeRole,
    MembershipChange,
    RemoveMember,
    ScopeRequest,
    user_snapshot,
)
from tenantry.services.membership_commands import NewMember as NewMember
from tenantry.services.policy import (
    OwnerChange,
    check_may_manage,
    check_may_take_away,
    require,
    role_in,
)
from tenantry.services.policy_identities import check_may_see_user
from tenantry.services.policy_roles import resolve_role, roles_named
from tenantry.services.ports import MemberCursor, UnitOfWork

MAX_PAGE = 1000
MAX_SEARCH_LENGTH = 254
"""A member search looks at most this far into its text (the longest address there is): a
longer one finds nobody it would not find cut, and costs every search's engine more."""


def search_text(search: str | None) -> str | None:
    """What a member search looks for: the text without surrounding blanks, cut to
    `MAX_SEARCH_LENGTH`; None when nothing is left (no search)."""
    return (search or "").strip()[:MAX_SEARCH_LENGTH] or None


LIST_CAP = 10_000
"""The most members or accounts a face answers in one list its callers did not ask to page
(the vendors' documents define lists without pages); more is an error that says so."""


@dataclass(slots=True)
class Member:
    user: User
    membership: Membership
    role: Role


@dataclass(slots=True)
class ListedMember:
    """A member as a page of the account's members shows them (`list_members`)."""

    user: ListedUser
    membership: Membership
    role: Role


@dataclass(slots=True)
class MemberPage:
    items: list[ListedMember]
    next_cursor: MemberCursor | None


# -- adding, changing and removing, one at a time ---------------------------------------------


def add_member(ctx: ServiceContext, actor: Actor, account_id: str, spec: NewMember) -> AddedMember:
    """Add a user (new or existing) to an account with one role; new users get an invitation."""
    return apply_membership_changes(ctx, actor, account_id, [spec]).one()


def change_role(
    ctx: ServiceContext,
    actor: Actor,
    account_id: str,
    user_id: str,
    role_key: str,
    scope: ScopeRequest | None = None,
) -> Member:
    """Replace a member's role (and, when given, scope); the last admin stays an admin."""
    changed = apply_membership_changes(
        ctx, actor, account_id, [ChangeRole(user_id, role_key, scope)]
    ).one()
    return Member(changed.user, changed.membership, changed.role)


def remove_member(ctx: ServiceContext, actor: Actor, account_id: str, user_id: str) -> None:
    """Take a user out of an account (the user's identity stays for their other accounts)."""
    apply_membership_changes(ctx, actor, account_id, [RemoveMember(user_id=user_id)]).one()


@dataclass(slots=True, frozen=True)
class RoleRef:
    """A role in an account, as a face names it."""

    account_id: str
    role_key: str


def reassign_role(
    ctx: ServiceContext,
    actor: Actor,
    user_id: str,
    *,
    revoke: RoleRef | None,
    add: RoleRef | None,
) -> User:
    """Revoke a role, add one, or both at once (one transaction), keeping one role per account.

    Revoking names the role the user holds; adding where the user already has a membership
    replaces its role; adding elsewhere makes a new membership, subject to every rule of
    `add_member`.
    """
    if revoke is None and add is None:
        raise InvalidInput(ErrorCode.INVALID_INPUT, "Name a role to revoke, to add, or both.")
    with ctx.uow() as uow:
        user = check_may_see_user(ctx, uow, actor, user_id)
        if revoke is not None:
            # Authorize before looking at the user's role, so that answer leaks nothing.
            account, actor_role = require(ctx, uow, actor, revoke.account_id, Need.MANAGE_USERS)
            _check_holds(uow, user_id, revoke)
            if add is not None and add.account_id == revoke.account_id:
                change: MembershipChange = ChangeRole(user_id, add.role_key)
            else:
                change = RemoveMember(user_id=user_id)
            change_member_in(ctx, uow, actor, account, actor_role, change)
        if add is not None and (revoke is None or add.account_id != revoke.account_id):
            account, actor_role = require(ctx, uow, actor, add.account_id, Need.MANAGE_USERS)
            if uow.memberships.find(user_id, add.account_id) is not None:
                change = ChangeRole(user_id, add.role_key)
            else:
                change = NewMember(user.email, add.role_key)
            change_member_in(ctx, uow, actor, account, actor_role, change)
        return uow.users.get(user_id)


def _check_holds(uow: UnitOfWork, user_id: str, ref: RoleRef) -> None:
    membership = uow.memberships.find(user_id, ref.account_id)
    if membership is None or membership.role_key != ref.role_key:
        raise NotFound(
            ErrorCode.ROLE_NOT_FOUND, "The user doesn't hold this role.", field="roleToRevoke"
        )


def set_user_active(
    ctx: ServiceContext, actor: Actor, account_id: str, user_id: str, active: bool
) -> User:
    """Deactivate (status 0) or reactivate (status 1) a user.

    The status is the person's, in every account, so the actor must manage them in every
    account they belong to, and no account may lose its last active admin.
    """
    with ctx.uow() as uow:
        require(ctx, uow, actor, account_id, Need.MANAGE_USERS)
        _membership(uow, user_id, account_id)
        user = uow.users.get(user_id)
        set_user_active_in(ctx, uow, actor, account_id, user, active)
        return user


def set_user_active_in(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, account_id: str, user: User, active: bool
) -> None:
    """The body of `set_user_active`, inside the caller's transaction (SCIM shares it);
    `account_id` is the account the change is made through, for the audit trail."""
    for membership in uow.memberships.for_user(user.id):
        if membership.status is MembershipStatus.PENDING and membership.account_id != account_id:
            continue  # an invitation nobody accepted grants nothing, and gates nothing either
        account, actor_role = require(ctx, uow, actor, membership.account_id, Need.MANAGE_USERS)
        check_may_manage(ctx, uow, account, actor_role, membership)
        if not active:
            check_may_take_away(
                ctx,
                uow,
                actor,
                account,
                membership,
                OwnerChange.DEACTIVATE,
                user_active=user.status is UserStatus.ACTIVATED,
            )
    if active and user.status is UserStatus.PENDING:
        return  # a pending user becomes active by accepting the invitation
    new_status = UserStatus.ACTIVATED if active else UserStatus.DEACTIVATED
    if user.status is new_status:
        return
    before = user_snapshot(user)
    user.status = new_status
    uow.users.update(user)
    record(
        ctx,
        uow,
        actor,
        "user.activate" if active else "user.deactivate",
        target_type="user",
        target_id=user.id,
        account_id=account_id,
        before=before,
        after=user_snapshot(user),
    )


# -- reading -----------------------------------------------------------------------------------


def list_members(
    ctx: ServiceContext,
    actor: Actor,
    account_id: str,
    *,
    limit: int = 100,
    after: MemberCursor | None = None,
    search: str | None = None,
    role_key: str | None = None,
) -> MemberPage:
    """An account's members with their roles, in joining order, a page at a time."""
    with ctx.uow(readonly=True) as uow:
        return members_page_in(
            ctx, uow, actor, account_id, limit=limit, after=after, search=search, role_key=role_key
        )


def members_page_in(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    account_id: str,
    *,
    limit: int = 100,
    after: MemberCursor | None = None,
    search: str | None = None,
    role_key: str | None = None,
    chain: Sequence[Account] | None = None,
) -> MemberPage:
    """`list_members` within the caller's unit of work; `chain` is the account's, when the
    caller read it already in this unit."""
    limit = max(1, min(limit, MAX_PAGE))
    search = search_text(search)
    account, _ = require(ctx, uow, actor, account_id, Need.READ_ACCOUNT, chain=chain)
    rows = uow.memberships.members(
        account_id, limit=limit + 1, after=after, search=search, role_key=role_key
    )
    roles = roles_named(ctx, uow, account, (m.role_key for _, m in rows[:limit]))
    items = [ListedMember(u, m, roles[m.role_key]) for u, m in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1].membership
        assert last.created_at is not None
        next_cursor = (last.created_at, last.user_id)
    return MemberPage(items, next_cursor)


def list_all_members(
    ctx: ServiceContext,
    actor: Actor,
    account_id: str,
    *,
    page_size: int = MAX_PAGE,
    at_most: int | None = None,
) -> list[ListedMember]:
    """Every member of an account, read page by page in one read transaction; with `at_most`,
    no more than one member beyond it (enough for a caller to tell there are too many)."""
    wanted = None if at_most is None else at_most + 1
    with ctx.uow(readonly=True) as uow:
        account, _ = require(ctx, uow, actor, account_id, Need.READ_ACCOUNT)
        read: list[tuple[ListedUser, Membership]] = []
        after: MemberCursor | None = None
        while True:
            limit = page_size if wanted is None else min(page_size, wanted - len(read))
            rows = uow.memberships.members(account_id, limit=limit, after=after)
            read += rows
            if len(rows) < limit or len(read) == wanted:
                break
            last = rows[-1][1]
            assert last.created_at is not None
            after = (last.created_at, last.user_id)
        roles = roles_named(ctx, uow, account, (m.role_key for _, m in read))
        return [ListedMember(u, m, roles[m.role_key]) for u, m in read]


def role_of_actor(ctx: ServiceContext, actor: Actor, account_id: str) -> Role | None:
    """The role the actor itself holds in the account (own or inherited), if any."""
    with ctx.uow(readonly=True) as uow:
        return role_in(ctx, uow, actor, uow.accounts.chain(account_id))


def get_member(ctx: ServiceContext, actor: Actor, account_id: str, user_id: str) -> Member:
    with ctx.uow(readonly=True) as uow:
        account, _ = require(ctx, uow, actor, account_id, Need.READ_ACCOUNT)
        membership = _membership(uow, user_id, account_id)
        role = resolve_role(ctx, uow, account, membership.role_key) or ctx.roles.admin
        return Member(uow.users.get(user_id), membership, role)


def _membership(uow: UnitOfWork, user_id: str, account_id: str) -> Membership:
    membership = uow.memberships.find(user_id, account_id)
    if membership is None:
        raise NotFound(ErrorCode.USER_NOT_FOUND, field="user_id")
    return membership
