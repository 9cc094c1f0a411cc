"""Networks: the users a network manages and the advertisers under it.

A network is a top-level partner account; its advertisers are advertiser accounts directly
under it, each keyed by the network's own id for it (`id_from_network`). The users a network
manages (`can_login_via_platform` false) are keyed the same way, within the network.

The services take typed commands (`ManagedUserSpec`, `AdvertiserSpec`) that a face builds
from its own input with the rules here: what an id, a name, a phone number, an address or a
custom data key may be (the `clean_*` functions, which raise `BadValue`), and that a set of
users names each id and address once (`duplicates`). A command carries where each of its
parts was in the caller's input (`Problem.path`), so that every problem, the face's and the
core's, is reported at once and where it is. Problems read as short phrases about their
field ("can't be blank").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from tenantry.domain.errors import ErrorCode, InvalidInput
from tenantry.domain.ids import new_user_id
from tenantry.domain.roles import Role
from tenantry.domain.users import (
    NOTIFICATION_FLAGS,
    NotificationEmail,
    User,
    UserStatus,
    normalize_email,
    split_name,
)

MAX_ID_LENGTH = 255
MAX_PERSON_NAME_LENGTH = 100
MAX_ADVERTISER_NAME_LENGTH = 200
MAX_SITE_NAME_LENGTH = 255
MAX_TOKEN_LENGTH = 4096
MAX_COUNTRY_CODE_LENGTH = 8
MAX_PHONE_LENGTH = 32
MAX_EMAILS_PER_USER = 20
MAX_SITES = 1000
MAX_CUSTOM_DATA_KEYS = 100
MAX_CUSTOM_DATA_KEY_LENGTH = 100
MAX_CUSTOM_DATA_VALUE_LENGTH = 1000
MAX_USERS_PER_CALL = 10_000

BLANK = "can't be blank"
INVALID = "is invalid"
TAKEN = "has already been taken"
NO_NOTIFICATION_ADDRESS = "must have at least one address with use_for_notifications true"
LISTED_TWICE = "is listed twice"

# E.164: a plus and up to 15 digits. A US number: 10 digits, the area code not starting with
# 0 or 1. Separators people write between digit groups are accepted and kept as written.
_E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
_US = re.compile(r"^[2-9][0-9]{9}$")
_PHONE_SEPARATORS = re.compile(r"[\s().\-\u2010-\u2015\u2212]")
_COUNTRY_CODE = re.compile(r"^\+?[0-9]{1,4}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

Path = tuple[str | int, ...]


class ApprovalStatus(StrEnum):
    APPLIED = "Applied"
    APPROVED = "Approved"
    DECLINED = "Declined"
    SUSPENDED = "Suspended"
    ARCHIVED = "Archived"


@dataclass(slots=True, frozen=True)
class Problem:
    """One thing wrong with the input, and where it is."""

    path: Path
    message: str
    code: ErrorCode = ErrorCode.INVALID_INPUT


class InvalidNetworkInput(InvalidInput):
    """The input breaks one or more rules; nothing was changed. `problems` lists them all."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("an InvalidNetworkInput needs at least one problem")
        first = problems[0]
        where = ".".join(str(step) for step in first.path)
        super().__init__(first.code, f"{where} {first.message}".strip(), field=where or None)
        self.problems = tuple(problems)

    @classmethod
    def one(cls, path: Path, message: str) -> InvalidNetworkInput:
        return cls([Problem(path, message)])


class BadValue(ValueError):
    """What is wrong with one value, as a short phrase about its field."""

    def __init__(self, message: str, code: ErrorCode = ErrorCode.INVALID_INPUT) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# -- commands ------------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class ManagedUserSpec:
    """A user as the network describes it: every field clean, defaults filled in.

    `role_key` is a role key; one that names no role of the account is reported as an
    unknown role at `path` + "role". `id_from_network` is None only when the input left it
    out, which is allowed for a user the network does not manage (who is left as they are).
    `path` is where the user was in the input, and `email_paths` where each address was.
    """

    path: Path
    id_from_network: str | None
    emails: tuple[NotificationEmail, ...]
    first_name: str
    last_name: str
    contact_country_code: str | None
    contact_phone_number: str | None
    role_key: str
    oauth_refresh_token: str | None
    notifications: Mapping[str, bool]
    email_paths: tuple[Path, ...] = ()

    @property
    def email(self) -> str:
        """The primary address: the first one."""
        return self.emails[0].address

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(slots=True, frozen=True)
class Site:
    id_from_network: str
    name: str | None = None


@dataclass(slots=True)
class AdvertiserProfile:
    """What the network integration keeps about an advertiser beyond the account itself."""

    account_id: str
    approval_status: ApprovalStatus = ApprovalStatus.APPROVED
    sites: list[Site] = field(default_factory=list)


@dataclass(slots=True, frozen=True)
class AdvertiserSpec:
    """An advertiser as the network describes it. `custom_data` and `users` are None when the
    input left them out: they then stay as they are (leaving them out never deletes)."""

    id_from_network: str
    name: str
    approval_status: ApprovalStatus
    sites: tuple[Site, ...]
    custom_data: dict[str, str] | None
    users: tuple[ManagedUserSpec, ...] | None


def duplicates(specs: Sequence[ManagedUserSpec]) -> list[Problem]:
    """Each `id_from_network` and each address belongs to one user of a set."""
    problems: list[Problem] = []
    seen_ids: set[str] = set()
    seen_addresses: set[str] = set()
    for spec in specs:
        if spec.id_from_network is not None:
            if spec.id_from_network in seen_ids:
                problems.append(Problem((*spec.path, "id_from_network"), LISTED_TWICE))
            seen_ids.add(spec.id_from_network)
        for email, where in zip(spec.emails, spec.email_paths, strict=True):
            if email.address in seen_addresses:
                problems.append(Problem(where, TAKEN))
            seen_addresses.add(email.address)
    return problems


# -- values --------------------------------------------------------------------------------------


def too_long(max_length: int) -> str:
    return f"is too long (maximum is {max_length} characters)"


def at_most(limit: int, things: str) -> str:
    return f"can have at most {limit} {things}"


def clean_line(text: str, max_length: int) -> str:
    """A line of text, trimmed (it may be empty): printable, at most `max_length` long."""
    value = text.strip()
    if len(value) > max_length:
        raise BadValue(too_long(max_length))
    if _CONTROL.search(value):
        raise BadValue(INVALID)
    return value


def clean_required_line(text: str, max_length: int) -> str:
    """`clean_line`, not blank."""
    if not text.strip():
        raise BadValue(BLANK)
    return clean_line(text, max_length)


def clean_identifier(text: str) -> str:
    """An id the network gives (`id_from_network`), trimmed: see `is_valid_identifier`."""
    value = text.strip()
    if not value:
        raise BadValue(BLANK)
    if len(value) > MAX_ID_LENGTH:
        raise BadValue(too_long(MAX_ID_LENGTH))
    if not is_valid_identifier(value):
        raise BadValue(INVALID)
    return value


def is_valid_identifier(value: str) -> bool:
    """Whether `value` can be an `id_from_network`: printable, no surrounding spaces."""
    return 0 < len(value) <= MAX_ID_LENGTH and value == value.strip() and not _CONTROL.search(value)


def clean_address(text: str) -> str:
    """An e-mail address, trimmed and lower-cased."""
    if not text.strip():
        raise BadValue(BLANK)
    try:
        return normalize_email(text)
    except InvalidInput:
        raise BadValue(INVALID, ErrorCode.INVALID_EMAIL) from None


def clean_country_code(text: str) -> str:
    """A calling code: up to four digits, with or without a plus."""
    value = clean_line(text, MAX_COUNTRY_CODE_LENGTH)
    if not _COUNTRY_CODE.fullmatch(value):
        raise BadValue(INVALID)
    return value


def clean_phone(text: str) -> str:
    """A phone number as written: see `is_valid_phone`."""
    value = clean_line(text, MAX_PHONE_LENGTH)
    if not is_valid_phone(value):
        raise BadValue(INVALID)
    return value


def is_valid_phone(phone: str) -> bool:
    """E.164 (`+18056035555`) or a 10-digit US number, with or without separators."""
    digits = _PHONE_SEPARATORS.sub("", phone)
    return bool(_E164.fullmatch(digits) or _US.fullmatch(digits))


def check_custom_data_key(key: str) -> None:
    """A custom data key: not blank, printable, at most `MAX_CUSTOM_DATA_KEY_LENGTH` long."""
    if not key.strip() or len(key) > MAX_CUSTOM_DATA_KEY_LENGTH or _CONTROL.search(key):
        raise BadValue(f"has an invalid key {key!r}"[:200])


# -- comparing what is stored with what is asked -------------------------------------------------


def first_and_last_name(user: User) -> tuple[str | None, str | None]:
    """First and last name of a user made anywhere: users made elsewhere may only have a
    display name, which is split."""
    if user.first_name or user.last_name:
        return user.first_name, user.last_name
    return split_name(user.display_name)


def notification_addresses(user: User) -> list[NotificationEmail]:
    """Where a user made anywhere is notified: a user made elsewhere, with no notification
    addresses of their own, is notified at their e-mail."""
    return list(user.notification_emails) or [NotificationEmail(user.email)]


def is_described_by(user: User, spec: ManagedUserSpec) -> bool:
    """Whether `spec` lists `user` (a user the network does not manage) exactly as they are:
    their id, addresses, names, phone, refresh token and notifications."""
    return (
        spec.id_from_network == user.id_from_network
        and list(spec.emails) == notification_addresses(user)
        and (spec.first_name, spec.last_name) == first_and_last_name(user)
        and spec.contact_country_code == user.contact_country_code
        and spec.contact_phone_number == user.contact_phone_number
        and spec.oauth_refresh_token == user.oauth_refresh_token
        and all(
            spec.notifications[f] == bool(user.notifications.get(f)) for f in spec.notifications
        )
    )


def user_fields(user: User) -> dict[str, Any]:
    """The fields of a user a network sets, to tell whether anything changes."""
    return {
        "email": user.email,
        "name": user.name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "contact_country_code": user.contact_country_code,
        "contact_phone_number": user.contact_phone_number,
        "notification_emails": [
            (e.address, e.use_for_notifications) for e in user.notification_emails
        ],
        "notifications": {flag: bool(user.notifications.get(flag)) for flag in NOTIFICATION_FLAGS},
        "oauth_refresh_token": user.oauth_refresh_token,
    }


def spec_fields(spec: ManagedUserSpec) -> dict[str, Any]:
    """`user_fields` of a user given the fields the network describes."""
    return {
        "email": spec.email,
        "name": spec.name,
        "first_name": spec.first_name,
        "last_name": spec.last_name,
        "contact_country_code": spec.contact_country_code,
        "contact_phone_number": spec.contact_phone_number,
        "notification_emails": [(e.address, e.use_for_notifications) for e in spec.emails],
        "notifications": {flag: spec.notifications[flag] for flag in NOTIFICATION_FLAGS},
        "oauth_refresh_token": spec.oauth_refresh_token,
    }


def apply_spec(user: User, spec: ManagedUserSpec) -> None:
    """Give `user` the fields the network describes (the rest of the user stays)."""
    user.email = spec.email
    user.name = spec.name
    user.first_name = spec.first_name
    user.last_name = spec.last_name
    user.contact_country_code = spec.contact_country_code
    user.contact_phone_number = spec.contact_phone_number
    user.notification_emails = list(spec.emails)
    user.notifications = {**user.notifications, **spec.notifications}
    user.oauth_refresh_token = spec.oauth_refresh_token


def new_managed_user(spec: ManagedUserSpec, network_id: str, now: datetime) -> User:
    """A network-managed user: active at once, signs in through the network, never directly."""
    user = User(
        id=new_user_id(),
        email=spec.email,
        status=UserStatus.ACTIVATED,
        can_login_via_platform=False,
        network_account_id=network_id,
        id_from_network=spec.id_from_network,
        created_at=now,
        home_account_id=network_id,
    )
    apply_spec(user, spec)
    return user


def addresses_of(user: User) -> set[str]:
    """Every address a user holds: their e-mail and their notification addresses."""
    return {user.email, *(e.address for e in user.notification_emails)}


def audit_fields(user: User, role: Role | None) -> dict[str, Any]:
    """`user_fields` as the audit trail keeps them, with the user's id and role key: the
    refresh token is never written down."""
    fields = user_fields(user)
    fields["notification_emails"] = [list(pair) for pair in fields["notification_emails"]]
    fields["oauth_refresh_token"] = "[set]" if user.oauth_refresh_token else None
    fields["id"] = user.id
    if role is not None:
        fields["role"] = role.key
    return fields
