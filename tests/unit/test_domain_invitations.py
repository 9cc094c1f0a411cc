"""Invitation status, accounts' own rules and the error model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tenantry.domain.accounts import (
    Account,
    AccountKind,
    AccountStatus,
    check_parent,
    parse_status,
    validate_account_name,
)
from tenantry.domain.errors import (
    MESSAGES,
    Conflict,
    DomainError,
    ErrorCode,
    Forbidden,
    InvalidInput,
    NotFound,
    Throttled,
    Unauthenticated,
    error_for,
)
from tenantry.domain.invitations import Invitation, InvitationStatus

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def invitation(**changes: object) -> Invitation:
    values: dict[str, object] = {
        "id": 1,
        "email": "dan@example.com",
        "user_id": "u1",
        "account_id": "acc1",
        "role_key": "marketing",
        "token_hash": "0" * 64,
        "expires_at": NOW + timedelta(days=7),
        "invited_by": "admin@example.com",
        "created_at": NOW,
    }
    values.update(changes)
    return Invitation(**values)  # type: ignore[arg-type]


def test_new_invitation_is_pending_until_it_expires() -> None:
    inv = invitation()
    assert inv.status(NOW) is InvitationStatus.PENDING
    assert inv.status(inv.expires_at - timedelta(microseconds=1)) is InvitationStatus.PENDING
    assert inv.status(inv.expires_at) is InvitationStatus.EXPIRED
    assert inv.status(inv.expires_at + timedelta(days=1)) is InvitationStatus.EXPIRED


def test_revoked_invitation() -> None:
    assert invitation(revoked_at=NOW).status(NOW) is InvitationStatus.REVOKED


def test_accepted_wins_over_revoked_and_expired() -> None:
    inv = invitation(accepted_at=NOW, revoked_at=NOW)
    assert inv.status(NOW + timedelta(days=30)) is InvitationStatus.ACCEPTED


def test_revoked_wins_over_expired() -> None:
    inv = invitation(revoked_at=NOW)
    assert inv.status(NOW + timedelta(days=30)) is InvitationStatus.REVOKED


# -- accounts ----------------------------------------------------------------------------------


def _account(kind: AccountKind) -> Account:
    return Account(id="acc00001", name="Parent", kind=kind)


@pytest.mark.parametrize(
    ("kind", "parent_kind"),
    [
        (AccountKind.PARTNER, None),
        (AccountKind.AGENCY, None),
        (AccountKind.ADVERTISER, None),
        (AccountKind.AGENCY, AccountKind.PARTNER),
        (AccountKind.ADVERTISER, AccountKind.PARTNER),
        (AccountKind.ADVERTISER, AccountKind.AGENCY),
    ],
)
def test_allowed_parents(kind: AccountKind, parent_kind: AccountKind | None) -> None:
    check_parent(kind, None if parent_kind is None else _account(parent_kind))


@pytest.mark.parametrize(
    ("kind", "parent_kind"),
    [
        (AccountKind.ADVERTISER, AccountKind.ADVERTISER),
        (AccountKind.AGENCY, AccountKind.ADVERTISER),
        (AccountKind.PARTNER, AccountKind.PARTNER),
        (AccountKind.PARTNER, AccountKind.AGENCY),
        (AccountKind.AGENCY, AccountKind.AGENCY),
    ],
)
def test_refused_parents(kind: AccountKind, parent_kind: AccountKind) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_parent(kind, _account(parent_kind))
    assert caught.value.field == "parent"


def test_account_names_are_cleaned_and_bounded() -> None:
    assert validate_account_name("  Acme   Mobile \t Inc ") == "Acme Mobile Inc"
    assert validate_account_name("x" * 200) == "x" * 200
    for bad in ("", "   ", "x" * 201):
        with pytest.raises(InvalidInput):
            validate_account_name(bad)


def test_account_status_numbers() -> None:
    assert parse_status(0) is AccountStatus.ACTIVE
    assert parse_status(1) is AccountStatus.PENDING_CONFIGURATION
    assert parse_status(2) is AccountStatus.DEACTIVATED
    with pytest.raises(InvalidInput):
        parse_status(3)


def test_host_like_kinds() -> None:
    assert AccountKind.PARTNER.is_host_like
    assert AccountKind.AGENCY.is_host_like
    assert not AccountKind.ADVERTISER.is_host_like


# -- the error model ---------------------------------------------------------------------------


def test_every_code_has_a_message() -> None:
    assert set(MESSAGES) == set(ErrorCode)
    assert all(message.strip() for message in MESSAGES.values())


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (ErrorCode.INVALID_EMAIL, InvalidInput),
        (ErrorCode.UNKNOWN_GEOS, InvalidInput),
        (ErrorCode.USER_NOT_FOUND, NotFound),
        (ErrorCode.MEMBERSHIP_NOT_FOUND, NotFound),
        (ErrorCode.ALREADY_MEMBER, Conflict),
        (ErrorCode.THIS_ACCOUNT_2FA, Conflict),
        (ErrorCode.LAST_ADMIN, Conflict),
        (ErrorCode.FORBIDDEN, Forbidden),
        (ErrorCode.NETWORK_MANAGED_ONLY, Forbidden),
        (ErrorCode.UNAUTHENTICATED, Unauthenticated),
        (ErrorCode.QUOTA_EXCEEDED, Throttled),
    ],
)
def test_error_for_picks_the_class_of_the_code(code: ErrorCode, cls: type[DomainError]) -> None:
    error = error_for(code, field="x")
    assert type(error) is cls
    assert error.code is code
    assert error.message == MESSAGES[code]
    assert error.field == "x"


def test_an_explicit_message_replaces_the_default() -> None:
    error = Conflict(ErrorCode.CONFLICT, "custom text", field="f", extra=1)
    assert str(error) == "custom text"
    assert error.details == {"extra": 1}
    assert "custom text" in repr(error)


@pytest.mark.parametrize(
    ("code", "seed_text"),
    [
        (ErrorCode.INVALID_EMAIL, "Invalid email address."),
        (ErrorCode.ALREADY_MEMBER, "This user already exists in this account."),
        (ErrorCode.INVALID_USERNAME, "Invalid characters were used in the username."),
        (ErrorCode.USERNAME_TOO_LONG, "The username exceeded the 100-character limit."),
        (ErrorCode.UNKNOWN_ROLE, "The role was either misspelled or doesn\u2019t exist."),
        (
            ErrorCode.UNKNOWN_APPS,
            "One or more app IDs were either misspelled or don\u2019t exist in your account.",
        ),
        (
            ErrorCode.UNKNOWN_MEDIA_SOURCES,
            "One or more media sources were either misspelled or don\u2019t exist.",
        ),
        (ErrorCode.UNKNOWN_GEOS, "One or more geos were either misspelled or don\u2019t exist."),
        (ErrorCode.INVALID_FIELD_SCHEME, "Invalid field scheme."),
        (ErrorCode.FORBIDDEN, "There was a problem with permissions for this account."),
        (ErrorCode.MEMBERSHIP_NOT_FOUND, "The email doesn\u2019t exist"),
        (ErrorCode.OWNER_PROTECTED, "Can\u2019t delete account owner"),
        (ErrorCode.SELF_DELETE, "Can\u2019t delete your own user"),
    ],
)
def test_seed_002_texts_word_for_word(code: ErrorCode, seed_text: str) -> None:
    assert MESSAGES[code] == seed_text
