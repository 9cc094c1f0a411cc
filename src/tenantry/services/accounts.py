"""Accounts: create, read, list, update and delete tenants, and their app catalogues."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tenantry.domain import accounts as rules
from tenantry.domain.accounts import Account, AccountKind, AccountStatus
from tenantry.domain.errors import Conflict, ErrorCode, Forbidden, InvalidInput, NotFound
from tenantry.domain.ids import new_account_id
from tenantry.domain.roles import ADMIN, Need, Role
from tenantry.domain.users import User, normalize_email
from tenantry.services import webhook_events
from tenantry.services.context import Actor, ServiceContext, record
from tenantry.services.membership_changes import change_member_in
from tenantry.services.membership_commands import NewMember
from tenantry.services.policy import (
    check_grantable,
    grant_in,
    readable_accounts,
    require,
    require_for_child,
)
from tenantry.services.policy_accounts import (
    check_may_change_account,
    check_may_transfer_ownership,
    check_partner_manage_change,
    check_status_change,
    reachable_account_ids,
    reachable_parents,
)
from tenantry.services.policy_roles import resolve_role
from tenantry.services.ports import UnitOfWork

MAX_PAGE = 500
_ID_CHUNK = 1000
_SETTINGS_FIELDS = (
    "name",
    "status",
    "can_partner_manage",
    "event_enrichment",
    "id_from_network",
    "custom_data",
)


def snapshot(account: Account) -> dict[str, Any]:
    data = dataclasses.asdict(account)
    data["kind"] = account.kind.value
    data["status"] = int(account.status)
    data.pop("created_at")
    return data


@dataclass(slots=True, frozen=True)
class AccountChanges:
    """Fields to change; None leaves a field as it is. The faces change the security policy
    (users in several accounts, SSO, 2FA, lifetimes) through `account_policy`, which checks
    partner reach and names the members a stricter policy affects."""

    name: str | None = None
    status: int | None = None
    can_partner_manage: bool | None = None
    event_enrichment: bool | None = None
    id_from_network: str | None = None
    custom_data: dict[str, str] | None = None


def create_account(
    ctx: ServiceContext,
    actor: Actor,
    *,
    name: str,
    kind: AccountKind,
    parent_id: str | None,
    can_partner_manage: bool = True,
    event_enrichment: bool = False,
    id_from_network: str | None = None,
    status: AccountStatus = AccountStatus.ACTIVE,
    custom_data: dict[str, str] | None = None,
    admin_email: str | None = None,
) -> Account:
    """Create an account under `parent_id` (top-level accounts are the operator's to create).

    With `admin_email`, that person becomes the account's owner and pending admin, invited in
    the same transaction. An account its partner may not manage needs one: nobody else could
    ever manage it.
    """
    if not can_partner_manage and not admin_email:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            "An account its partner can't manage needs an admin: give an admin e-mail.",
            field="adminEmail",
        )
    with ctx.uow() as uow:
        account, creator_role = _new_account(
            ctx,
            uow,
            actor,
            name=name,
            kind=kind,
            parent_id=parent_id,
            can_partner_manage=can_partner_manage,
            event_enrichment=event_enrichment,
            id_from_network=id_from_network,
            status=status,
            custom_data=custom_data,
        )
        if admin_email:
            # The new account's admin is granted by its creator: a role that may create
            # child accounts but is below admin must not make anyone (itself included) one.
            check_grantable(creator_role, ctx.roles.admin, field="adminEmail")
            added = change_member_in(
                ctx, uow, actor, account, ctx.roles.admin, NewMember(admin_email, ADMIN)
            )
            account.owner_user_id = added.user.id
            uow.accounts.update(account)
    return account


def _new_account(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    *,
    name: str,
    kind: AccountKind,
    parent_id: str | None,
    can_partner_manage: bool,
    event_enrichment: bool,
    id_from_network: str | None,
    status: AccountStatus,
    custom_data: dict[str, str] | None,
) -> tuple[Account, Role]:
    """The new account, and the role its creator holds where it was created."""
    parent = None
    creator_role = ctx.roles.admin
    if parent_id is None:
        if not actor.is_system:
            raise Forbidden(ErrorCode.FORBIDDEN)
    else:
        parent, creator_role = require(ctx, uow, actor, parent_id, Need.MANAGE_CHILD_ACCOUNTS)
    rules.check_parent(kind, parent)
    if (
        id_from_network is not None
        and parent_id is not None
        and uow.accounts.find_by_network_id(parent_id, id_from_network) is not None
    ):
        raise Conflict(ErrorCode.ID_TAKEN, field="id_from_network")
    account = Account(
        id=new_account_id(),
        name=rules.validate_account_name(name),
        kind=kind,
        parent_id=parent_id,
        status=status,
        can_partner_manage=can_partner_manage,
        event_enrichment=event_enrichment,
        id_from_network=id_from_network,
        custom_data=dict(custom_data or {}),
        created_at=ctx.now(),
    )
    uow.accounts.add(account)
    record(
        ctx,
        uow,
        actor,
        "account.create",
        target_type="account",
        target_id=account.id,
        account_id=account.id,
        after=snapshot(account),
    )
    return account, creator_role


def get_account(ctx: ServiceContext, actor: Actor, account_id: str) -> Account:
    """One account, for an actor who may read it or manage it from its parent."""
    with ctx.uow(readonly=True) as uow:
        return _readable_account(ctx, uow, actor, account_id)


def _readable_account(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, account_id: str
) -> Account:
    readable = readable_accounts(ctx, uow, actor, [account_id])
    if account_id in readable:
        return readable[account_id]
    uow.accounts.get(account_id)  # a missing account is not found rather than forbidden
    grant = grant_in(ctx, uow, actor, uow.accounts.chain(account_id))
    if grant is not None and grant.closed:
        raise Forbidden(ErrorCode.ACCOUNT_DEACTIVATED, account_id=account_id)
    raise Forbidden(ErrorCode.FORBIDDEN, account_id=account_id)


def list_accounts(
    ctx: ServiceContext,
    actor: Actor,
    *,
    parent_id: str | None = None,
    search: str | None = None,
    kind: AccountKind | None = None,
    limit: int = 50,
    after: str | None = None,
) -> list[Account]:
    """Accounts the actor can reach, ordered by id and paged by `after`."""
    limit = max(1, min(limit, MAX_PAGE))
    with ctx.uow(readonly=True) as uow:
        if parent_id is not None:
            _readable_account(ctx, uow, actor, parent_id)
        if actor.is_system:
            return uow.accounts.page(
                within=None,
                parent_id=parent_id,
                search=search,
                kind=kind,
                limit=limit,
                after=after,
            )
        # Reachable ids are walked in sorted chunks, so no statement carries more parameters
        # than a database accepts, however many accounts an actor reaches.
        reachable = sorted(
            i for i in reachable_account_ids(ctx, uow, actor) if after is None or i > after
        )
        found: list[Account] = []
        for start in range(0, len(reachable), _ID_CHUNK):
            found += uow.accounts.page(
                within=reachable[start : start + _ID_CHUNK],
                parent_id=parent_id,
                search=search,
                kind=kind,
                limit=limit - len(found),
                after=None,
            )
            if len(found) >= limit:
                break
        return found


def first_children(
    ctx: ServiceContext, actor: Actor, parent_ids: Sequence[str], *, limit_each: int
) -> dict[str, tuple[list[Account], bool]]:
    """For each of `parent_ids`: its first `limit_each` child accounts that the actor reaches
    (by id, as `list_accounts` orders them), and whether it has more.

    One walk of what the actor reaches and one read of the accounts shown, however many
    parents: what a person's list of accounts needs without a query per account.
    """
    limit_each = max(1, min(limit_each, MAX_PAGE))
    with ctx.uow(readonly=True) as uow:
        if actor.is_system:
            pages = {
                parent_id: uow.accounts.page(
                    within=None,
                    parent_id=parent_id,
                    search=None,
                    kind=None,
                    limit=limit_each + 1,
                    after=None,
                )
                for parent_id in parent_ids
            }
            return {p: (found[:limit_each], len(found) > limit_each) for p, found in pages.items()}
        children: dict[str, list[str]] = {parent_id: [] for parent_id in parent_ids}
        for account_id, parent_id in sorted(reachable_parents(ctx, uow, actor).items()):
            if parent_id is not None and parent_id in children:
                children[parent_id].append(account_id)
        shown = uow.accounts.find_many([i for ids in children.values() for i in ids[:limit_each]])
    return {
        parent_id: ([shown[i] for i in ids[:limit_each]], len(ids) > limit_each)
        for parent_id, ids in children.items()
    }


def update_account(
    ctx: ServiceContext, actor: Actor, account_id: str, changes: AccountChanges
) -> Account:
    """Change an account's name, status or settings."""
    with ctx.uow() as uow:
        account = uow.accounts.get(account_id)
        check_may_change_account(ctx, uow, actor, account)
        before = snapshot(account)
        updated = dataclasses.replace(account)
        for name in _SETTINGS_FIELDS:
            value = getattr(changes, name)
            if value is not None:
                setattr(updated, name, value)
        updated.name = rules.validate_account_name(updated.name)
        updated.status = rules.parse_status(int(updated.status))
        check_status_change(ctx, uow, actor, account, updated.status)
        check_partner_manage_change(ctx, uow, actor, account, updated.can_partner_manage)
        if (
            updated.id_from_network != account.id_from_network
            and updated.id_from_network is not None
            and updated.parent_id is not None
            and uow.accounts.find_by_network_id(updated.parent_id, updated.id_from_network)
        ):
            raise Conflict(ErrorCode.ID_TAKEN, field="id_from_network")
        after = snapshot(updated)
        if after != before:
            uow.accounts.update(updated)
            record(
                ctx,
                uow,
                actor,
                "account.update",
                target_type="account",
                target_id=account.id,
                account_id=account.id,
                before=before,
                after=after,
            )
        return updated


def transfer_ownership(
    ctx: ServiceContext,
    actor: Actor,
    account_id: str,
    new_owner_user_id: str | None = None,
    *,
    new_owner_email: str | None = None,
) -> tuple[Account, User]:
    """Hand the account's ownership to another active admin (named by id or address): the
    owner's (or the operator's) step, and the only way the owner stops being protected."""
    with ctx.uow() as uow:
        # An owner-only write, and one an owner's read-only credential can't make.
        account, _ = require(ctx, uow, actor, account_id, Need.MANAGE_ADMINS)
        if new_owner_email is not None:
            new_owner = uow.users.find_by_email(normalize_email(new_owner_email))
        else:
            new_owner = uow.users.find(new_owner_user_id or "")
        membership = uow.memberships.find(new_owner.id, account_id) if new_owner else None
        if new_owner is None or membership is None:
            raise NotFound(
                ErrorCode.USER_NOT_FOUND, "This user is not a member of the account.", field="user"
            )
        role = resolve_role(ctx, uow, account, membership.role_key)
        owner = uow.users.find(account.owner_user_id) if account.owner_user_id else None
        check_may_transfer_ownership(actor, account, owner, new_owner, membership, role)
        if account.owner_user_id == new_owner.id:
            return account, new_owner
        before = account.owner_user_id
        account.owner_user_id = new_owner.id
        uow.accounts.update(account)
        record(
            ctx,
            uow,
            actor,
            "account.transfer_ownership",
            target_type="account",
            target_id=account.id,
            account_id=account.id,
            before={"owner_user_id": before},
            after={"owner_user_id": new_owner.id},
        )
        return account, new_owner


def delete_account(ctx: ServiceContext, actor: Actor, account_id: str) -> None:
    """Delete an account with its memberships; an account with child accounts stays."""
    with ctx.uow() as uow:
        account = uow.accounts.get(account_id)
        if account.parent_id is None and not actor.is_system:
            raise Forbidden(ErrorCode.FORBIDDEN, account_id=account_id)
        require_for_child(ctx, uow, actor, account, Need.MANAGE_CHILD_ACCOUNTS)
        if uow.accounts.has_children(account_id):
            raise Conflict(ErrorCode.ACCOUNT_HAS_CHILDREN, field="account_id")
        # Its parents' webhooks hear its deletion; what no longer hears it is given up on.
        webhook_events.account_leaving(ctx, uow, account_id)
        uow.accounts.delete(account_id)
        record(
            ctx,
            uow,
            actor,
            "account.delete",
            target_type="account",
            target_id=account.id,
            account_id=account.id,
            before=snapshot(account),
        )


# -- the app catalogue -------------------------------------------------------------------------


def list_apps(ctx: ServiceContext, actor: Actor, account_id: str) -> dict[str, str]:
    """The account's apps: app id → name."""
    with ctx.uow(readonly=True) as uow:
        require(ctx, uow, actor, account_id, Need.READ_ACCOUNT)
        return uow.apps.for_account(account_id)


def add_app(
    ctx: ServiceContext, actor: Actor, account_id: str, app_id: str, name: str = ""
) -> None:
    """Add an app to the account's catalogue, so users can be scoped to it."""
    app_id = app_id.strip()
    if not app_id or len(app_id) > 200 or any(ch.isspace() or ch == "," for ch in app_id):
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            "An app id is 1 to 200 characters without spaces or commas.",
            field="app_id",
        )
    with ctx.uow() as uow:
        require(ctx, uow, actor, account_id, Need.MANAGE_SETTINGS)
        if app_id in uow.apps.for_account(account_id):
            raise Conflict(ErrorCode.ID_TAKEN, field="app_id")
        uow.apps.add(account_id, app_id, name.strip() or app_id)
        record(
            ctx,
            uow,
            actor,
            "app.add",
            target_type="app",
            target_id=app_id,
            account_id=account_id,
            after={"app_id": app_id, "name": name.strip() or app_id},
        )


def remove_app(ctx: ServiceContext, actor: Actor, account_id: str, app_id: str) -> None:
    """Remove an app from the account's catalogue."""
    with ctx.uow() as uow:
        require(ctx, uow, actor, account_id, Need.MANAGE_SETTINGS)
        apps = uow.apps.for_account(account_id)
        if app_id not in apps:
            raise InvalidInput(ErrorCode.UNKNOWN_APPS, field="app_id")
        uow.apps.delete(account_id, app_id)
        record(
            ctx,
            uow,
            actor,
            "app.remove",
            target_type="app",
            target_id=app_id,
            account_id=account_id,
            before={"app_id": app_id, "name": apps[app_id]},
        )
