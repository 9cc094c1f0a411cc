"""Roles of an account: the predefined catalogue plus the account's custom roles."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tenantry.domain.errors import Conflict, ErrorCode, InvalidInput, NotFound
from tenantry.domain.roles import (
    Need,
    Role,
    check_room_for_custom_role,
    parse_capabilities,
    validate_role_key,
)
from tenantry.domain.users import User
from tenantry.services.context import Actor, ServiceContext, record
from tenantry.services.policy import require
from tenantry.services.policy_roles import roles_of
from tenantry.services.ports import RoleHolders

HOLDERS_LISTED = 1000
"""Users listed per role; past it a role shows how many hold it, and the users' lists (which
page and filter by role) show who."""


@dataclass(slots=True)
class RoleWithUsers:
    role: Role
    users: list[User]
    """The first `HOLDERS_LISTED` holders, oldest membership first."""
    user_count: int
    """Every holder, pending invitations included."""


def list_roles(ctx: ServiceContext, actor: Actor, account_id: str) -> list[RoleWithUsers]:
    """Every role usable in the account with how many hold it and who (the first
    `HOLDERS_LISTED`), in two queries whatever the account's size."""
    with ctx.uow(readonly=True) as uow:
        account, _ = require(ctx, uow, actor, account_id, Need.READ_ACCOUNT)
        holders = uow.memberships.holders_by_role(account_id, limit=HOLDERS_LISTED)
        nobody = RoleHolders(0, [])
        return [
            RoleWithUsers(role, held.first, held.count)
            for role in roles_of(ctx, uow, account).values()
            for held in [holders.get(role.key, nobody)]
        ]


def create_custom_role(
    ctx: ServiceContext,
    actor: Actor,
    account_id: str,
    *,
    key: str,
    display_name: str,
    capabilities: Mapping[str, Mapping[str, str]],
    unrestricted_scope: bool = False,
) -> Role:
    """A role of the account's own; it can't take a predefined role's key."""
    key = validate_role_key(key)
    display = display_name.strip()
    if not display or len(display) > 100:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            "A role needs a name of 1 to 100 characters.",
            field="display_name",
        )
    caps = parse_capabilities(capabilities, ctx.roles.sections)
    with ctx.uow() as uow:
        require(ctx, uow, actor, account_id, Need.MANAGE_SETTINGS, Need.MANAGE_ADMINS)
        own = uow.custom_roles.for_account(account_id)
        if key in ctx.roles or any(role.key == key for role in own):
            raise Conflict(ErrorCode.ID_TAKEN, "A role with this key exists already.", field="key")
        check_room_for_custom_role(len(own))
        role = Role(
            key=key,
            display_name=display,
            capabilities=caps,
            unrestricted_scope=unrestricted_scope,
            account_id=account_id,
        )
        uow.custom_roles.add(role)
        record(
            ctx,
            uow,
            actor,
            "role.create",
            target_type="role",
            target_id=key,
            account_id=account_id,
            after={"key": key, "display_name": display, "capabilities": capabilities},
        )
        return role


def delete_custom_role(ctx: ServiceContext, actor: Actor, account_id: str, key: str) -> None:
    """Delete a custom role nobody holds any more."""
    with ctx.uow() as uow:
        require(ctx, uow, actor, account_id, Need.MANAGE_SETTINGS, Need.MANAGE_ADMINS)
        role = uow.custom_roles.find(account_id, key)
        if role is None:
            raise NotFound(ErrorCode.ROLE_NOT_FOUND, field="key")
        if uow.memberships.first_with_roles(account_id, [key]) is not None:
            raise Conflict(ErrorCode.CONFLICT, "Users still hold this role.", field="key")
        uow.custom_roles.delete(account_id, key)
        record(
            ctx,
            uow,
            actor,
            "role.delete",
            target_type="role",
            target_id=key,
            account_id=account_id,
            before={"key": key, "display_name": role.display_name},
        )
