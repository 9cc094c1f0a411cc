"""Users: one global identity per e-mail address."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import IntEnum

from tenantry.domain.errors import ErrorCode, InvalidInput

MAX_USERNAME_LENGTH = 100
MAX_DEPARTMENT_LENGTH = 200
MAX_PERSON_NAME_LENGTH = 100
MAX_EMAIL_LENGTH = 254

# An RFC 5322 addr-spec in its dot-atom form (what people and IdPs send in practice):
# local part of atext runs separated by dots, a domain of at least two DNS labels.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
# Underscores occur in real host names (and in the AppsFlyer document's own sample address).
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_EMAIL = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@{_LABEL}(?:\.{_LABEL})+")

# AppsFlyer: letters, numbers, spaces and . - _ ` [ ] ( ) ; any script's letters are letters.
_USERNAME_EXTRA = set(".-_`[]() ")


class UserStatus(IntEnum):
    """Numbers as the GraphQL User object documents them."""

    DEACTIVATED = 0
    ACTIVATED = 1
    PENDING = 2


NOTIFICATION_FLAGS = (
    "notify_on_budgets",
    "notify_on_campaign_applications",
    "notify_on_campaign_expirations",
    "notify_on_creative_duplication_requests",
    "notify_on_network_announcements",
    "notify_on_performance_notifications",
    "notify_on_monthly_campaign_performance_reports",
    "notify_on_weekly_campaign_performance_reports",
    "notify_on_call_activities",
)


@dataclass(slots=True, frozen=True)
class NotificationEmail:
    address: str
    use_for_notifications: bool = True


@dataclass(slots=True)
class User:
    id: str
    email: str
    name: str = ""
    first_name: str | None = None
    last_name: str | None = None
    department: str | None = None
    contact_country_code: str | None = None
    contact_phone_number: str | None = None
    status: UserStatus = UserStatus.PENDING
    last_login_at: datetime | None = None
    expires_on: date | None = None
    can_login_via_platform: bool = True
    network_account_id: str | None = None
    id_from_network: str | None = None
    notifications: dict[str, bool] = field(default_factory=dict)
    notification_emails: list[NotificationEmail] = field(default_factory=list)
    password_hash: str | None = field(default=None, repr=False)
    oauth_refresh_token: str | None = field(default=None, repr=False)
    created_at: datetime | None = None
    home_account_id: str | None = None
    """The account whose action created the identity (the network, for its users)."""
    email_verified_at: datetime | None = None
    """When the owner last proved the address; None while nobody has."""

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def display_name(self) -> str:
        if self.name:
            return self.name
        joined = " ".join(p for p in (self.first_name, self.last_name) if p)
        return joined or self.email

    @property
    def is_network_managed(self) -> bool:
        return not self.can_login_via_platform

    def has_expired(self, today: date) -> bool:
        """Past its expiry date: the user may not sign in, nor be acted as by a token."""
        return self.expires_on is not None and self.expires_on < today


def normalize_email(raw: object) -> str:
    """Trim and lower-case an address; raise the documented error when it is not one."""
    if not isinstance(raw, str):
        raise InvalidInput(ErrorCode.INVALID_EMAIL, field="email")
    # Validate before lower-casing: some non-ASCII letters lower-case to ASCII ones.
    email = raw.strip()
    if len(email) > MAX_EMAIL_LENGTH or not email.isascii() or not _EMAIL.fullmatch(email):
        raise InvalidInput(ErrorCode.INVALID_EMAIL, field="email")
    return email.lower()


def is_valid_email(raw: str) -> bool:
    try:
        normalize_email(raw)
    except InvalidInput:
        return False
    return True


def validate_username(raw: str) -> str:
    name = raw.strip()
    if len(name) > MAX_USERNAME_LENGTH:
        raise InvalidInput(ErrorCode.USERNAME_TOO_LONG, field="username")
    if not name or any(not (ch.isalnum() or ch in _USERNAME_EXTRA) for ch in name):
        raise InvalidInput(ErrorCode.INVALID_USERNAME, field="username")
    return name


def validate_department(department: str | None) -> None:
    """A department is free text of printable characters that fits its column."""
    if department is not None and (
        len(department) > MAX_DEPARTMENT_LENGTH or any(not ch.isprintable() for ch in department)
    ):
        raise InvalidInput(ErrorCode.INVALID_FIELD_SCHEME, field="department")


def validate_person_name(value: str | None, field: str, label: str) -> None:
    """A first or last name is printable text that fits its column."""
    if value is None:
        return
    if len(value) > MAX_PERSON_NAME_LENGTH or any(not ch.isprintable() for ch in value):
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            f"The {label} can have at most {MAX_PERSON_NAME_LENGTH} printable characters.",
            field=field,
        )


def split_name(name: str) -> tuple[str | None, str | None]:
    """Best-effort first/last split of a display name, for faces that show both."""
    first, _, last = name.strip().partition(" ")
    return (first or None), (last.strip() or None)
