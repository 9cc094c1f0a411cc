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
