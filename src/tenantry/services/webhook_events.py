"""Turning audited changes into webhook deliveries, in the change's own transaction.

`context.record` calls `publish` for every audit event it writes: the events the change is
(`domain.webhooks.events_of`) go, as outbox entries, to every enabled endpoint that hears
them: the account's own, and those of its ancestors that reach it and asked for their child
accounts' events. A change that rolls back (or a savepoint that does) takes its entries with
it; one that commits wakes the sender. Each endpoint's entries for one account form a lane,
sent one at a time in the order they were written.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from tenantry.domain.audit import AuditEvent
from tenantry.domain.outbox import OutboxEntry, OutboxKind
from tenantry.domain.webhooks import (
    Subscription,
    WebhookEvent,
    deliveries_for,
    events_of,
    is_event,
)

if TYPE_CHECKING:
    from tenantry.services.context import ServiceContext
    from tenantry.services.ports import UnitOfWork


def publish(ctx: ServiceContext, uow: UnitOfWork, audit: AuditEvent) -> None:
    """Write the deliveries of an audited change (none when nothing hears it)."""
    if not is_event(audit) or audit.account_id is None:
        return
    heard = uow.webhooks.subscriptions(audit.account_id)
    if not heard:
        return
    pairs = deliveries_for(events_of(audit), heard)
    if not pairs:
        return
    now = ctx.now()
    uow.outbox.add_many([_entry(event, heard, now) for event, heard in pairs])
    uow.after_commit(ctx.outbox_written)


GONE_OUT_OF_HEARING = (
    "given up: the account was deleted, and this endpoint no longer heard it (deactivated, or "
    "partner management turned off)"
)


def account_leaving(ctx: ServiceContext, uow: UnitOfWork, account_id: str) -> None:
    """Before an account is deleted, in the same transaction: the endpoints above it that hear
    it go on hearing its events (its deletion among them), and what waits for an endpoint that
    no longer hears it is given up on now, while its chain still says so (once the account is
    gone, the sender can't tell)."""
    uow.webhooks.account_leaving(account_id)
    waiting = uow.webhooks.waiting_for(account_id)
    if not waiting:
        return
    chain = uow.accounts.chain(account_id)
    endpoints = uow.webhooks.find_many({endpoint_id for _, endpoint_id in waiting})
    unheard = [
        delivery_id
        for delivery_id, endpoint_id in waiting
        if endpoint_id in endpoints and not endpoints[endpoint_id].hears_account(chain)
    ]
    uow.webhooks.give_up_waiting(unheard, ctx.now(), GONE_OUT_OF_HEARING)


def lane(endpoint_id: str, account_id: str) -> str:
    """One endpoint's deliveries of one account's events leave in the order written."""
    return f"{endpoint_id}:{account_id}"


def _entry(event: WebhookEvent, heard: Subscription, now: datetime) -> OutboxEntry:
    return OutboxEntry(
        None,
        OutboxKind.WEBHOOK,
        {"event_id": event.id, "account_id": event.account_id, "body": event.body},
        now,
        now,
        lane=lane(heard.endpoint_id, event.account_id),
        endpoint_id=heard.endpoint_id,
    )
