"""Mail the services send (invitations, password resets), as a port the composition root fills.

Delivery happens after the transaction that created the token has committed, so a slow or
failing mail server never holds a transaction open, and a failed send leaves the invitation in
place, marked as not delivered, to be resent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class DeliveryFailed(Exception):
    """The mail server refused the message or could not be reached."""


@dataclass(frozen=True, slots=True)
class InvitationMail:
    to: str
    link: str
    account_name: str | None
    role_name: str | None
    invited_by: str
    expires_at: datetime
    has_login: bool = False
    """The address has a login already: the invited person signs in to accept."""


@dataclass(frozen=True, slots=True)
class PasswordResetMail:
    to: str
    link: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class AddressChangedMail:
    """Told to the old address when an identity's address changes, so that a takeover is
    seen by the person it is done to."""

    to: str
    new_address: str
    changed_by: str


class Mailer(Protocol):
    def send_invitation(self, mail: InvitationMail) -> None: ...
    def send_password_reset(self, mail: PasswordResetMail) -> None: ...
    def send_address_changed(self, mail: AddressChangedMail) -> None: ...
