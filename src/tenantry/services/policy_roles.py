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
    """`roles_of`, for a caller that shows the roles of members it read (`keys`): the
    account's own roles are read only when a key is not a predefined role of its kind, which
    spares a statement for most pages of members (no own role takes a predefined key).

    Every key gets a role. Read-only units see each statement's own moment, so a member read
    holding a role the account has since taken away (moved off it and deleted between the
    two reads) finds none: that key is shown as a role of its own name granting nothing
    (`gone_role`), never as another role."""
    wanted = set(keys)
    roles = _predefined_for(ctx, account)
    # A predefined key is that role wherever it is held, as `resolve_role` (the policy) reads
    # it, even where the catalogue no longer offers it for the account's kind.
    roles.update({k: r for k in wanted - roles.keys() if (r := ctx.roles.find(k)) is not None})
    if not wanted <= roles.keys():
        roles.update({r.key: r for r in uow.custom_roles.for_account(account.id)})
        roles.update({key: gone_role(account, key) for key in wanted - roles.keys()})
    return roles


def gone_role(account: Account, key: str) -> Role:
    """A role key that names no role of the account: shown by its key, allowing nothing."""
    return Role(key=key, display_name=key, capabilities={}, account_id=account.id)


def _predefined_for(ctx: ServiceContext, account: Account) -> dict[str, Role]:
    return {r.key: r for r in ctx.roles if r.applies_to(account.kind)}
