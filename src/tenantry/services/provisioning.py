"""SCIM provisioning over the core: an account's users as an identity provider keeps them.

A SCIM User is a member of the account the credential belongs to. What an identity provider
sends is applied through the core's own steps (the membership changes service, the rules of
`domain.memberships`), one transaction per request, so a refused change leaves nothing behind:

- a user is created with the account's base role (`base_role`): groups give the others;
- a person who already has a tenantry identity is invited (pending until they accept, as on
  every face); their address and names are theirs in every account and change only as
  `check_may_edit_identity` allows; their status only through an actor who manages them
  in every account they belong to (`members.set_user_active`);
- deleting a user takes them out of the account; their identity stays for their other accounts;
- the identity provider's `externalId` is kept per account, unique in it.

Every write compares the resource's current version with the caller's `If-Match` inside its
transaction. Versions are digests of what the resource shows, so any change to it, through any
face, gives a new one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tenantry.domain.accounts import Account
from tenantry.domain.errors import Conflict, ErrorCode, InvalidInput, NotFound
from tenantry.domain.memberships import Membership
from tenantry.domain.roles import Need, Role
from tenantry.domain.users import (
    User,
    UserStatus,
    normalize_email,
    validate_department,
    validate_username,
)
from tenantry.services.context import Actor, ServiceContext, record
from tenantry.services.identities import change_address
from tenantry.services.member_query import UserQuery, UserRecord
from tenantry.services.members import set_user_active_in
from tenantry.services.membership_changes import change_member_in
from tenantry.services.membership_commands import NewMember, RemoveMember, user_snapshot
from tenantry.services.policy import check_may_manage, require
from tenantry.services.policy_identities import check_may_edit_identity
from tenantry.services.policy_roles import roles_named
from tenantry.services.ports import UnitOfWork
from tenantry.services.provisioning_common import base_role, check_text, check_version, version_tag

MAX_NAME_LENGTH = 100
MAX_DISPLAY_NAME_LENGTH = 200
MAX_EXTERNAL_ID_LENGTH = 255


@dataclass(slots=True, frozen=True)
class UserSpec:
    """A user as the identity provider wants them; None clears an optional value."""

    email: str
    first_name: str | None = None
    last_name: str | None = None
    display_name: str | None = None
    department: str | None = None
    external_id: str | None = None
    active: bool = True


@dataclass(slots=True)
class ProvisionedUser:
    user: User
    membership: Membership
    role: Role
    external_id: str | None
    created: datetime
    last_modified: datetime

    @property
    def active(self) -> bool:
        return self.user.status is not UserStatus.DEACTIVATED

    @property
    def etag(self) -> str:
        u = self.user
        return version_tag(
            u.id,
            u.email,
            u.name,
            u.first_name,
            u.last_name,
            u.department,
            self.active,
            self.external_id,
            self.role.key,
            self.role.display_name,
        )


@dataclass(slots=True)
class UserPage:
    items: list[ProvisionedUser]
    total: int


# -- reading -----------------------------------------------------------------------------------


def list_users(ctx: ServiceContext, actor: Actor, account_id: str, query: UserQuery) -> UserPage:
    """A page of the account's members matching the query, and how many match in all."""
    with ctx.uow(readonly=True) as uow:
        account, _ = require(ctx, uow, actor, account_id, Need.READ_ACCOUNT)
        records, total = uow.member_search.users(account_id, query)
        return UserPage(_views(ctx, uow, account, records), total)


def get_user(ctx: ServiceContext, actor: Actor, account_id: str, user_id: str) -> ProvisionedUser:
    with ctx.uow(readonly=True) as uow:
        account, _ = require(ctx, uow, actor, account_id, Need.READ_ACCOUNT)
        return _current(ctx, uow, account, user_id)


def _current(
    ctx: ServiceContext, uow: UnitOfWork, account: Account, user_id: str
) -> ProvisionedUser:
    record_ = uow.member_search.user(account.id, user_id)
    if record_ is None:
        raise NotFound(ErrorCode.USER_NOT_FOUND, field="id")
    return _views(ctx, uow, account, [record_])[0]


def _views(
    ctx: ServiceContext, uow: UnitOfWork, account: Account, records: list[UserRecord]
) -> list[ProvisionedUser]:
    roles = roles_named(ctx, uow, account, (r.membership.role_key for r in records))
    modified = uow.member_search.last_modified(account.id, [r.user.id for r in records])
    views = []
    for r in records:
        created = r.membership.created_at or r.user.created_at or ctx.now()
        changed = modified.get(r.user.id)
        views.append(
            ProvisionedUser(
                user=r.user,
                membership=r.membership,
                role=roles[r.membership.role_key],
                external_id=r.external_id,
                created=created,
                last_modified=max(created, changed) if changed else created,
            )
        )
    return views


# -- writing -----------------------------------------------------------------------------------


def create_user(
    ctx: ServiceContext, actor: Actor, account_id: str, spec: UserSpec
) -> ProvisionedUser:
    """Add a user to the account with its base role (a new user is invited as every face
    invites them); a person who already has an identity is invited to join as they are."""
    _check_spec(spec)
    with ctx.uow() as uow:
        account, actor_role = require(ctx, uow, actor, account_id, Need.MANAGE_USERS)
        if spec.external_id is not None:
            _check_external_id_free(uow, account_id, spec.external_id, None)
        username = spec.display_name if _is_username(spec.display_name) else None
        added = change_member_in(
            ctx,
            uow,
            actor,
            account,
            actor_role,
            NewMember(
                email=spec.email,
                role_key=base_role(ctx, account).key,
                username=username,
                first_name=spec.first_name,
                last_name=spec.last_name,
                department=spec.department,
            ),
        )
        user_id = added.user.id
        if not added.user_already_existed:
            if spec.display_name is not None and username is None:
                _update_profile(ctx, uow, actor, account_id, uow.users.get(user_id), spec)
            if not spec.active:
                set_user_active_in(ctx, uow, actor, account_id, uow.users.get(user_id), False)
        if spec.external_id is not None:
            _set_external_id(ctx, uow, actor, account_id, user_id, None, spec.external_id)
        created = _current(ctx, uow, account, user_id)
    return created


def replace_user(
    ctx: ServiceContext,
    actor: Actor,
    account_id: str,
    user_id: str,
    spec: UserSpec,
    if_match: Sequence[str] | None = None,
) -> ProvisionedUser:
    """Bring a member to `spec`, changing only what differs, all or nothing."""
    _check_spec(spec)
    with ctx.uow() as uow:
        account, actor_role = require(ctx, uow, actor, account_id, Need.MANAGE_USERS)
        current = _current(ctx, uow, account, user_id)
        check_version(current.etag, if_match)
        check_may_manage(ctx, uow, account, actor_role, current.membership)
        user = uow.users.get(user_id)
        if _profile_differs(user, spec):
            address = normalize_email(spec.email) != user.email
            check_may_edit_identity(ctx, uow, actor, user, address=address)
            _update_profile(ctx, uow, actor, account_id, user, spec)
        if spec.external_id != current.external_id:
            if spec.external_id is not None:
                _check_external_id_free(uow, account_id, spec.external_id, user_id)
            _set_external_id(
                ctx, uow, actor, account_id, user_id, current.external_id, spec.external_id
            )
        if spec.active != current.active:
            set_user_active_in(ctx, uow, actor, account_id, user, spec.active)
        updated = _current(ctx, uow, account, user_id)
    return updated


def delete_user(
    ctx: ServiceContext,
    actor: Actor,
    account_id: str,
    user_id: str,
    if_match: Sequence[str] | None = None,
) -> None:
    """Take the user out of the account (and forget the identity provider's id for them)."""
    with ctx.uow() as uow:
        account, actor_role = require(ctx, uow, actor, account_id, Need.MANAGE_USERS)
        current = _current(ctx, uow, account, user_id)
        check_version(current.etag, if_match)
        change_member_in(ctx, uow, actor, account, actor_role, RemoveMember(user_id=user_id))
        if current.external_id is not None:
            _set_external_id(ctx, uow, actor, account_id, user_id, current.external_id, None)


# -- the steps ---------------------------------------------------------------------------------


def _check_spec(spec: UserSpec) -> None:
    normalize_email(spec.email)
    check_text(spec.first_name, "name.givenName", MAX_NAME_LENGTH)
    check_text(spec.last_name, "name.familyName", MAX_NAME_LENGTH)
    check_text(spec.display_name, "displayName", MAX_DISPLAY_NAME_LENGTH)
    validate_department(spec.department)
    if spec.external_id is not None and not 0 < len(spec.external_id) <= MAX_EXTERNAL_ID_LENGTH:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            f"An externalId has 1 to {MAX_EXTERNAL_ID_LENGTH} characters.",
            field="externalId",
        )


def _is_username(name: str | None) -> bool:
    """Whether the core would take `name` as a username (other faces' rule for names)."""
    if name is None:
        return False
    try:
        return validate_username(name) == name
    except InvalidInput:
        return False


def _profile_differs(user: User, spec: UserSpec) -> bool:
    return (
        normalize_email(spec.email) != user.email
        or spec.first_name != user.first_name
        or spec.last_name != user.last_name
        or (spec.display_name or "") != user.name
        or spec.department != user.department
    )


def _update_profile(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, account_id: str, user: User, spec: UserSpec
) -> None:
    """Bring the identity's profile to `spec`; an address change is told to the old address."""
    before = _profile(user)
    try:
        change_address(ctx, uow, actor, user, spec.email)
    except Conflict as taken:
        raise Conflict(taken.code, taken.message, field="userName") from None
    user.first_name = spec.first_name
    user.last_name = spec.last_name
    user.name = spec.display_name or ""
    user.department = spec.department
    uow.users.update(user)
    record(
        ctx,
        uow,
        actor,
        "user.update",
        target_type="user",
        target_id=user.id,
        account_id=account_id,
        before=before,
        after=_profile(user),
    )


def _profile(user: User) -> dict[str, Any]:
    return {
        **user_snapshot(user),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "department": user.department,
    }


def _check_external_id_free(
    uow: UnitOfWork, account_id: str, external_id: str, user_id: str | None
) -> None:
    holder = uow.member_search.find_by_external_id(account_id, external_id)
    if holder is not None and holder != user_id:
        raise Conflict(
            ErrorCode.ID_TAKEN,
            "Another user of this account has this externalId.",
            field="externalId",
        )


def _set_external_id(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    account_id: str,
    user_id: str,
    before: str | None,
    after: str | None,
) -> None:
    uow.member_search.set_external_id(account_id, user_id, after)
    record(
        ctx,
        uow,
        actor,
        "user.external_id",
        target_type="user",
        target_id=user_id,
        account_id=account_id,
        before={"external_id": before},
        after={"external_id": after},
    )
