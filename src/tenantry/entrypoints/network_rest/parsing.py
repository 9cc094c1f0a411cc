"""The documents' JSON objects turned into the services' commands (`domain.managed`).

Each field is checked for its JSON type here and for its value by the domain's rules, and
every problem is collected with where it is (`("users", 3, "email_settings", 0,
"email_address")`), so that a caller learns about all of them at once. Role names become role
keys (`roles`). Read-only fields and unknown keys are ignored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from tenantry.domain import managed
from tenantry.domain.managed import (
    BLANK,
    AdvertiserSpec,
    ApprovalStatus,
    BadValue,
    InvalidNetworkInput,
    ManagedUserSpec,
    Path,
    Problem,
    Site,
)
from tenantry.domain.roles import RoleCatalogue
from tenantry.domain.users import NOTIFICATION_FLAGS, NotificationEmail
from tenantry.entrypoints.network_rest.roles import role_key

NOT_TEXT = "must be a string"
NOT_BOOLEAN = "must be true or false"
NOT_OBJECT = "must be an object"
NOT_LIST = "must be an array"
MAX_ROLE_NAME_LENGTH = 40
_APPROVAL_STATUSES = frozenset(s.value for s in ApprovalStatus)

Clean = Callable[[str], str]


# -- users ---------------------------------------------------------------------------------------


def user(
    raw: object, roles: RoleCatalogue, path: Path = ()
) -> tuple[ManagedUserSpec | None, list[Problem]]:
    """A user object, checked field by field (None when any field is wrong).

    `email_settings` may also come as the single `email_address` some samples show (used for
    notifications), and `contact_phone_number` as `phone_number`.
    """
    if not isinstance(raw, Mapping):
        return None, [Problem(path, NOT_OBJECT)]
    problems: list[Problem] = []

    def text(key: str, clean: Clean, *, required: bool = False) -> str | None:
        return _text(raw.get(key), (*path, key), problems, clean, required=required)

    id_from_network = _identifier(raw.get("id_from_network"), (*path, "id_from_network"), problems)
    emails, email_paths = _emails(raw, path, problems)
    first_name = text("first_name", _person_name, required=True)
    last_name = text("last_name", _person_name, required=True)
    country = text("contact_country_code", managed.clean_country_code)
    phone_key = (
        "phone_number"
        if raw.get("contact_phone_number") is None and "phone_number" in raw
        else "contact_phone_number"
    )
    phone = text(phone_key, managed.clean_phone)
    role = text("role", _role_name)
    token = text("oauth_refresh_token", _token)
    notifications = _notifications(raw, path, problems)
    if problems:
        return None, problems
    assert first_name is not None
    assert last_name is not None
    return (
        ManagedUserSpec(
            path=path,
            id_from_network=id_from_network,
            emails=emails,
            first_name=first_name,
            last_name=last_name,
            contact_country_code=country,
            contact_phone_number=phone,
            role_key=role_key(roles, role),
            oauth_refresh_token=token or None,
            notifications=notifications,
            email_paths=email_paths,
        ),
        [],
    )


def users(raw: object, roles: RoleCatalogue, path: Path = ("users",)) -> list[ManagedUserSpec]:
    """A full set of users: each valid, no `id_from_network` or address given twice."""
    if not isinstance(raw, list):
        raise InvalidNetworkInput([Problem(path, NOT_LIST if raw is not None else BLANK)])
    specs: list[ManagedUserSpec] = []
    problems: list[Problem] = []
    for index, item in enumerate(raw):
        spec, found = user(item, roles, (*path, index))
        problems += found
        if spec is not None:
            specs.append(spec)
    problems += managed.duplicates(specs)
    if problems:
        raise InvalidNetworkInput(problems)
    return specs


def network_users(raw: object, roles: RoleCatalogue) -> list[ManagedUserSpec]:
    """The network's users, replaced in one call: `users`, at most `MAX_USERS_PER_CALL`."""
    if isinstance(raw, list) and len(raw) > managed.MAX_USERS_PER_CALL:
        raise InvalidNetworkInput.one(
            ("users",), managed.at_most(managed.MAX_USERS_PER_CALL, "users in one call")
        )
    return users(raw, roles)


def advertiser_user(raw: object, roles: RoleCatalogue, user_id: str | None) -> ManagedUserSpec:
    """An advertiser's user; the body's `id_from_network`, else the one in the URL."""
    spec, problems = user(raw, roles)
    if problems:
        raise InvalidNetworkInput(problems)
    assert spec is not None
    if spec.id_from_network is None:
        if user_id is None or not managed.is_valid_identifier(user_id):
            raise InvalidNetworkInput.one(("id_from_network",), BLANK)
        spec = dataclasses.replace(spec, id_from_network=user_id)
    return spec


def _emails(
    raw: Mapping[str, Any], path: Path, problems: list[Problem]
) -> tuple[tuple[NotificationEmail, ...], tuple[Path, ...]]:
    settings = raw.get("email_settings")
    if settings is None and "email_address" in raw:
        where = (*path, "email_address")
        address = _address(raw.get("email_address"), where, problems)
        return ((NotificationEmail(address),), (where,)) if address else ((), ())
    base = (*path, "email_settings")
    if settings is None or settings == []:
        problems.append(Problem(base, BLANK))
        return (), ()
    if not isinstance(settings, list):
        problems.append(Problem(base, NOT_LIST))
        return (), ()
    if len(settings) > managed.MAX_EMAILS_PER_USER:
        problems.append(Problem(base, managed.at_most(managed.MAX_EMAILS_PER_USER, "addresses")))
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
            problems.append(Problem((*where, "email_address"), managed.LISTED_TWICE))
            continue
        emails.append(NotificationEmail(address, use))
        paths.append((*where, "email_address"))
    if len(problems) == before and not any(e.use_for_notifications for e in emails):
        problems.append(Problem(base, managed.NO_NOTIFICATION_ADDRESS))
    return tuple(emails), tuple(paths)


def _address(raw: object, where: Path, problems: list[Problem]) -> str | None:
    return _text(raw, where, problems, managed.clean_address, required=True)


def _notifications(raw: Mapping[str, Any], path: Path, problems: list[Problem]) -> dict[str, bool]:
    notifications = {}
    for flag in NOTIFICATION_FLAGS:
        value = raw.get(flag)
        if value is None:
            notifications[flag] = False
        elif isinstance(value, bool):
            notifications[flag] = value
        else:
            problems.append(Problem((*path, flag), NOT_BOOLEAN))
    return notifications


def _person_name(text: str) -> str:
    return managed.clean_required_line(text, managed.MAX_PERSON_NAME_LENGTH)


def _role_name(text: str) -> str:
    name = managed.clean_line(text, MAX_ROLE_NAME_LENGTH)
    if not name:
        raise BadValue(BLANK)
    return name


def _token(text: str) -> str:
    return managed.clean_line(text, managed.MAX_TOKEN_LENGTH)


# -- advertisers ---------------------------------------------------------------------------------


def advertiser(raw: object, roles: RoleCatalogue, id_from_path: str | None) -> AdvertiserSpec:
    """An advertiser object. The body's `id_from_network` takes precedence over the one in the
    URL, as the documents say; one of them is required. `users`, when given, replace the
    advertiser's users."""
    if not isinstance(raw, Mapping):
        raise InvalidNetworkInput([Problem((), NOT_OBJECT)])
    problems: list[Problem] = []
    id_from_network = _identifier(raw.get("id_from_network"), ("id_from_network",), problems)
    id_from_network = id_from_network or id_from_path
    if id_from_network is None and not any(p.path == ("id_from_network",) for p in problems):
        problems.append(Problem(("id_from_network",), BLANK))
    name = _text(raw.get("name"), ("name",), problems, _advertiser_name, required=True)
    status = _approval_status(raw.get("approval_status"), problems)
    sites = _sites(raw.get("sites"), problems)
    custom_data = _custom_data(raw.get("custom_data"), problems)
    listed: tuple[ManagedUserSpec, ...] | None = None
    if raw.get("users") is not None:
        try:
            listed = tuple(users(raw["users"], roles))
        except InvalidNetworkInput as error:
            problems += error.problems
    if problems:
        raise InvalidNetworkInput(problems)
    assert id_from_network is not None
    assert name is not None
    return AdvertiserSpec(id_from_network, name, status, sites, custom_data, listed)


def _advertiser_name(text: str) -> str:
    return managed.clean_required_line(text, managed.MAX_ADVERTISER_NAME_LENGTH)


def _approval_status(raw: object, problems: list[Problem]) -> ApprovalStatus:
    if raw is None:
        return ApprovalStatus.APPROVED
    if isinstance(raw, str) and raw in _APPROVAL_STATUSES:
        return ApprovalStatus(raw)
    allowed = ", ".join(s.value for s in ApprovalStatus)
    problems.append(Problem(("approval_status",), f"must be one of {allowed}"))
    return ApprovalStatus.APPROVED


def _sites(raw: object, problems: list[Problem]) -> tuple[Site, ...]:
    if raw is None or raw == []:
        problems.append(Problem(("sites",), BLANK))
        return ()
    if not isinstance(raw, list):
        problems.append(Problem(("sites",), NOT_LIST))
        return ()
    if len(raw) > managed.MAX_SITES:
        problems.append(Problem(("sites",), managed.at_most(managed.MAX_SITES, "sites")))
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
        name = _text(entry.get("name"), (*where, "name"), problems, _site_name)
        if any(s.id_from_network == site_id for s in sites):
            problems.append(Problem((*where, "id_from_network"), managed.LISTED_TWICE))
            continue
        sites.append(Site(site_id, name or None))
    return tuple(sites)


def _site_name(text: str) -> str:
    return managed.clean_line(text, managed.MAX_SITE_NAME_LENGTH)


def _custom_data(raw: object, problems: list[Problem]) -> dict[str, str] | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.append(Problem(("custom_data",), NOT_OBJECT))
        return None
    if len(raw) > managed.MAX_CUSTOM_DATA_KEYS:
        problems.append(
            Problem(("custom_data",), managed.at_most(managed.MAX_CUSTOM_DATA_KEYS, "keys"))
        )
        return None
    data: dict[str, str] = {}
    for key, value in raw.items():
        try:
            managed.check_custom_data_key(key)
        except BadValue as bad:
            problems.append(Problem(("custom_data",), bad.message, bad.code))
            continue
        where = ("custom_data", key)
        if value is None:
            problems.append(Problem(where, BLANK))
        elif _text(value, where, problems, _custom_value) is not None:
            data[key] = value  # as sent: custom data is kept verbatim
    return data


def _custom_value(text: str) -> str:
    return managed.clean_line(text, managed.MAX_CUSTOM_DATA_VALUE_LENGTH)


# -- fields --------------------------------------------------------------------------------------


def _identifier(raw: object, where: Path, problems: list[Problem]) -> str | None:
    """An id the network gives: a string (or a whole number, kept as its digits)."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    return _text(raw, where, problems, managed.clean_identifier)


def _text(
    raw: object, where: Path, problems: list[Problem], clean: Clean, *, required: bool = False
) -> str | None:
    """A string field, cleaned by the domain's rule for it (None when absent or wrong)."""
    if raw is None:
        if required:
            problems.append(Problem(where, BLANK))
        return None
    if not isinstance(raw, str):
        problems.append(Problem(where, NOT_TEXT))
        return None
    try:
        return clean(raw)
    except BadValue as bad:
        problems.append(Problem(where, bad.message, bad.code))
        return None
