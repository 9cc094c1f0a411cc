"""Sending webhook deliveries that the outbox sender claimed: each signed as the Standard
Webhooks specification says (`webhook-id`, `webhook-timestamp`, `webhook-signature`, with the
`standardwebhooks` package) with its endpoint's current secret, and posted once.

A 2xx answer delivers; any other answer, or none in time, is tried again later with the
outbox's backoff (`domain.outbox.next_attempt`), and given up on a day after the event was
written. A batch holds at most one delivery per lane, so the posts of a batch run side by side
without changing any lane's order. Nothing here runs in a request: a slow receiver holds up
only the sender's thread, and only for the transport's timeout.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from standardwebhooks.webhooks import Webhook

from tenantry.domain.accounts import Account
from tenantry.domain.outbox import OutboxEntry, next_attempt
from tenantry.domain.webhooks import WebhookEndpoint
from tenantry.services.context import ServiceContext
from tenantry.services.webhook_transport import DeliveryError, WebhookTransport

if TYPE_CHECKING:
    from tenantry.services.outbox import SendReport

log = logging.getLogger("tenantry.webhooks")

PARALLEL_POSTS = 8
USER_AGENT = "tenantry-webhooks/1"
REMOVED = "given up: the endpoint was removed"
SWITCHED_OFF = "given up: the endpoint is switched off"
OUT_OF_HEARING = (
    "given up: the endpoint no longer hears this account (deactivated, or partner management "
    "turned off)"
)


@dataclass(slots=True)
class Attempt:
    entry: OutboxEntry
    status_code: int | None = None
    error: str | None = None
    """None: delivered."""
    final: bool = False
    """Not to be tried again (the endpoint is gone or switched off)."""


def deliver(ctx: ServiceContext, entries: Sequence[OutboxEntry]) -> list[Attempt]:
    """Post each claimed delivery once; what became of each."""
    transport = ctx.webhook_transport
    assert transport is not None
    with ctx.uow(readonly=True) as uow:
        endpoints = uow.webhooks.signing({e.endpoint_id for e in entries if e.endpoint_id})
        accounts = {e.payload["account_id"] for e in entries}
        chains = uow.accounts.chains(accounts | {e.account_id for e, _ in endpoints.values()})
    attempts: list[Attempt] = []
    posts: list[tuple[OutboxEntry, str, str]] = []
    for entry in entries:
        found = endpoints.get(entry.endpoint_id or "")
        if found is None:
            attempts.append(Attempt(entry, error=REMOVED, final=True))
        elif not found[0].enabled:
            attempts.append(Attempt(entry, error=SWITCHED_OFF, final=True))
        elif not still_hears(
            found[0], chains.get(entry.payload["account_id"]), chains.get(found[0].account_id)
        ):
            # Deactivated, or cut off, since the event was queued: the rule of who hears an
            # account holds when it is sent, not only when it was written.
            attempts.append(Attempt(entry, error=OUT_OF_HEARING, final=True))
        else:
            posts.append((entry, found[0].url, found[1]))
    if posts:
        with ThreadPoolExecutor(min(PARALLEL_POSTS, len(posts)), "tenantry-webhook") as pool:
            attempts += pool.map(lambda post: _post(ctx, transport, *post), posts)
    return attempts


def still_hears(
    endpoint: WebhookEndpoint,
    event_chain: Sequence[Account] | None,
    own_chain: Sequence[Account] | None,
) -> bool:
    """Whether the endpoint may be sent an event of the account whose chain is `event_chain`
    (`WebhookEndpoint.hears_account`). An account deleted since has no chain: who heard its
    last events was decided when they were written, and the endpoint's own account decides
    the rest (not deactivated, its receiver still chosen from within reach)."""
    return endpoint.hears_account(event_chain or own_chain or ())


def signed_headers(secret: str, message_id: str, ctx: ServiceContext, body: str) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt, signed now."""
    now = ctx.now()
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, now, body),
    }


def _post(
    ctx: ServiceContext, transport: WebhookTransport, entry: OutboxEntry, url: str, secret: str
) -> Attempt:
    body = json.dumps(entry.payload["body"], separators=(",", ":"), ensure_ascii=False)
    headers = signed_headers(secret, entry.payload["event_id"], ctx, body)
    try:
        code = transport.post(url, body.encode(), headers)
    except DeliveryError as error:
        return Attempt(entry, error=str(error) or type(error).__name__)
    except Exception as error:
        # One receiver's surprise must not leave the batch unsettled (its deliveries would go
        # out again once their claims ran out): this try failed, like any other.
        log.exception("webhook post failed", extra={"endpoint_id": entry.endpoint_id})
        return Attempt(entry, error=f"unexpected error: {type(error).__name__}")
    if 200 <= code < 300:
        return Attempt(entry, code)
    return Attempt(entry, code, f"the receiver answered {code}")


def settle(
    ctx: ServiceContext, worker: str, attempts: Sequence[Attempt], report: SendReport
) -> None:
    """Mark each attempt's delivery sent, to be tried again, or given up on."""
    now = ctx.now()
    with ctx.uow() as uow:
        for attempt in attempts:
            entry, code, error = attempt.entry, attempt.status_code, attempt.error
            assert entry.id is not None
            if error is None:
                uow.outbox.mark_sent(entry.id, worker, now, None, code)
                report.sent += 1
                continue
            # The endpoint's id and the reason only: never the body, headers or secret.
            log.warning(
                "webhook not delivered",
                extra={"outbox_id": entry.id, "endpoint_id": entry.endpoint_id, "error": error},
            )
            retry_at = (
                None if attempt.final else next_attempt(entry.attempts, entry.created_at, now)
            )
            if retry_at is None:
                uow.outbox.give_up(entry.id, worker, now, error, code)
                report.failed += 1
            else:
                uow.outbox.retry_later(entry.id, worker, retry_at, error, code)
                report.retrying += 1
