"""The policy on webhooks: an endpoint sends the account's audit trail to another host, so
whoever manages an account's endpoints, or reads their delivery log, must both manage the
account's settings and read its audit log there. That is an admin of the account, or of a
parent whose role reaches it (partner management on every account on the way down), or a
credential acting with such a role; never another account's admin."""

from __future__ import annotations

from tenantry.domain.accounts import Account
from tenantry.domain.roles import Need
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.policy import acting_from, can, require, require_grant
from tenantry.services.ports import UnitOfWork

MANAGE_WEBHOOKS = (Need.MANAGE_SETTINGS, Need.READ_AUDIT)


def require_webhook_manager(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, account_id: str
) -> Account:
    """The account, or Forbidden unless the actor may manage its webhooks."""
    account, _ = require(ctx, uow, actor, account_id, *MANAGE_WEBHOOKS)
    return account


def require_webhook_maker(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, account_id: str
) -> tuple[Account, str | None]:
    """`require_webhook_manager`, with the account whose role the actor acts with when it is
    not this one (a parent's): a receiver chosen there is heard only while that account
    reaches this one (`WebhookEndpoint.hears_account`), as with credentials."""
    account, grant = require_grant(ctx, uow, actor, account_id, *MANAGE_WEBHOOKS)
    return account, acting_from(grant, actor, account.id)


def may_manage_webhooks(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, account_id: str
) -> bool:
    return all(can(ctx, uow, actor, account_id, need) for need in MANAGE_WEBHOOKS)
