"""Networks: the users a network manages and the advertisers under it (Invoca's network
integration documents).

A network is a top-level partner account; its advertisers are advertiser accounts directly
under it, each keyed by the network's own id for it (`id_from_network`). The users a network
manages (`can_login_via_platform` false) are keyed the same way, within the network.

Input arrives as the documents' JSON objects. Parsing checks every field and collects every
problem with where it is (`("users", 3, "email_settings", 0, "email_address")`), so that a
caller learns about all of them at once; problems read as short phrases about their field
("can't be blank"), the way the documents' validation errors do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tenantry.domain.errors import ErrorCode, InvalidInput
from tenantry.domain.users import (
    NOTIFICATION_FLAGS,
    NotificationEmail,
    User,
    normalize_email,
    split_name,
)

MAX_ID_LENGTH = 255
MAX_PERSON_NAME_LENGTH = 100
MAX_ADVERTISER_NAME_LENGTH = 200
MAX_SITE_NAME_LENGTH = 255
MAX_TOKEN_LENGTH = 4096
MAX_PHONE_LENGTH = 32
MAX_EMAILS_PER_USER = 20
MAX_SITES = 1000
MAX_CUSTOM_DATA_KEYS = 100
MAX_CUSTOM_DATA_KEY_LENGTH = 100
MAX_CUSTOM_DATA_VALUE_LENGTH = 1000

BLANK = "can't be blank"
INVALID = "is invalid"
TAKEN = "has already been taken"
NOT_TEXT = "must be a string"
NOT_BOOLEAN = "must be true or false"
NOT_OBJECT = "must be an object"
NOT_LIST = "must be an array"
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


# -- users ---------------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class NetworkUserSpec:
    """A user as the network describes it: every field, defaults filled in.

    `role` is the name the network uses (None: the default role); the catalogue says which
    role it stands for. `id_from_network` is None only when the input left it out, which is
    allowed for a user the network does not manage (who is left as they are).
    `email_paths` say where each address was in the input (the documents show two spellings
    of it), for problems found later.
    """

    path: Path
    id_from_network: str | None
    emails: tuple[NotificationEmail, ...]
    first_name: str
    last_name: str
    contact_country_code: str | None
    contact_phone_number: str | None
    role: str | None
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


def parse_user(raw: object, path: Path = ()) -> tuple[NetworkUserSpec | None, list[Problem]]:
    """A user object of the documents, checked field by field (None when any field is wrong).

    `email_settings` may also come as the single `email_address` some samples show (used for
    notifications), and `contact_phone_number` as `phone_number`. Read-only fields
    (`can_login_via_platform`) and unknown keys are ignored.
    """
    if not isinstance(raw, Mapping):
        return None, [Problem(path, NOT_OBJECT)]
    problems: list[Problem] = []
    id_from_network = _identifier(raw.get("id_from_network"), (*path, "id_from_network"), problems)
    emails, email_paths = _emails(raw, path, problems)
    first_name = _text(
        raw.get("first_name"), (*path, "first_name"), problems, MAX_PERSON_NAME_LENGTH
    )
    last_name = _text(raw.get("last_name"), (*path, "last_name"), problems, MAX_PERSON_NAME_LENGTH)
    country = _optional_text(
        raw.get("contact_country_code"), (*path, "contact_country_code"), problems, 8
    )
    if country is not None and not _COUNTRY_CODE.fullmatch(country):
        problems.append(Problem((*path, "contact_country_code"), INVALID))
    phone_key = (
        "phone_number"
        if raw.get("contact_phone_number") is None and "phone_number" in raw
        else "contact_phone_number"
    )
    phone_path = (*path, phone_key)
    phone = _optional_text(raw.get(phone_key), phone_path, problems, MAX_PHONE_LENGTH)
    if phone is not None and not is_valid_phone(phone):
        problems.append(Problem(phone_path, INVALID))
    role = _optional_text(raw.get("role"), (*path, "role"), problems, 40)
    if role is not None and not role:
        problems.append(Problem((*path, "role"), BLANK))
    token = _optional_text(
        raw.get("oauth_refresh_token"), (*path, "oauth_refresh_token"), problems, MAX_TOKEN_LENGTH
    )
    notifications = {}
    for flag in NOTIFICATION_FLAGS:
        value = raw.get(flag)
        if value is None:
            notifications[flag] = False
        elif isinstance(value, bool):
            notifications[flag] = value
        else:
            problems.append(Problem((*path, flag), NOT_BOOLEAN))
    if problems:
        return None, problems
    assert first_name is not None
    assert last_name is not None
    return (
        NetworkUserSpec(
            path=path,
            id_from_network=id_from_network,
            emails=emails,
            first_name=first_name,
            last_name=last_name,
            contact_country_code=country,
            contact_phone_number=phone,
            role=role,
            oauth_refresh_token=token or None,
            notifications=notifications,
            email_paths=email_paths,
        ),
        [],
    )


def parse_users(raw: object, path: Path = ("users",)) -> list[NetworkUserSpec]:
    """A full set of users: each valid, no `id_from_network` or address given twice."""
    if not isinstance(raw, list):
        raise InvalidNetworkInput([Problem(path, NOT_LIST if raw is not None else BLANK)])
    specs: list[NetworkUserSpec] = []
    problems: list[Problem] = []
    for index, item in enumerate(raw):
        spec, found = parse_user(item, (*path, index))
        problems += found
        if spec is not None:
            specs.append(spec)
    problems += duplicates(specs)
    if problems:
        raise InvalidNetworkInput(problems)
    return specs


def duplicates(specs: Sequence[NetworkUserSpec]) -> list[Problem]:
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


def _emails(
    raw: Mapping[str, Any], path: Path, problems: list[Problem]
) -> tuple[tuple[NotificationEmail, ...], tuple[Path, ...]]:
    settings = raw.get("email_settings")
    if settings is None and "email_address" in raw:
        where = (*path, "email_address")
        address = _address(raw.get("email_address"), where, problems)
        return ((NotificationEmail(address),), (where,)) if address else ((), ())
    base = (*path, "email_settings")
    if settings is None:
        problems.append(Problem(base, BLANK))
        return (), ()
    if not isinstance(settings, list):
        problems.append(Problem(base, NOT_LIST))
        return (), ()
    if not settings:
        problems.append(Problem(base, BLANK))
        return (), ()
    if len(settings) > MAX_EMAILS_PER_USER:
        problems.append(Problem(base, f"can have at most {MAX_EMAILS_PER_USER} addresses"))
        return (), ()
    emails: list[NotificationEmail] = []
    paths: list[Path] = []
    before = len(problems)
    for index, entry in enumerate(settings):
        where = (*base, index)
        if not isinstance(entry, Mapping):
            problems.append(Problem(where, NOT_OBJECT))
            continue
        address = _address(entry.get("email_address"), (*where, "email_address"), problems)
        use = entry.get("use_for_notifications")
        if not isinstance(use, bool):
            problems.append(Problem((*where, "use_for_notifications"), NOT_BOOLEAN))
            continue
        if address is None:
            continue
        if address in (e.address for e in emails):
            problems.append(Problem((*where, "email_address"), LISTED_TWICE))
            continue
        emails.append(NotificationEmail(address, use))
        paths.append((*where, "email_address"))
    if len(problems) == before and not any(e.use_for_notifications for e in emails):
        problems.append(Problem(base, NO_NOTIFICATION_ADDRESS))
    return tuple(emails), tuple(paths)


def _address(raw: object, where: Path, problems: list[Problem]) -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        problems.append(Problem(where, BLANK))
        return None
    if not isinstance(raw, str):
        problems.append(Problem(where, NOT_TEXT))
        return None
    try:
        return normalize_email(raw)
    except InvalidInput:
        problems.append(Problem(where, INVALID, ErrorCode.INVALID_EMAIL))
        return None


def is_valid_phone(phone: str) -> bool:
    """E.164 (`+18056035555`) or a 10-digit US number, with or without separators."""
    digits = _PHONE_SEPARATORS.sub("", phone)
    return bool(_E164.fullmatch(digits) or _US.fullmatch(digits))


# -- advertisers ---------------------------------------------------------------------------------


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
    users: tuple[NetworkUserSpec, ...] | None


def parse_advertiser(raw: object, id_from_path: str | None) -> AdvertiserSpec:
    """An advertiser object of the documents. The body's `id_from_network` takes precedence
    over the one in the URL, as the documents say; one of them is required.

    Read-only fields (`id`, `web_integration_phone_number`, `default_creative_id_from_network`,
    `object_url`) and unknown keys are ignored.
    """
    if not isinstance(raw, Mapping):
        raise InvalidNetworkInput([Problem((), NOT_OBJECT)])
    problems: list[Problem] = []
    id_from_network = _identifier(raw.get("id_from_network"), ("id_from_network",), problems)
    id_from_network = id_from_network or id_from_path
    if id_from_network is None and not any(p.path == ("id_from_network",) for p in problems):
        problems.append(Problem(("id_from_network",), BLANK))
    name = _text(raw.get("name"), ("name",), problems, MAX_ADVERTISER_NAME_LENGTH)
    status = ApprovalStatus.APPROVED
    raw_status = raw.get("approval_status")
    if raw_status is not None:
        try:
            status = ApprovalStatus(raw_status)
        except ValueError:
            allowed = ", ".join(s.value for s in ApprovalStatus)
            problems.append(Problem(("approval_status",), f"must be one of {allowed}"))
    sites = _sites(raw.get("sites"), problems)
    custom_data = _custom_data(raw.get("custom_data"), problems)
    users: tuple[NetworkUserSpec, ...] | None = None
    if raw.get("users") is not None:
        try:
            users = tuple(parse_users(raw["users"]))
        except InvalidNetworkInput as error:
            problems += error.problems
    if problems:
        raise InvalidNetworkInput(problems)
    assert id_from_network is not None
    assert name is not None
    return AdvertiserSpec(id_from_network, name, status, sites, custom_data, users)


def _sites(raw: object, problems: list[Problem]) -> tuple[Site, ...]:
    if raw is None or raw == []:
        problems.append(Problem(("sites",), BLANK))
        return ()
    if not isinstance(raw, list):
        problems.append(Problem(("sites",), NOT_LIST))
        return ()
    if len(raw) > MAX_SITES:
        problems.append(Problem(("sites",), f"can have at most {MAX_SITES} sites"))
        return ()
    sites: list[Site] = []
    for index, entry in enumerate(raw):
        where: Path = ("sites", index)
        if not isinstance(entry, Mapping):
            problems.append(Problem(where, NOT_OBJECT))
            continue
        # The documents type a site's id as an integer (a PID) and show it as a string.
        site_id = _identifier(entry.get("id_from_network"), (*where, "id_from_network"), problems)
        if site_id is None:
            if entry.get("id_from_network") is None:
                problems.append(Problem((*where, "id_from_network"), BLANK))
            continue
        name = _optional_text(entry.get("name"), (*where, "name"), problems, MAX_SITE_NAME_LENGTH)
        if any(s.id_from_network == site_id for s in sites):
            problems.append(Problem((*where, "id_from_network"), LISTED_TWICE))
            continue
        sites.append(Site(site_id, name or None))
    return tuple(sites)


def _custom_data(raw: object, problems: list[Problem]) -> dict[str, str] | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.append(Problem(("custom_data",), NOT_OBJECT))
        return None
    if len(raw) > MAX_CUSTOM_DATA_KEYS:
        problems.append(Problem(("custom_data",), f"can have at most {MAX_CUSTOM_DATA_KEYS} keys"))
        return None
    data: dict[str, str] = {}
    for key, value in raw.items():
        if not key.strip() or len(key) > MAX_CUSTOM_DATA_KEY_LENGTH or _CONTROL.search(key):
            problems.append(Problem(("custom_data",), f"has an invalid key {key!r}"[:200]))
            continue
        checked = _optional_text(
            value, ("custom_data", key), problems, MAX_CUSTOM_DATA_VALUE_LENGTH
        )
        if value is None:
            problems.append(Problem(("custom_data", key), BLANK))
        elif checked is not None:
            data[key] = value
    return data


# -- comparing what is stored with what is asked -------------------------------------------------


def shown_names(user: User) -> tuple[str | None, str | None]:
    """First and last name as the integration shows them: users made elsewhere may only
    have a display name, which is split."""
    if user.first_name or user.last_name:
        return user.first_name, user.last_name
    return split_name(user.display_name)


def shown_emails(user: User) -> list[NotificationEmail]:
    """The addresses as the integration shows them: a user made elsewhere, with no
    notification addresses of their own, is notified at their e-mail."""
    return list(user.notification_emails) or [NotificationEmail(user.email)]


def user_fields(user: User) -> dict[str, Any]:
    """The fields of a user this integration sets, to tell whether anything changes."""
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


def spec_fields(spec: NetworkUserSpec) -> dict[str, Any]:
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


def apply_spec(user: User, spec: NetworkUserSpec) -> None:
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


def audit_fields(user: User) -> dict[str, Any]:
    """`user_fields` as the audit trail keeps them: the refresh token is never written down."""
    fields = user_fields(user)
    fields["notification_emails"] = [list(pair) for pair in fields["notification_emails"]]
    fields["oauth_refresh_token"] = "[set]" if user.oauth_refresh_token else None
    return fields


# -- field helpers -------------------------------------------------------------------------------


def _identifier(raw: object, where: Path, problems: list[Problem]) -> str | None:
    """An id the network gives: a string (or a whole number, kept as its digits)."""
    if raw is None:
        return None
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str):
        problems.append(Problem(where, NOT_TEXT))
        return None
    value = raw.strip()
    if not value:
        problems.append(Problem(where, BLANK))
        return None
    if len(value) > MAX_ID_LENGTH:
        problems.append(Problem(where, f"is too long (maximum is {MAX_ID_LENGTH} characters)"))
        return None
    if not is_valid_identifier(value):
        problems.append(Problem(where, INVALID))
        return None
    return value


def is_valid_identifier(value: str) -> bool:
    """Whether `value` can be an `id_from_network`: printable, no surrounding spaces."""
    return 0 < len(value) <= MAX_ID_LENGTH and value == value.strip() and not _CONTROL.search(value)


def _text(raw: object, where: Path, problems: list[Problem], max_length: int) -> str | None:
    """A required line of text."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        problems.append(Problem(where, BLANK))
        return None
    return _optional_text(raw, where, problems, max_length)


def _optional_text(
    raw: object, where: Path, problems: list[Problem], max_length: int
) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        problems.append(Problem(where, NOT_TEXT))
        return None
    value = raw.strip()
    if len(value) > max_length:
        problems.append(Problem(where, f"is too long (maximum is {max_length} characters)"))
        return None
    if _CONTROL.search(value):
        problems.append(Problem(where, INVALID))
        return None
    return value
