"""Mail the services send (invitations, password resets), as a port the composition root fills.

Mail is written to the outbox in the change's transaction and sent by the outbox sender
(`services.outbox`), a batch at a time through one session (one connection to the server),
so a slow or failing mail server never holds a transaction open or a request waiting.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class DeliveryFailed(Exception):
    """The mail server refused the message or could not be reached."""


class MailServerUnavailable(DeliveryFailed):
    """The mail server could not be reached, refused the login or dropped the connection: the
    rest of a batch would fail the same way, so a sender stops there."""


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


class MailSession(Protocol):
    def send_invitation(self, mail: InvitationMail) -> None: ...
    def send_password_reset(self, mail: PasswordResetMail) -> None: ...
    def send_address_changed(self, mail: AddressChangedMail) -> None: ...


class Mailer(MailSession, Protocol):
    """Sends one mail at a time, or a batch through one `session` (one connection, opened on
    the first mail and closed when the block ends)."""

    def session(self) -> AbstractContextManager[MailSession]: ...
