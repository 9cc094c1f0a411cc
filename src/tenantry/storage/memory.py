"""What a unit of work remembers for its transaction, and how a savepoint takes it back.

A savepoint that rolls back takes back the rows written inside it; whatever the unit of work
remembered about those rows (users read ahead, audit events held back) must go with them.
Each memory can say where it stands (`mark`) and return there (`rollback_to`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from typing import Any, Protocol

from tenantry.domain.audit import AuditEvent
from tenantry.domain.users import User


class Memory(Protocol):
    def mark(self) -> int: ...
    def rollback_to(self, mark: int) -> None: ...


_UNKNOWN = object()


class RememberedUsers:
    """Users by address, read ahead for one transaction; None remembers that nobody has the
    address. Every change is logged, so a savepoint's rollback can undo what it remembered.
    Until something is read ahead, writes are not remembered either (nothing asks)."""

    def __init__(self) -> None:
        self._by_email: dict[str, User | None] = {}
        self._email_of: dict[str, str] = {}  # user id -> the address it is remembered under
        self._undo: list[tuple[dict[str, Any], str, object]] = []

    def knows(self, email: str) -> bool:
        return email in self._by_email

    def get(self, email: str) -> User | None:
        user = self._by_email[email]
        return _copy(user) if user is not None else None

    def missing(self, emails: Collection[str]) -> list[str]:
        return [email for email in set(emails) if email not in self._by_email]

    def put(self, email: str, user: User | None) -> None:
        self._set(self._by_email, email, _copy(user) if user is not None else None)
        if user is not None:
            self._set(self._email_of, user.id, email)

    def written(self, user: User) -> None:
        """`user` was added or changed: forget the address it held, remember its own."""
        if not self._by_email:
            return
        self.deleted(user.id)
        self.put(user.email, user)

    def deleted(self, user_id: str) -> None:
        email = self._email_of.get(user_id)
        held = self._by_email.get(email) if email is not None else None
        if email is not None and held is not None and held.id == user_id:
            self.put(email, None)

    def _set(self, memory: dict[str, Any], key: str, value: object) -> None:
        self._undo.append((memory, key, memory.get(key, _UNKNOWN)))
        memory[key] = value

    def mark(self) -> int:
        return len(self._undo)

    def rollback_to(self, mark: int) -> None:
        while len(self._undo) > mark:
            memory, key, before = self._undo.pop()
            if before is _UNKNOWN:
                del memory[key]
            else:
                memory[key] = before


def _copy(user: User) -> User:
    """A copy for each caller, as a fresh read would give: a caller that changes its user
    without saving it changes nothing remembered."""
    return replace(
        user,
        notifications=dict(user.notifications),
        notification_emails=list(user.notification_emails),
    )


class HeldEvents:
    """Audit events held back while a unit of work defers them, written together later."""

    def __init__(self, write: Callable[[Sequence[AuditEvent]], None]) -> None:
        self._write = write
        self._events: list[AuditEvent] | None = None
        self._written = 0  # held, then written before the holding stopped

    @property
    def holding(self) -> bool:
        return self._events is not None

    def start(self) -> bool:
        """Start holding; False when holding already (an outer block writes them)."""
        if self._events is not None:
            return False
        self._events = []
        return True

    def hold(self, events: Sequence[AuditEvent]) -> None:
        assert self._events is not None
        self._events += events

    def write(self) -> None:
        """Write what is held, in one statement, and go on holding."""
        if self._events:
            events, self._events = self._events, []
            self._written += len(events)
            self._write(events)

    def stop(self, *, keep: bool) -> None:
        if keep:
            self.write()
        self._events = None

    def mark(self) -> int:
        return self._written + len(self._events or ())

    def rollback_to(self, mark: int) -> None:
        # Events written already went back with the savepoint's own rollback.
        if self._events is not None:
            del self._events[max(mark - self._written, 0) :]
