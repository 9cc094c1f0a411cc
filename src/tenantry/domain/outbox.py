"""What leaves the process because of a change: outbox entries and their retry schedule.

An entry is written in the change's own transaction and sent later by whichever process claims
it first; a failed attempt waits longer each time (doubling, capped), and an entry that still
fails a day after it was written is given up on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(hours=24)


class OutboxKind(StrEnum):
    INVITATION = "mail.invitation"
    PASSWORD_RESET = "mail.password_reset"  # noqa: S105 -- a kind of mail, not a password
    ADDRESS_CHANGED = "mail.address_changed"
    WEBHOOK = "webhook"

    @property
    def is_mail(self) -> bool:
        return self is not OutboxKind.WEBHOOK


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(slots=True)
class OutboxEntry:
    id: int | None
    kind: OutboxKind
    payload: dict[str, Any]
    created_at: datetime
    available_at: datetime
    attempts: int = 0
    last_error: str | None = None
    claimed_until: datetime | None = None
    claimed_by: str | None = None
    sent_at: datetime | None = None
    failed_at: datetime | None = None
    lane: str | None = None
    """Entries of one lane are sent one at a time, in the order they were written."""
    endpoint_id: str | None = None
    """A webhook delivery's endpoint."""
    last_status_code: int | None = None
    """A webhook receiver's last answer."""

    @property
    def status(self) -> OutboxStatus:
        if self.sent_at is not None:
            return OutboxStatus.SENT
        if self.failed_at is not None:
            return OutboxStatus.FAILED
        return OutboxStatus.PENDING


def next_attempt(attempts: int, created_at: datetime, now: datetime) -> datetime | None:
    """When to try again after `attempts` failed tries, or None to give up: 30 s, 1 min,
    2 min, … up to an hour between tries, for a day after the entry was written."""
    if now - created_at >= GIVE_UP_AFTER:
        return None
    wait = min(FIRST_RETRY * (1 << min(max(attempts - 1, 0), 16)), LONGEST_WAIT)
    return now + wait
