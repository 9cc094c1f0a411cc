"""The policy on the account tree: who sets and lifts an account's deactivation, and who may
turn partner management back on."""

from __future__ import annotations

from tenantry.domain.accounts import Account, AccountStatus
from tenantry.domain.errors import ErrorCode, Forbidden
from tenantry.domain.roles import Need
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.policy import active_admin_count, manages_from_parent, role_in
from tenantry.services.ports import UnitOfWork


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
