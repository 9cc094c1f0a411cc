"""What the services need from storage for what leaves the process: the outbox, and the
webhook endpoints whose deliveries are outbox entries. Part of `ports`, which re-exports them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from tenantry.domain.outbox import OutboxEntry, OutboxKind, OutboxStatus
from tenantry.domain.webhooks import Subscription, WebhookDelivery, WebhookEndpoint


class OutboxRepository(Protocol):
    """Entries waiting to leave the process. A sender claims due entries for a while (the
    claim is atomic: two senders never hold one entry), then settles each one; settling
    answers False when the claim was no longer this sender's."""

    def add_many(self, entries: Sequence[OutboxEntry]) -> None: ...
    def add(self, entry: OutboxEntry) -> int:
        """`add_many` for one entry, answering its id."""
        ...

    def claim(
        self,
        worker: str,
        now: datetime,
        until: datetime,
        limit: int,
        kinds: Collection[OutboxKind] = ...,
    ) -> list[OutboxEntry]:
        """Due entries of `kinds` (every kind by default), each the first open one of its
        lane."""
        ...

    def mark_sent(
        self,
        entry_id: int,
        worker: str,
        now: datetime,
        note: str | None,
        status_code: int | None = None,
    ) -> bool: ...
    def retry_later(
        self, entry_id: int, worker: str, at: datetime, error: str, status_code: int | None = None
    ) -> bool: ...
    def give_up(
        self, entry_id: int, worker: str, now: datetime, error: str, status_code: int | None = None
    ) -> bool: ...
    def counts(self, kinds: Collection[OutboxKind] | None = None) -> dict[OutboxStatus, int]:
        """How many entries (of `kinds`; every kind by default) are in each status."""
        ...

    def unsent_by_kind(self) -> dict[tuple[str, OutboxStatus], int]: ...
    def page(self, status: OutboxStatus | None, *, limit: int) -> list[OutboxEntry]: ...


class WebhookRepository(Protocol):
    """An account's webhook endpoints (their signing secrets only for the sender), who hears
    an account's events (read once per transaction), and the endpoints' deliveries."""

    def add(self, endpoint: WebhookEndpoint, secret: str) -> None: ...
    def update(self, endpoint: WebhookEndpoint) -> None: ...
    def set_secret(self, endpoint: WebhookEndpoint, secret: str) -> None: ...
    def delete(self, endpoint_id: str) -> None: ...
    def find(self, endpoint_id: str) -> WebhookEndpoint | None: ...
    def find_many(self, endpoint_ids: Collection[str]) -> dict[str, WebhookEndpoint]: ...
    def for_account(self, account_id: str) -> list[WebhookEndpoint]: ...
    def count_for_account(self, account_id: str) -> int: ...
    def signing(self, endpoint_ids: Collection[str]) -> dict[str, tuple[WebhookEndpoint, str]]: ...
    def subscriptions(self, account_id: str) -> list[Subscription]:
        """The enabled endpoints that hear the account's events
        (`WebhookEndpoint.hears_account`)."""
        ...

    def account_leaving(self, account_id: str) -> None:
        """Before deleting an account: its ancestors' endpoints hear the rest of this
        transaction's events about it."""
        ...

    def waiting_for(self, account_id: str) -> list[tuple[int, str]]: ...
    def give_up_waiting(self, delivery_ids: Collection[int], at: datetime, error: str) -> None: ...

    def deliveries(
        self, endpoint_id: str, *, limit: int, before_id: int | None = None
    ) -> list[WebhookDelivery]: ...
    def delivery(self, delivery_id: int) -> WebhookDelivery | None: ...
    def delivery_entry(self, delivery_id: int) -> OutboxEntry | None: ...
