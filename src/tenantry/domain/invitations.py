"""Invitations: single-use, expiring links that turn a pending membership active."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

DEFAULT_TTL = timedelta(days=7)


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(slots=True)
class Invitation:
    id: int | None
    email: str
    user_id: str
    account_id: str | None
    role_key: str | None
    token_hash: str
    expires_at: datetime
    invited_by: str
    created_at: datetime
    accepted_at: datetime | None = None
    revoked_at: datetime | None = None
    delivered: bool | None = None  # None: nothing to deliver with (no SMTP)
    mail_token_hash: str | None = None
    """The token of the link only ever mailed (never shown to the inviter): accepting with it
    proves the address."""

    def status(self, now: datetime) -> InvitationStatus:
        if self.accepted_at is not None:
            return InvitationStatus.ACCEPTED
        if self.revoked_at is not None:
            return InvitationStatus.REVOKED
        if self.expires_at <= now:
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING
