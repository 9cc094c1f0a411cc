"""Which roles an account offers and which role a key names: the predefined catalogue for the
account's kind, then the account's own (custom) roles, which never take a predefined key."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from tenantry.domain import memberships as rules
from tenantry.domain.accounts import Account
from tenantry.domain.errors import ErrorCode, InvalidInput
from tenantry.domain.roles import Role, is_role_key
from tenantry.services.context import ServiceContext
from tenantry.services.ports import UnitOfWork


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


def roles_of(ctx: ServiceContext, uow: UnitOfWork, account: Account) -> dict[str, Role]:
    """Every role usable in the account: the predefined ones for its kind, then its own."""
    roles = _predefined_for(ctx, account)
    roles.update({r.key: r for r in uow.custom_roles.for_account(account.id)})
    return roles


def roles_named(
    ctx: ServiceContext, uow: UnitOfWork, account: Account, keys: Iterable[str]
) -> dict[str, Role]:
    """The role each of `keys` (held by members a caller read, to show them) names in the
    account, as `resolve_role` reads it: a predefined key is that role wherever it is held,
    and the account's own roles are read only when a key is none of those, which spares a
    statement for most pages of members (no own role takes a predefined key).

    Every key gets a role. Read-only units see each statement's own moment, so a member read
    holding a role the account has since taken away (moved off it and deleted between the
    two reads) finds none: that key is shown as a role of its own name granting nothing
    (`gone_role`), never as another role."""
    wanted = set(keys)
    own: dict[str, Role] = {}
    if any(ctx.roles.find(key) is None for key in wanted):
        own = {r.key: r for r in uow.custom_roles.for_account(account.id)}
    return {key: role_shown(ctx, account, key, own) for key in wanted}


def role_named(ctx: ServiceContext, key: str, own: Mapping[str, Role]) -> Role | None:
    """The role `key` names: the predefined role wherever it is held, else one of the
    account's own roles (`own`), else none (taken away since the key was read)."""
    return ctx.roles.find(key) or own.get(key)


def role_shown(ctx: ServiceContext, account: Account, key: str, own: Mapping[str, Role]) -> Role:
    """The role `key` names in `account`, whose own roles are `own`, for showing: `role_named`,
    else `gone_role`."""
    return role_named(ctx, key, own) or gone_role(account, key)


def gone_role(account: Account, key: str) -> Role:
    """A role key that names no role of the account: shown by its key, allowing nothing."""
    return Role(key=key, display_name=key, capabilities={}, account_id=account.id)


def _predefined_for(ctx: ServiceContext, account: Account) -> dict[str, Role]:
    return {r.key: r for r in ctx.roles if r.applies_to(account.kind)}
