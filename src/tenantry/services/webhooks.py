"""Managing an account's webhook endpoints, and reading and resending their deliveries.

Each function is one transaction and asks the policy first (`policy_webhooks`): the account's
admins, or a parent's with partner reach. A signing secret is made here and answered once, by
`create_endpoint` and `rotate_secret`; nothing else ever returns it. Every change is audited
(without the secret). What is sent, and when, is `webhook_events` and `webhook_delivery`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tenantry.domain.accounts import Account
from tenantry.domain.errors import Conflict, ErrorCode, Forbidden, InvalidInput, NotFound
from tenantry.domain.outbox import OutboxEntry
from tenantry.domain.webhooks import (
    MAX_ENDPOINTS_PER_ACCOUNT,
    WebhookDelivery,
    WebhookEndpoint,
    check_description,
    check_event_types,
    check_url,
    is_public_address,
    literal_address,
    new_endpoint_id,
    new_signing_secret,
)
from tenantry.services.context import Actor, ServiceContext, record
from tenantry.services.policy_webhooks import (
    may_manage_webhooks,
    require_webhook_maker,
    require_webhook_manager,
)
from tenantry.services.ports import UnitOfWork
from tenantry.services.webhook_transport import UnsafeDestination

MAX_DELIVERY_PAGE = 200
NO_LONGER_HEARD = (
    "The endpoint no longer hears this delivery's account (it was deleted or deactivated, or "
    "no longer lets this account manage it), so its events can't be sent again."
)
PRIVATE_REFUSED = (
    "The receiver is on a loopback or private address, which is refused (the operator may "
    "allow it with TENANTRY_WEBHOOKS_ALLOW_PRIVATE=1)."
)


@dataclass(frozen=True, slots=True)
class EndpointChanges:
    """What to change on an endpoint; None leaves a field as it is."""

    url: str | None = None
    event_types: Iterable[str] | None = None
    enabled: bool | None = None
    include_children: bool | None = None
    description: str | None = None


def create_endpoint(
    ctx: ServiceContext,
    actor: Actor,
    account_id: str,
    url: str,
    *,
    event_types: Iterable[str] = (),
    include_children: bool = False,
    description: str = "",
    enabled: bool = True,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint of the account and its signing secret (`whsec_…`), shown this once.
    No event types: every event."""
    url = check_destination(ctx, url)
    types = check_event_types(event_types)
    description = check_description(description)
    with ctx.uow() as uow:
        account, made_in = require_webhook_maker(ctx, uow, actor, account_id)
        if uow.webhooks.count_for_account(account.id) >= MAX_ENDPOINTS_PER_ACCOUNT:
            raise Conflict(
                ErrorCode.CONFLICT,
                f"An account has at most {MAX_ENDPOINTS_PER_ACCOUNT} webhook endpoints.",
                field="url",
            )
        now = ctx.now()
        endpoint = WebhookEndpoint(
            id=new_endpoint_id(),
            account_id=account.id,
            url=url,
            event_types=types,
            enabled=enabled,
            include_children=include_children,
            description=description,
            created_at=now,
            created_by=actor.label,
            secret_set_at=now,
            made_in=made_in,
        )
        secret = new_signing_secret()
        uow.webhooks.add(endpoint, secret)
        _record(ctx, uow, actor, "webhook_endpoint.create", endpoint, after=snapshot(endpoint))
        return endpoint, secret


def list_endpoints(ctx: ServiceContext, actor: Actor, account_id: str) -> list[WebhookEndpoint]:
    """The account's endpoints, oldest first (never their secrets)."""
    with ctx.uow(readonly=True) as uow:
        account = require_webhook_manager(ctx, uow, actor, account_id)
        return uow.webhooks.for_account(account.id)


@dataclass(frozen=True, slots=True)
class ManagedAccount:
    account: Account
    endpoints: int


def accounts_managed(
    ctx: ServiceContext, actor: Actor, account_ids: Iterable[str]
) -> list[ManagedAccount]:
    """Of `account_ids`, those whose webhooks the actor manages, with how many endpoints each
    has (for a person's overview of their own accounts)."""
    with ctx.uow(readonly=True) as uow:
        found = uow.accounts.find_many(set(account_ids))
        return [
            ManagedAccount(account, uow.webhooks.count_for_account(account.id))
            for account in sorted(found.values(), key=lambda a: (a.name.lower(), a.id))
            if may_manage_webhooks(ctx, uow, actor, account.id)
        ]


def get_endpoint(ctx: ServiceContext, actor: Actor, endpoint_id: str) -> WebhookEndpoint:
    with ctx.uow(readonly=True) as uow:
        return _managed(ctx, uow, actor, endpoint_id)


def update_endpoint(
    ctx: ServiceContext, actor: Actor, endpoint_id: str, changes: EndpointChanges
) -> WebhookEndpoint:
    """Change an endpoint's URL, events, description, or switch it on or off (a switched-off
    endpoint hears nothing; what was waiting for it is given up on when its turn comes)."""
    url = check_destination(ctx, changes.url) if changes.url is not None else None
    types = check_event_types(changes.event_types) if changes.event_types is not None else None
    description = (
        check_description(changes.description) if changes.description is not None else None
    )
    with ctx.uow() as uow:
        endpoint = _found(uow, endpoint_id)
        _, made_in = require_webhook_maker(ctx, uow, actor, endpoint.account_id)
        before = snapshot(endpoint)
        changed = dataclasses.replace(
            endpoint,
            url=endpoint.url if url is None else url,
            event_types=endpoint.event_types if types is None else types,
            enabled=endpoint.enabled if changes.enabled is None else changes.enabled,
            include_children=endpoint.include_children
            if changes.include_children is None
            else changes.include_children,
            description=endpoint.description if description is None else description,
        )
        if changed.url != endpoint.url:
            changed.made_in = made_in  # a new receiver is the choice of where the actor acts from
        if changed != endpoint:
            uow.webhooks.update(changed)
            after = snapshot(changed)
            _record(ctx, uow, actor, "webhook_endpoint.update", changed, before=before, after=after)
        return changed


def delete_endpoint(ctx: ServiceContext, actor: Actor, endpoint_id: str) -> None:
    """Remove an endpoint; its deliveries, sent or waiting, go with it."""
    with ctx.uow() as uow:
        endpoint = _managed(ctx, uow, actor, endpoint_id)
        uow.webhooks.delete(endpoint.id)
        _record(ctx, uow, actor, "webhook_endpoint.delete", endpoint, before=snapshot(endpoint))


def rotate_secret(
    ctx: ServiceContext, actor: Actor, endpoint_id: str
) -> tuple[WebhookEndpoint, str]:
    """A new signing secret, shown this once; deliveries from now on are signed with it (the
    old one stops at once). Whoever knows the secret can sign as tenantry to the receiver, so
    it is a choice of the account the actor acts from, as a new URL is (`made_in`)."""
    with ctx.uow() as uow:
        endpoint = _found(uow, endpoint_id)
        _, endpoint.made_in = require_webhook_maker(ctx, uow, actor, endpoint.account_id)
        secret = new_signing_secret()
        endpoint.secret_set_at = ctx.now()
        uow.webhooks.set_secret(endpoint, secret)
        after = {"secret_set_at": endpoint.secret_set_at.isoformat()}
        _record(ctx, uow, actor, "webhook_endpoint.rotate_secret", endpoint, after=after)
        return endpoint, secret


def list_deliveries(
    ctx: ServiceContext,
    actor: Actor,
    endpoint_id: str,
    *,
    limit: int = 50,
    before_id: int | None = None,
) -> list[WebhookDelivery]:
    """The endpoint's delivery log, newest first: each event's status, attempts and the
    receiver's last answer."""
    with ctx.uow(readonly=True) as uow:
        endpoint = _managed(ctx, uow, actor, endpoint_id)
        page = max(1, min(limit, MAX_DELIVERY_PAGE))
        return uow.webhooks.deliveries(endpoint.id, limit=page, before_id=before_id)


def resend_delivery(
    ctx: ServiceContext, actor: Actor, delivery_id: int, *, endpoint_id: str | None = None
) -> WebhookDelivery:
    """Send a delivery's event again, as a new delivery at the end of its lane, with the same
    `webhook-id` (so a receiver that had it can tell); `endpoint_id`, when given, is the
    endpoint the delivery must be of."""
    with ctx.uow() as uow:
        entry = uow.webhooks.delivery_entry(delivery_id)
        if entry is None or entry.endpoint_id is None:
            raise _no_delivery()
        if endpoint_id is not None and entry.endpoint_id != endpoint_id:
            raise _no_delivery()
        endpoint = _managed(ctx, uow, actor, entry.endpoint_id, missing=_no_delivery())
        # An account deleted since has no chain: its events are sent again to nobody.
        event_chain = uow.accounts.chain(entry.payload["account_id"])
        if not event_chain or not endpoint.hears_account(event_chain):
            raise Forbidden(ErrorCode.FORBIDDEN, NO_LONGER_HEARD, field="id")
        now = ctx.now()
        again = OutboxEntry(
            None,
            entry.kind,
            entry.payload,
            now,
            now,
            lane=entry.lane,
            endpoint_id=endpoint.id,
        )
        added = uow.outbox.add(again)
        uow.after_commit(ctx.outbox_written)
        delivery = uow.webhooks.delivery(added)
        assert delivery is not None
        return delivery


# -- helpers -----------------------------------------------------------------------------------


def check_destination(ctx: ServiceContext, url: str) -> str:
    """The URL, checked: well formed, and (unless the operator allows private receivers) not
    on a loopback or private address, as written or as its name resolves now. The sender
    checks the addresses again before each delivery."""
    url = check_url(url)
    if ctx.settings.webhooks_allow_private:
        return url
    address = literal_address(urlsplit(url).hostname or "")
    try:
        if address is not None and not is_public_address(address):
            raise UnsafeDestination(PRIVATE_REFUSED)
        if ctx.webhook_transport is not None:
            ctx.webhook_transport.check_destination(url)
    except UnsafeDestination:
        raise InvalidInput(ErrorCode.INVALID_INPUT, PRIVATE_REFUSED, field="url") from None
    return url


def snapshot(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """An endpoint as the audit trail keeps it: never its secret."""
    return {
        "url": endpoint.url,
        "event_types": [t.value for t in endpoint.event_types],
        "enabled": endpoint.enabled,
        "include_children": endpoint.include_children,
        "description": endpoint.description,
    }


def _managed(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    endpoint_id: str,
    missing: NotFound | None = None,
) -> WebhookEndpoint:
    """The endpoint, once the policy says the actor manages its account's webhooks."""
    endpoint = _found(uow, endpoint_id, missing)
    require_webhook_manager(ctx, uow, actor, endpoint.account_id)
    return endpoint


def _found(uow: UnitOfWork, endpoint_id: str, missing: NotFound | None = None) -> WebhookEndpoint:
    endpoint = uow.webhooks.find(endpoint_id)
    if endpoint is None:
        raise missing or NotFound(ErrorCode.NOT_FOUND, "No such webhook endpoint.", field="id")
    return endpoint


def _no_delivery() -> NotFound:
    return NotFound(ErrorCode.NOT_FOUND, "No such webhook delivery.", field="id")


def _record(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    endpoint: WebhookEndpoint,
    **states: dict[str, Any],
) -> None:
    record(
        ctx,
        uow,
        actor,
        action,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
        account_id=endpoint.account_id,
        **states,
    )
