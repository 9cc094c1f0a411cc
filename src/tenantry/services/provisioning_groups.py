"""SCIM Groups over the core: one group per role of the account; its members hold that role.

- Adding a member to a group changes their role to the group's (the membership changes
  service's rules); an id that is not a member of the account is refused.
- Removing a member takes the role away: they fall back to the account's base role
  (`scim.base_role`) and stay in the account. Taking people out of the account is what deleting
  or deactivating the User does. Nobody can be removed from the base role's group, which
  everyone falls back to; moving them to another group or deleting the user is the way.
- A user is in exactly one group: adding them to a group takes them out of the one they were in.
- Creating a group creates a custom role of the account, with the base role's capabilities
  (an account admin widens them): it gives nobody more than the base role already does.
  Custom roles can be renamed and deleted (their members fall back to the base role);
  predefined roles can't.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from tenantry.domain.accounts import Account
from tenantry.domain.errors import Conflict, ErrorCode, InvalidInput, NotFound
from tenantry.domain.roles import Need, Role, check_room_for_custom_role
from tenantry.services.context import Actor, ServiceContext, record
from tenantry.services.membership_changes import change_members_in
from tenantry.services.membership_commands import BatchRejected, ChangeRole
from tenantry.services.policy import require
from tenantry.services.policy_roles import roles_of
from tenantry.services.ports import RoleHolders, UnitOfWork
from tenantry.services.provisioning import MAX_NAME_LENGTH
from tenantry.services.provisioning_common import (
    NotModifiable,
    TooMany,
    base_role,
    check_text,
    check_version,
    version_tag,
)

_NOT_KEY = re.compile(r"[^a-z0-9]+")
MAX_KEY_LENGTH = 40


MEMBERS_LISTED = 10_000
"""The most members a group is shown with. A larger group is read without its members
(`excludedAttributes=members`), and they are paged through as Users whose `groups.value` is the
group's id; asking for its members is a `tooMany` error that says so."""


@dataclass(slots=True)
class RoleGroup:
    role: Role
    member_ids: list[str] | None
    """The members' user ids in joining order; None when they were not asked for, or when
    there are more than `MEMBERS_LISTED` (`crowded`)."""
    etag: str | None = None
    """The version of the group with its members; None when they were not read."""
    crowded: bool = False
    """More members than `MEMBERS_LISTED`: shown without them (`too_many_members`)."""

    @classmethod
    def with_members(cls, role: Role, member_ids: list[str]) -> RoleGroup:
        crowded = len(member_ids) > MEMBERS_LISTED
        return cls(role, None if crowded else member_ids, _version(role, member_ids), crowded)


@dataclass(slots=True, frozen=True)
class _Current:
    """A group as a change finds it: every member's id (ids alone, from the account's role
    index), which its version covers and its edits apply to."""

    role: Role
    member_ids: list[str]

    @property
    def etag(self) -> str:
        return _version(self.role, self.member_ids)

    def answer(self) -> RoleGroup:
        return RoleGroup.with_members(self.role, self.member_ids)


def _version(role: Role, member_ids: list[str]) -> str:
    return version_tag(role.key, role.display_name, sorted(member_ids))


@dataclass(slots=True, frozen=True)
class MemberChanges:
    """What a request does to a group's members: `members` replaces them all when given."""

    add: Sequence[str] = ()
    remove: Sequence[str] = ()
    members: Sequence[str] | None = None


class EditAction(StrEnum):
    ADD = "add"
    REMOVE = "remove"
    REPLACE = "replace"


@dataclass(slots=True, frozen=True)
class MemberEdit:
    """One step of an edit to a group's members, applied in order to the members it finds:
    add the ids, remove them (every member when `ids` is None), or replace the members."""

    action: EditAction
    ids: Sequence[str] | None = None

    def apply(self, members: list[str]) -> None:
        # Sets for the lookups: an edit may name thousands of ids (linear, not quadratic).
        ids = list(self.ids or ())
        if self.action is EditAction.ADD:
            present = set(members)
            members.extend(i for i in dict.fromkeys(ids) if i not in present)
        elif self.action is EditAction.REPLACE:
            members[:] = list(dict.fromkeys(ids))
        elif self.ids is None:
            members.clear()
        else:
            gone = set(ids)
            members[:] = [m for m in members if m not in gone]


# -- reading -----------------------------------------------------------------------------------


def list_groups(
    ctx: ServiceContext, actor: Actor, account_id: str, *, with_members: bool
) -> list[RoleGroup]:
    """Every role of the account as a group, with its members when asked (one query, which
    reads no more than `MEMBERS_LISTED` of each: a larger group comes `crowded`, without its
    members or a version; whoever shows it with its members raises `too_many_members`)."""
    with ctx.uow(readonly=True) as uow:
        account, _ = require(ctx, uow, actor, account_id, Need.READ_ACCOUNT)
        roles = roles_of(ctx, uow, account)
        if not with_members:
            return [RoleGroup(role, None) for role in roles.values()]
        held = uow.memberships.member_ids_by_role(account_id, limit=MEMBERS_LISTED)
        groups = []
        for key, role in roles.items():
            holders = held.get(key) or RoleHolders(0, [])
            if holders.count > MEMBERS_LISTED:
                groups.append(RoleGroup(role, None, crowded=True))
            else:
                groups.append(RoleGroup.with_members(role, holders.first))
        return groups


def get_group(
    ctx: ServiceContext, actor: Actor, account_id: str, key: str, *, with_members: bool = True
) -> RoleGroup:
    with ctx.uow(readonly=True) as uow:
        account, _ = require(ctx, uow, actor, account_id, Need.READ_ACCOUNT)
        role = _role(ctx, uow, account, key)
        if not with_members:
            return RoleGroup(role, None)
        first = uow.member_search.role_members(account.id, key, limit=MEMBERS_LISTED + 1)
        if len(first) > MEMBERS_LISTED:
            raise too_many_members(key)
        return RoleGroup.with_members(role, first)


def _current(ctx: ServiceContext, uow: UnitOfWork, account: Account, key: str) -> _Current:
    role = _role(ctx, uow, account, key)
    return _Current(role, uow.member_search.role_members(account.id, key))


def _role(ctx: ServiceContext, uow: UnitOfWork, account: Account, key: str) -> Role:
    role = roles_of(ctx, uow, account).get(key)
    if role is None:
        raise NotFound(ErrorCode.ROLE_NOT_FOUND, field="id")
    return role


def too_many_members(key: str) -> TooMany:
    """The refusal to show a group of more than `MEMBERS_LISTED` members with them."""
    return TooMany(
        ErrorCode.INVALID_INPUT,
        f"This group has more than {MEMBERS_LISTED:,} members: ask for it with"
        " excludedAttributes=members, and page through its members with"
        f' /Users?filter=groups.value eq "{key}".',
        field="members",
    )


# -- writing -----------------------------------------------------------------------------------


def create_group(
    ctx: ServiceContext,
    actor: Actor,
    account_id: str,
    display_name: str,
    member_ids: Sequence[str] = (),
) -> RoleGroup:
    """A new custom role named `display_name`, with the base role's capabilities."""
    name = _checked_name(display_name)
    with ctx.uow() as uow:
        account, _ = require(ctx, uow, actor, account_id, Need.MANAGE_SETTINGS, Need.MANAGE_ADMINS)
        roles = roles_of(ctx, uow, account)
        _check_name_free(roles.values(), name, None)
        check_room_for_custom_role(sum(role.is_custom for role in roles.values()))
        base = base_role(ctx, account)
        role = Role(
            key=_new_key(name, set(roles) | {r.key for r in ctx.roles}),
            display_name=name,
            capabilities={section: dict(caps) for section, caps in base.capabilities.items()},
            account_id=account_id,
        )
        uow.custom_roles.add(role)
        record(
            ctx,
            uow,
            actor,
            "role.create",
            target_type="role",
            target_id=role.key,
            account_id=account_id,
            after={"key": role.key, "display_name": name, "like": base.key},
        )
        if member_ids:
            _change_members(ctx, uow, actor, account, role, MemberChanges(add=member_ids))
        group = _current(ctx, uow, account, role.key).answer()
    return group


def update_group(
    ctx: ServiceContext,
    actor: Actor,
    account_id: str,
    key: str,
    *,
    display_name: str | None = None,
    changes: MemberChanges | None = None,
    if_match: Sequence[str] | None = None,
) -> RoleGroup:
    """Rename a group (custom roles only) and change its members, all or nothing."""
    with ctx.uow() as uow:
        account, _ = require(ctx, uow, actor, account_id, Need.MANAGE_USERS)
        current = _current(ctx, uow, account, key)
        check_version(current.etag, if_match)
        _update(ctx, uow, actor, account, current.role, display_name, changes)
        group = _current(ctx, uow, account, key).answer()
    return group


def edit_group(
    ctx: ServiceContext,
    actor: Actor,
    account_id: str,
    key: str,
    edits: Sequence[MemberEdit],
    *,
    display_name: str | None = None,
    if_match: Sequence[str] | None = None,
) -> RoleGroup:
    """Apply `edits` to the group's members as they are now, then rename the group and move
    the members that came or went, all in one transaction: nothing changes the group between
    the reading and the writing."""
    with ctx.uow() as uow:
        account, _ = require(ctx, uow, actor, account_id, Need.MANAGE_USERS)
        current = _current(ctx, uow, account, key)
        check_version(current.etag, if_match)
        before = list(current.member_ids)
        members = list(before)
        for edit in edits:
            edit.apply(members)
        kept, had = set(members), set(before)
        changes = MemberChanges(
            add=[m for m in members if m not in had],
            remove=[m for m in before if m not in kept],
        )
        _update(ctx, uow, actor, account, current.role, display_name, changes)
        group = _current(ctx, uow, account, key).answer()
    return group


def _update(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    account: Account,
    role: Role,
    display_name: str | None,
    changes: MemberChanges | None,
) -> None:
    if display_name is not None and display_name != role.display_name:
        _rename(ctx, uow, actor, account, role, _checked_name(display_name))
    if changes is not None:
        _change_members(ctx, uow, actor, account, role, changes)


def delete_group(
    ctx: ServiceContext,
    actor: Actor,
    account_id: str,
    key: str,
    if_match: Sequence[str] | None = None,
) -> None:
    """Delete a custom role; its members fall back to the base role."""
    with ctx.uow() as uow:
        account, _ = require(ctx, uow, actor, account_id, Need.MANAGE_SETTINGS, Need.MANAGE_ADMINS)
        current = _current(ctx, uow, account, key)
        check_version(current.etag, if_match)
        if not current.role.is_custom:
            raise NotModifiable(
                ErrorCode.INVALID_INPUT, "Predefined roles can't be deleted.", field="id"
            )
        fallback = base_role(ctx, account).key
        _move(ctx, uow, actor, account, [ChangeRole(u, fallback) for u in current.member_ids])
        uow.custom_roles.delete(account_id, key)
        record(
            ctx,
            uow,
            actor,
            "role.delete",
            target_type="role",
            target_id=key,
            account_id=account_id,
            before={"key": key, "display_name": current.role.display_name},
        )


# -- the steps ---------------------------------------------------------------------------------


def _change_members(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    account: Account,
    role: Role,
    changes: MemberChanges,
) -> None:
    """Move the account's Users named into or out of the group (their role)."""
    current = set(uow.member_search.role_members(account.id, role.key))
    if changes.members is not None:
        wanted = list(dict.fromkeys(changes.members))
        removing = [user_id for user_id in current if user_id not in set(wanted)]
        adding = [user_id for user_id in wanted if user_id not in current]
    else:
        removing = [user_id for user_id in dict.fromkeys(changes.remove) if user_id in current]
        adding = list(dict.fromkeys(changes.add))
    fallback = base_role(ctx, account).key
    if removing and role.key == fallback:
        raise NotModifiable(
            ErrorCode.INVALID_INPUT,
            "Every member holds at least this role: move them to another group, or delete or "
            "deactivate the user, instead.",
            field="members",
        )
    moves = [ChangeRole(user_id, fallback) for user_id in removing]
    _move(ctx, uow, actor, account, moves + [ChangeRole(user_id, role.key) for user_id in adding])


def _move(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    account: Account,
    moves: Sequence[ChangeRole],
) -> None:
    """Give members their new roles, all or none, through the membership changes service;
    the first refusal is the request's."""
    if not moves:
        return
    _, actor_role = require(ctx, uow, actor, account.id, Need.MANAGE_USERS)
    try:
        change_members_in(ctx, uow, actor, account, actor_role, moves, all_or_nothing=True)
    except BatchRejected as rejected:
        first = rejected.items[0]
        if first.error.code is ErrorCode.USER_NOT_FOUND:
            # A group's members are Users of this account: an id of anyone else's is unknown
            # here, whoever holds it, and tells nothing about them.
            user_id = moves[first.index].user_id
            raise InvalidInput(
                ErrorCode.INVALID_INPUT,
                f"There is no user with the id {user_id}.",
                field="members",
            ) from None
        raise first.error from None


def _rename(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, account: Account, role: Role, name: str
) -> None:
    if not role.is_custom:
        raise NotModifiable(
            ErrorCode.INVALID_INPUT, "A predefined role's name can't change.", field="displayName"
        )
    require(ctx, uow, actor, account.id, Need.MANAGE_SETTINGS, Need.MANAGE_ADMINS)
    _check_name_free(roles_of(ctx, uow, account).values(), name, role.key)
    before = role.display_name
    role.display_name = name
    uow.custom_roles.update(role)
    record(
        ctx,
        uow,
        actor,
        "role.update",
        target_type="role",
        target_id=role.key,
        account_id=account.id,
        before={"display_name": before},
        after={"display_name": name},
    )


def _checked_name(display_name: str) -> str:
    name = display_name.strip()
    if not name:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT, "A group needs a displayName.", field="displayName"
        )
    check_text(name, "displayName", MAX_NAME_LENGTH)
    return name


def _check_name_free(roles: Collection[Role], name: str, own_key: str | None) -> None:
    """Identity providers find groups by name, so names are unique in an account."""
    if any(r.display_name.casefold() == name.casefold() and r.key != own_key for r in roles):
        raise Conflict(
            ErrorCode.ID_TAKEN, "A group with this displayName exists.", field="displayName"
        )


def _new_key(name: str, taken: set[str]) -> str:
    """A role key from a group name: lower-case words joined by underscores."""
    stem = _NOT_KEY.sub("_", name.lower()).strip("_")
    if not stem[:1].isalpha():
        stem = f"group_{stem}".rstrip("_")
    stem = stem[:MAX_KEY_LENGTH].rstrip("_")
    key, number = stem, 1
    while key in taken:
        number += 1
        suffix = f"_{number}"
        key = stem[: MAX_KEY_LENGTH - len(suffix)].rstrip("_") + suffix
    return key
