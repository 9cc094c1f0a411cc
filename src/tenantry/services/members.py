"""Members: adding users to accounts with a role, changing roles, removing and (de)activating."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tenantry.domain import memberships as rules
from tenantry.domain.accounts import Account
from tenantry.domain.errors import Conflict, ErrorCode, InvalidInput, NotFound
from tenantry.domain.ids import hash_secret, new_secret, new_user_id
from tenantry.domain.invitations import Invitation
from tenantry.domain.memberships import Membership, MembershipStatus, Scope
from tenantry.domain.roles import Need, Role
from tenantry.domain.users import (
    NotificationEmail,
    User,
    UserStatus,
    normalize_email,
    validate_department,
    validate_person_name,
    validate_username,
)
from tenantry.services.catalogues import normalize_geos, normalize_media_sources
from tenantry.services.context import Actor, ServiceContext, record
from tenantry.services.outbox import enqueue_invitations
from tenantry.services.policy import (
    OwnerChange,
    check_admin_kept,
    check_grantable,
    check_may_manage,
    check_may_take_away,
    check_owner_kept,
    require,
    resolve_role,
    role_in,
    roles_of,
    usable_role,
)
from tenantry.services.policy_identities import check_may_see_user, memberships_weighed_elsewhere
from tenantry.services.ports import MemberCursor, UnitOfWork

MAX_PAGE = 1000


@dataclass(slots=True)
class NewMember:
    """A person to add to an account, as any face describes them.

    Scope follows AppsFlyer: `app_ids` None = all apps, [] = none; empty or None media sources
    and geos = all.
    """

    email: str
    role_key: str
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    department: str | None = None
    app_ids: Sequence[str] | None = None
    all_future_apps: bool | None = None
    media_sources: Sequence[str] | None = None
    geos: Sequence[str] | None = None
    contact_country_code: str | None = None
    contact_phone_number: str | None = None
    expires_on: date | None = None
    network_managed: bool = False
    id_from_network: str | None = None
    notifications: dict[str, bool] = field(default_factory=dict)
    notification_emails: list[NotificationEmail] = field(default_factory=list)
    oauth_refresh_token: str | None = None


@dataclass(slots=True)
class AddedMember:
    user: User
    membership: Membership
    role: Role
    user_already_existed: bool
    invitation_token: str | None


@dataclass(slots=True)
class Member:
    user: User
    membership: Membership
    role: Role


@dataclass(slots=True)
class MemberPage:
    items: list[Member]
    next_cursor: MemberCursor | None


def user_snapshot(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "status": int(user.status),
        "can_login_via_platform": user.can_login_via_platform,
    }


def membership_snapshot(m: Membership) -> dict[str, Any]:
    return {
        "user_id": m.user_id,
        "role": m.role_key,
        "status": m.status.value,
        "app_ids": None if m.scope.app_ids is None else list(m.scope.app_ids),
        "all_future_apps": m.scope.all_future_apps,
        "media_sources": None if m.scope.media_sources is None else list(m.scope.media_sources),
        "geos": None if m.scope.geos is None else list(m.scope.geos),
    }


# -- adding ------------------------------------------------------------------------------------


def add_member(ctx: ServiceContext, actor: Actor, account_id: str, spec: NewMember) -> AddedMember:
    """Add a user (new or existing) to an account with one role; new users get an invitation."""
    with ctx.uow() as uow:
        account, actor_role = require(ctx, uow, actor, account_id, Need.MANAGE_USERS)
        added = add_member_in(ctx, uow, actor, account, actor_role, spec)
        if added.invitation_token:
            enqueue_invitations(ctx, uow, [(added.invitation_token, spec.email.strip())])
    return added


def add_member_in(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    account: Account,
    actor_role: Role,
    spec: NewMember,
    apps: dict[str, str] | None = None,
) -> AddedMember:
    """The body of `add_member`, inside the caller's transaction (bulk adds share it)."""
    email = normalize_email(spec.email)
    username = validate_username(spec.username) if spec.username is not None else None
    validate_department(spec.department)
    role = role_to_grant(ctx, uow, account, actor_role, spec.role_key)
    scope = build_scope(ctx, uow, account, role, spec, apps)

    user = uow.users.find_by_email(email)
    existed = user is not None
    if user is not None:
        if uow.memberships.find(user.id, account.id) is not None:
            raise Conflict(ErrorCode.ALREADY_MEMBER, field="email")
        # A network can rewrite the users it signs in: none of them may join an account outside
        # that network, where the network would then control one of its people.
        if user.network_account_id not in (None, _network_of(uow, account)):
            raise Conflict(ErrorCode.OTHER_NETWORK_USER, field="email")
        rules.check_can_join(account, memberships_weighed_elsewhere(ctx, uow, user, account.id))
    else:
        network_id = _network_of(uow, account) if spec.network_managed else None
        user = _new_user(ctx, email, username, spec, network_id, home=network_id or account.id)
        uow.users.add(user)
        record(
            ctx,
            uow,
            actor,
            "user.create",
            target_type="user",
            target_id=user.id,
            account_id=account.id,
            after=user_snapshot(user),
        )

    # Consent: only people a network signs in join at once, inside that network (checked
    # above): they have no login here to accept with, and the network, their home, speaks
    # for them. Everyone else, an identity that exists already included, is pending until
    # its owner accepts this account's own invitation.
    joins_now = user.is_network_managed
    membership = Membership(
        user_id=user.id,
        account_id=account.id,
        role_key=role.key,
        status=MembershipStatus.ACTIVE if joins_now else MembershipStatus.PENDING,
        scope=scope,
        created_at=ctx.now(),
    )
    uow.memberships.add(membership)
    token = None if joins_now else _invite(ctx, uow, actor, account, user, role)
    record(
        ctx,
        uow,
        actor,
        "membership.create",
        target_type="user",
        target_id=user.id,
        account_id=account.id,
        after=membership_snapshot(membership),
    )
    return AddedMember(user, membership, role, existed, token)


def _new_user(
    ctx: ServiceContext,
    email: str,
    username: str | None,
    spec: NewMember,
    network_id: str | None,
    *,
    home: str,
) -> User:
    validate_person_name(spec.first_name, "first_name", "first name")
    validate_person_name(spec.last_name, "last_name", "last name")
    name = username or " ".join(p for p in (spec.first_name, spec.last_name) if p)
    return User(
        id=new_user_id(),
        email=email,
        name=name,
        first_name=spec.first_name,
        last_name=spec.last_name,
        department=spec.department,
        contact_country_code=spec.contact_country_code,
        contact_phone_number=spec.contact_phone_number,
        status=UserStatus.ACTIVATED if spec.network_managed else UserStatus.PENDING,
        expires_on=spec.expires_on,
        can_login_via_platform=not spec.network_managed,
        network_account_id=network_id,
        id_from_network=spec.id_from_network,
        notifications=dict(spec.notifications),
        notification_emails=list(spec.notification_emails),
        oauth_refresh_token=spec.oauth_refresh_token,
        created_at=ctx.now(),
        home_account_id=home,
    )


def _network_of(uow: UnitOfWork, account: Account) -> str:
    """The network that manages users of `account`: the top account above it, or itself."""
    if account.parent_id is None:
        return account.id
    return uow.accounts.chain(account.parent_id)[-1].id


def role_to_grant(
    ctx: ServiceContext, uow: UnitOfWork, account: Account, actor_role: Role, role_key: str
) -> Role:
    """The role `role_key` names in the account, if the actor may grant it there."""
    role = usable_role(ctx, uow, account, role_key)
    check_grantable(actor_role, role)
    return role


def build_scope(
    ctx: ServiceContext,
    uow: UnitOfWork,
    account: Account,
    role: Role,
    spec: NewMember,
    apps: dict[str, str] | None = None,
) -> Scope:
    """Validate a scope against the account's apps and the catalogues, in AppsFlyer's order."""
    if spec.app_ids is not None:
        known = apps if apps is not None else uow.apps.for_account(account.id)
        if any(app not in known for app in spec.app_ids):
            raise InvalidInput(ErrorCode.UNKNOWN_APPS, field="app_ids")
    all_future = spec.all_future_apps if spec.all_future_apps is not None else spec.app_ids is None
    scope = Scope.build(
        app_ids=spec.app_ids,
        all_future_apps=all_future,
        media_sources=normalize_media_sources(spec.media_sources or (), ctx.media_sources),
        geos=normalize_geos(spec.geos or ()),
    )
    rules.check_scope_for_role(role, scope)
    return scope


def _invite(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, account: Account, user: User, role: Role
) -> str:
    token = new_secret(16)
    uow.invitations.add(
        Invitation(
            id=None,
            email=user.email,
            user_id=user.id,
            account_id=account.id,
            role_key=role.key,
            token_hash=hash_secret(token),
            expires_at=ctx.invitation_expiry(account.invitation_ttl_days),
            invited_by=actor.label,
            created_at=ctx.now(),
        )
    )
    return token


# -- changing and removing ---------------------------------------------------------------------


def change_role(
    ctx: ServiceContext,
    actor: Actor,
    account_id: str,
    user_id: str,
    role_key: str,
    scope: NewMember | None = None,
) -> Member:
    """Replace a member's role (and, when given, scope); the last admin stays an admin."""
    with ctx.uow() as uow:
        return _change_role_in(ctx, uow, actor, account_id, user_id, role_key, scope)


def _change_role_in(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    account_id: str,
    user_id: str,
    role_key: str,
    scope: NewMember | None,
) -> Member:
    account, actor_role = require(ctx, uow, actor, account_id, Need.MANAGE_USERS)
    membership = _membership(uow, user_id, account_id)
    check_may_manage(ctx, uow, account, actor_role, membership)
    new_role = role_to_grant(ctx, uow, account, actor_role, role_key)
    if new_role.key != membership.role_key:
        check_owner_kept(account, user_id, OwnerChange.DEMOTE)
    check_admin_kept(ctx, uow, account, membership, new_role, user_active=_is_active(uow, user_id))
    before = membership_snapshot(membership)
    membership.role_key = new_role.key
    if scope is not None:
        membership.scope = build_scope(ctx, uow, account, new_role, scope)
    else:
        rules.check_scope_for_role(new_role, membership.scope)
    uow.memberships.update(membership)
    record(
        ctx,
        uow,
        actor,
        "membership.change_role",
        target_type="user",
        target_id=user_id,
        account_id=account_id,
        before=before,
        after=membership_snapshot(membership),
    )
    return Member(uow.users.get(user_id), membership, new_role)


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
    invited: str | None = None
    with ctx.uow() as uow:
        user = check_may_see_user(ctx, uow, actor, user_id)
        if revoke is not None:
            # Authorize before looking at the user's role, so that answer leaks nothing.
            account, actor_role = require(ctx, uow, actor, revoke.account_id, Need.MANAGE_USERS)
            _check_holds(uow, user_id, revoke)
        if revoke is not None and add is not None and revoke.account_id == add.account_id:
            _change_role_in(ctx, uow, actor, revoke.account_id, user_id, add.role_key, None)
            return uow.users.get(user_id)
        if revoke is not None:
            remove_member_in(ctx, uow, actor, account, actor_role, user_id)
        if add is not None:
            if uow.memberships.find(user_id, add.account_id) is not None:
                _change_role_in(ctx, uow, actor, add.account_id, user_id, add.role_key, None)
            else:
                account, actor_role = require(ctx, uow, actor, add.account_id, Need.MANAGE_USERS)
                added = add_member_in(
                    ctx, uow, actor, account, actor_role, NewMember(user.email, add.role_key)
                )
                invited = added.invitation_token
        result = uow.users.get(user_id)
        if invited:
            enqueue_invitations(ctx, uow, [(invited, result.email)])
    return result


def _check_holds(uow: UnitOfWork, user_id: str, ref: RoleRef) -> None:
    membership = uow.memberships.find(user_id, ref.account_id)
    if membership is None or membership.role_key != ref.role_key:
        raise NotFound(
            ErrorCode.ROLE_NOT_FOUND, "The user doesn't hold this role.", field="roleToRevoke"
        )


def remove_member(ctx: ServiceContext, actor: Actor, account_id: str, user_id: str) -> None:
    """Take a user out of an account (the user's identity stays for their other accounts)."""
    with ctx.uow() as uow:
        account, actor_role = require(ctx, uow, actor, account_id, Need.MANAGE_USERS)
        remove_member_in(ctx, uow, actor, account, actor_role, user_id)


def remove_member_in(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    account: Account,
    actor_role: Role,
    user_id: str,
    active_admins: int | None = None,
) -> Membership:
    """The body of `remove_member`; `active_admins` when a batch keeps its own count."""
    membership = _membership(uow, user_id, account.id)
    check_may_manage(ctx, uow, account, actor_role, membership)
    check_may_take_away(
        ctx,
        uow,
        actor,
        account,
        membership,
        OwnerChange.REMOVE,
        user_active=_is_active(uow, user_id),
        active_admins=active_admins,
    )
    uow.memberships.delete(user_id, account.id)
    for invitation in uow.invitations.open_for(user_id, account.id):
        invitation.revoked_at = ctx.now()
        uow.invitations.update(invitation)
    record(
        ctx,
        uow,
        actor,
        "membership.delete",
        target_type="user",
        target_id=user_id,
        account_id=account.id,
        before=membership_snapshot(membership),
    )
    return membership


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
    limit = max(1, min(limit, MAX_PAGE))
    with ctx.uow(readonly=True) as uow:
        account, _ = require(ctx, uow, actor, account_id, Need.READ_ACCOUNT)
        rows = uow.memberships.members(
            account_id, limit=limit + 1, after=after, search=search, role_key=role_key
        )
        roles = roles_of(ctx, uow, account)
        items = [Member(u, m, roles.get(m.role_key, ctx.roles.admin)) for u, m in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = items[-1].membership
            assert last.created_at is not None
            next_cursor = (last.created_at, last.user_id)
        return MemberPage(items, next_cursor)


def list_all_members(
    ctx: ServiceContext, actor: Actor, account_id: str, *, page_size: int = MAX_PAGE
) -> list[Member]:
    """Every member of an account, read page by page in one read transaction."""
    with ctx.uow(readonly=True) as uow:
        account, _ = require(ctx, uow, actor, account_id, Need.READ_ACCOUNT)
        roles = roles_of(ctx, uow, account)
        members: list[Member] = []
        after: MemberCursor | None = None
        while True:
            rows = uow.memberships.members(account_id, limit=page_size, after=after)
            members += [Member(u, m, roles.get(m.role_key, ctx.roles.admin)) for u, m in rows]
            if len(rows) < page_size:
                return members
            last = rows[-1][1]
            assert last.created_at is not None
            after = (last.created_at, last.user_id)


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


def _is_active(uow: UnitOfWork, user_id: str) -> bool:
    return uow.users.get(user_id).status is UserStatus.ACTIVATED
