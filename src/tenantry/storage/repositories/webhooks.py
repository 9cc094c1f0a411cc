"""Webhook endpoints, who hears an account's events, and the endpoints' delivery logs (their
outbox entries)."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tenantry.domain.accounts import Account
from tenantry.domain.outbox import OutboxEntry, OutboxKind
from tenantry.domain.webhooks import (
    DeliveryStatus,
    EventType,
    Subscription,
    WebhookDelivery,
    WebhookEndpoint,
)
from tenantry.storage.repositories.accounts import ACCOUNT_WIDTH, CHAIN, to_account
from tenantry.storage.repositories.base import Repository, columns
from tenantry.storage.repositories.outbox import SELECT_ENTRIES, to_entry
from tenantry.storage.tables import outbox
from tenantry.storage.webhook_tables import webhook_endpoints

_FIELDS = tuple(f.name for f in dataclasses.fields(WebhookEndpoint))
_SELECT = sa.select(*columns(webhook_endpoints, _FIELDS))
_FIND = _SELECT.where(webhook_endpoints.c.id == sa.bindparam("id"))
_FIND_MANY = _SELECT.where(webhook_endpoints.c.id.in_(sa.bindparam("ids", expanding=True)))
_FOR_ACCOUNT = _SELECT.where(webhook_endpoints.c.account_id == sa.bindparam("account_id")).order_by(
    webhook_endpoints.c.created_at, webhook_endpoints.c.id
)
_COUNT = (
    sa.select(sa.func.count())
    .select_from(webhook_endpoints)
    .where(webhook_endpoints.c.account_id == sa.bindparam("account_id"))
)
_SECRETS = sa.select(*columns(webhook_endpoints, _FIELDS), webhook_endpoints.c.secret).where(
    webhook_endpoints.c.id.in_(sa.bindparam("ids", expanding=True))
)
_UPDATE = webhook_endpoints.update().where(webhook_endpoints.c.id == sa.bindparam("where_id"))
_DELETE = webhook_endpoints.delete().where(webhook_endpoints.c.id == sa.bindparam("id"))


def _hearing() -> sa.Select[Any]:
    """An account and its ancestors, nearest first, each with its enabled endpoints (or one
    row of nulls): all that decides who hears the account, in one statement. Which of them
    do is the domain's rule (`WebhookEndpoint.hears_account`)."""
    chain = CHAIN.subquery("chain")
    e = webhook_endpoints.c
    return (
        sa.select(*chain.c, *columns(webhook_endpoints, _FIELDS))
        .select_from(
            chain.outerjoin(webhook_endpoints, sa.and_(e.account_id == chain.c.id, e.enabled))
        )
        .order_by(chain.c.depth, e.created_at, e.id)
    )


_HEARING = _hearing()
_ENDPOINT_AT = ACCOUNT_WIDTH + 2  # after the account's columns, its origin and depth

_DELIVERY_COLUMNS = (
    outbox.c.id,
    outbox.c.endpoint_id,
    outbox.c.payload,
    outbox.c.attempts,
    outbox.c.created_at,
    outbox.c.available_at,
    outbox.c.last_status_code,
    outbox.c.last_error,
    outbox.c.sent_at,
    outbox.c.failed_at,
)
_DELIVERIES = (
    sa.select(*_DELIVERY_COLUMNS)
    .where(outbox.c.endpoint_id == sa.bindparam("endpoint_id"))
    .order_by(outbox.c.id.desc())
    .limit(sa.bindparam("limit", type_=sa.Integer))
)
_DELIVERY = sa.select(*_DELIVERY_COLUMNS).where(
    outbox.c.id == sa.bindparam("id"), outbox.c.kind == OutboxKind.WEBHOOK.value
)
_WAITING = sa.and_(
    outbox.c.kind == OutboxKind.WEBHOOK.value,
    outbox.c.sent_at.is_(None),
    outbox.c.failed_at.is_(None),
)
# A lane is "endpoint:account" (`webhook_events.lane`). LIKE narrows the rows (SQLite's
# ignores case, so the exact end of the lane is compared after).
_WAITING_FOR = sa.select(outbox.c.id, outbox.c.endpoint_id, outbox.c.lane).where(
    _WAITING, outbox.c.lane.like(sa.bindparam("lane"))
)
_GIVE_UP_WAITING = (
    outbox.update()
    .where(_WAITING, outbox.c.id.in_(sa.bindparam("ids", expanding=True)))
    .values(failed_at=sa.bindparam("at"), last_error=sa.bindparam("error"))
)
_ENTRY = SELECT_ENTRIES.where(
    outbox.c.id == sa.bindparam("id"), outbox.c.kind == OutboxKind.WEBHOOK.value
)


def _endpoint(row: Any, at: int = 0) -> WebhookEndpoint:
    values = dict(zip(_FIELDS, row[at : at + len(_FIELDS)], strict=True))
    values["event_types"] = _types(values["event_types"])
    return WebhookEndpoint(**values)


def _types(names: list[str]) -> tuple[EventType, ...]:
    known = {t.value for t in EventType}
    return tuple(EventType(n) for n in names if n in known)


def _row(endpoint: WebhookEndpoint) -> dict[str, Any]:
    values = {name: getattr(endpoint, name) for name in _FIELDS}
    values["event_types"] = [t.value for t in endpoint.event_types]
    return values


def _delivery(row: Any) -> WebhookDelivery:
    (id_, endpoint_id, payload, attempts, created, available, code, error, sent, failed) = row
    status = (
        DeliveryStatus.SENT
        if sent is not None
        else DeliveryStatus.FAILED
        if failed is not None
        else DeliveryStatus.PENDING
    )
    return WebhookDelivery(
        id=id_,
        endpoint_id=endpoint_id,
        event_id=payload["event_id"],
        event_type=payload["body"]["type"],
        account_id=payload["account_id"],
        status=status,
        attempts=attempts,
        created_at=created,
        next_attempt_at=available if status is DeliveryStatus.PENDING else None,
        last_status_code=code,
        last_error=error,
        sent_at=sent,
        failed_at=failed,
    )


class SqlWebhookRepository(Repository):
    def __init__(self, connection: sa.Connection) -> None:
        super().__init__(connection)
        # Who hears each account's events, read once per transaction: a batch of changes
        # asks for every change it records.
        self._heard: dict[str, list[Subscription]] = {}

    # -- endpoints

    def add(self, endpoint: WebhookEndpoint, secret: str) -> None:
        self.conn.execute(webhook_endpoints.insert(), {**_row(endpoint), "secret": secret})
        self._heard.clear()

    def update(self, endpoint: WebhookEndpoint) -> None:
        values = _row(endpoint)
        del values["id"]
        self.conn.execute(_UPDATE, {**values, "where_id": endpoint.id})
        self._heard.clear()

    def set_secret(self, endpoint: WebhookEndpoint, secret: str) -> None:
        """The new secret, with when it was set and from which account (`made_in`)."""
        values = {"secret": secret, "secret_set_at": endpoint.secret_set_at}
        self.conn.execute(_UPDATE, {**values, "made_in": endpoint.made_in, "where_id": endpoint.id})
        self._heard.clear()

    def delete(self, endpoint_id: str) -> None:
        self.conn.execute(_DELETE, {"id": endpoint_id})
        self._heard.clear()

    def find_many(self, endpoint_ids: Collection[str]) -> dict[str, WebhookEndpoint]:
        if not endpoint_ids:
            return {}
        rows = self.conn.execute(_FIND_MANY, {"ids": list(set(endpoint_ids))})
        return {endpoint.id: endpoint for endpoint in map(_endpoint, rows)}

    def find(self, endpoint_id: str) -> WebhookEndpoint | None:
        row = self._one(_FIND, {"id": endpoint_id})
        return _endpoint(row) if row else None

    def for_account(self, account_id: str) -> list[WebhookEndpoint]:
        return [_endpoint(r) for r in self.conn.execute(_FOR_ACCOUNT, {"account_id": account_id})]

    def count_for_account(self, account_id: str) -> int:
        return int(self.conn.execute(_COUNT, {"account_id": account_id}).scalar_one())

    def signing(self, endpoint_ids: Collection[str]) -> dict[str, tuple[WebhookEndpoint, str]]:
        """The endpoints with their signing secrets, for the sender only."""
        if not endpoint_ids:
            return {}
        rows = self.conn.execute(_SECRETS, {"ids": list(set(endpoint_ids))})
        return {row[0]: (_endpoint(row), row[len(_FIELDS)]) for row in rows}

    # -- who hears an account

    def subscriptions(self, account_id: str) -> list[Subscription]:
        """The enabled endpoints that hear the account's events, its own first, then each
        ancestor's, nearest first (one query, once per transaction)."""
        heard = self._heard.get(account_id)
        if heard is None:
            rows = self._rows(_HEARING, {"id": account_id})
            chain: list[Account] = []
            for row in rows:  # nearest first; an account with several endpoints has a row each
                if not chain or chain[-1].id != row[0]:
                    chain.append(to_account(row))
            depth = {account.id: at for at, account in enumerate(chain)}
            endpoints = [_endpoint(row, _ENDPOINT_AT) for row in rows if row[_ENDPOINT_AT]]
            heard = self._heard[account_id] = [
                Subscription(e.id, e.account_id, e.event_types, depth[e.account_id])
                for e in endpoints
                if e.hears_account(chain)
            ]
        return heard

    def account_leaving(self, account_id: str) -> None:
        """The account is about to be deleted, its endpoints with it: its ancestors' endpoints
        go on hearing its events in this transaction (its deletion among them)."""
        self._heard[account_id] = [s for s in self.subscriptions(account_id) if s.depth > 0]

    def waiting_for(self, account_id: str) -> list[tuple[int, str]]:
        """The deliveries of the account's events not yet sent nor given up on, as
        (delivery id, endpoint id) pairs."""
        lane_end = f":{account_id}"
        rows = self.conn.execute(_WAITING_FOR, {"lane": f"%{lane_end}"})
        return [(id_, endpoint_id) for id_, endpoint_id, lane in rows if lane.endswith(lane_end)]

    def give_up_waiting(self, delivery_ids: Collection[int], at: datetime, error: str) -> None:
        if delivery_ids:
            values = {"ids": list(delivery_ids), "at": at, "error": error}
            self.conn.execute(_GIVE_UP_WAITING, values)

    # -- deliveries

    def deliveries(
        self, endpoint_id: str, *, limit: int, before_id: int | None = None
    ) -> list[WebhookDelivery]:
        query = _DELIVERIES
        if before_id is not None:
            query = query.where(outbox.c.id < before_id)
        parameters = {"endpoint_id": endpoint_id, "limit": limit}
        return [_delivery(r) for r in self.conn.execute(query, parameters)]

    def delivery_entry(self, delivery_id: int) -> OutboxEntry | None:
        row = self._one(_ENTRY, {"id": delivery_id})
        return to_entry(row) if row else None

    def delivery(self, delivery_id: int) -> WebhookDelivery | None:
        row = self._one(_DELIVERY, {"id": delivery_id})
        return _delivery(row) if row else None
