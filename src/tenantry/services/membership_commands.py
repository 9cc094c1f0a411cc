"""What the membership changes service takes and answers: typed commands (add a member, change
a member's role, remove a member), one result per command, and the audit snapshots of both."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from tenantry.domain.errors import DomainError, ErrorCode, InvalidInput
from tenantry.domain.memberships import Membership
from tenantry.domain.roles import Role
from tenantry.domain.users import NotificationEmail, User


class ScopeRequest(Protocol):
    """A scope as a face asks for it, before it is checked: `app_ids` None = all apps, [] =
    none; empty or None media sources and geos = all; `all_future_apps` None = decided by
    `app_ids`."""

    @property
    def app_ids(self) -> Sequence[str] | None: ...
    @property
    def all_future_apps(self) -> bool | None: ...
    @property
    def media_sources(self) -> Sequence[str] | None: ...
    @property
    def geos(self) -> Sequence[str] | None: ...


@dataclass(slots=True)
class NewMember:
    """Add a person (a new identity, or one that exists) to an account with one role, and
    the scope of `ScopeRequest`."""

    email: str
    role_key: str
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    department: str | None = None
    app_ids: Sequence[str] | None = None
    all_future_apps: bool | None = None
    media_sources: Sequence[str] | None = None
    geos: Sequence[str] | None = None
    contact_country_code: str | None = None
    contact_phone_number: str | None = None
    expires_on: date | None = None
    network_managed: bool = False
    id_from_network: str | None = None
    notifications: dict[str, bool] = field(default_factory=dict)
    notification_emails: list[NotificationEmail] = field(default_factory=list)
    oauth_refresh_token: str | None = None
    consented: bool = False
    """The person asks to join by this very change (arriving through the account's identity
    provider): a new identity is active at once, and so is its membership."""


@dataclass(slots=True, frozen=True)
class ChangeRole:
    """Give a member another role (and, when `scope` is given, another scope)."""

    user_id: str
    role_key: str
    scope: ScopeRequest | None = None


@dataclass(slots=True, frozen=True)
class RemoveMember:
    """Take a person out of the account, named by user id or by address (exactly one)."""

    user_id: str | None = None
    email: str | None = None

    def __post_init__(self) -> None:
        if (self.user_id is None) == (self.email is None):
            raise ValueError("A removal names the member by user id or by address, once.")


MembershipChange = NewMember | ChangeRole | RemoveMember


@dataclass(slots=True)
class AddedMember:
    """A change that was made: the member as they are now (for a removal, as they were)."""

    user: User
    membership: Membership
    role: Role
    user_already_existed: bool = True
    invitation_token: str | None = None


@dataclass(slots=True)
class ItemError:
    """A change that was refused: its position in the batch, the address it names as sent
    ("" when it names none), and why."""

    index: int
    email: str
    error: DomainError


@dataclass(slots=True)
class ChangeReport:
    """One result per change: made (`applied`, by position) or refused (`errors`)."""

    applied: list[tuple[int, AddedMember]] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)

    def one(self) -> AddedMember:
        """The result of a batch of one change: what it made, or its refusal raised."""
        if self.errors:
            raise self.errors[0].error
        return self.applied[0][1]


class BatchRejected(InvalidInput):
    """Nothing was changed because at least one item was refused; `items` says why each was."""

    def __init__(self, items: list[ItemError]) -> None:
        super().__init__(ErrorCode.INVALID_INPUT, "Some items were refused; nothing was changed.")
        self.items = items


def user_snapshot(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "status": int(user.status),
        "can_login_via_platform": user.can_login_via_platform,
    }


def membership_snapshot(m: Membership) -> dict[str, Any]:
    return {
        "user_id": m.user_id,
        "role": m.role_key,
        "status": m.status.value,
        "app_ids": None if m.scope.app_ids is None else list(m.scope.app_ids),
        "all_future_apps": m.scope.all_future_apps,
        "media_sources": None if m.scope.media_sources is None else list(m.scope.media_sources),
        "geos": None if m.scope.geos is None else list(m.scope.geos),
    }
