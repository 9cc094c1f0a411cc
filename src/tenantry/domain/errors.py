"""The one error model every face renders.

    DomainError
     ├── InvalidInput         bad values (field names the culprit)
     ├── NotFound             the target does not exist, or the actor may not know it does
     ├── Conflict             uniqueness and state conflicts
     ├── Forbidden            the actor may not do this
     ├── Unauthenticated      no or bad credentials
     └── Throttled            too many calls or failures

Each error carries a stable `ErrorCode`; faces map codes (or the class, as a fallback) to their
dialect once, in their own error module. Messages are the readable text a face may show as is.
Where the AppsFlyer document gives a message, the message is that text word for word.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    INVALID_INPUT = "invalid_input"
    INVALID_FIELD_SCHEME = "invalid_field_scheme"
    INVALID_EMAIL = "invalid_email"
    INVALID_USERNAME = "invalid_username"
    USERNAME_TOO_LONG = "username_too_long"
    UNKNOWN_ROLE = "unknown_role"
    UNKNOWN_APPS = "unknown_apps"
    FUTURE_APPS_NEED_ALL_APPS = "future_apps_need_all_apps"
    UNKNOWN_MEDIA_SOURCES = "unknown_media_sources"
    UNKNOWN_GEOS = "unknown_geos"
    UNRESTRICTED_ROLE_RESTRICTED = "unrestricted_role_restricted"
    ROLE_NOT_FOR_ACCOUNT_KIND = "role_not_for_account_kind"
    WEAK_PASSWORD = "weak_password"

    NOT_FOUND = "not_found"
    USER_NOT_FOUND = "user_not_found"
    ACCOUNT_NOT_FOUND = "account_not_found"
    ROLE_NOT_FOUND = "role_not_found"
    MEMBERSHIP_NOT_FOUND = "membership_not_found"

    CONFLICT = "conflict"
    ALREADY_MEMBER = "already_member"
    PENDING_ELSEWHERE = "pending_elsewhere"
    ADVERTISER_USER_TO_AGENCY = "advertiser_user_to_agency"
    AGENCY_USER_TO_ADVERTISER = "agency_user_to_advertiser"
    OTHER_ACCOUNT_SINGLE = "other_account_single"
    THIS_ACCOUNT_SINGLE = "this_account_single"
    OTHER_ACCOUNT_SSO = "other_account_sso"
    THIS_ACCOUNT_SSO = "this_account_sso"
    OTHER_ACCOUNT_2FA = "other_account_2fa"
    THIS_ACCOUNT_2FA = "this_account_2fa"
    OTHER_NETWORK_USER = "other_network_user"
    EMAIL_DOMAIN_NOT_ALLOWED = "email_domain_not_allowed"
    LAST_ADMIN = "last_admin"
    OWNER_PROTECTED = "owner_protected"
    SELF_DELETE = "self_delete"
    ID_TAKEN = "id_taken"
    ACCOUNT_HAS_CHILDREN = "account_has_children"

    FORBIDDEN = "forbidden"
    NETWORK_MANAGED_ONLY = "network_managed_only"
    ACCOUNT_DEACTIVATED = "account_deactivated"
    PARTNER_MANAGE_LOCKED = "partner_manage_locked"
    NOT_IDENTITY_OWNER = "not_identity_owner"
    SIGN_IN_TO_ACCEPT = "sign_in_to_accept"

    UNAUTHENTICATED = "unauthenticated"
    THROTTLED = "throttled"
    QUOTA_EXCEEDED = "quota_exceeded"


# The AppsFlyer document's texts, word for word, where it documents one; the rest in the same voice.
MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.INVALID_INPUT: "Invalid input.",
    ErrorCode.INVALID_FIELD_SCHEME: "Invalid field scheme.",
    ErrorCode.INVALID_EMAIL: "Invalid email address.",
    ErrorCode.INVALID_USERNAME: "Invalid characters were used in the username.",
    ErrorCode.USERNAME_TOO_LONG: "The username exceeded the 100-character limit.",
    ErrorCode.UNKNOWN_ROLE: "The role was either misspelled or doesn’t exist.",
    ErrorCode.UNKNOWN_APPS: (
        "One or more app IDs were either misspelled or don’t exist in your account."
    ),
    ErrorCode.FUTURE_APPS_NEED_ALL_APPS: (
        '"Allow access to all future apps" can be "true" only when there is access to all app IDs.'
    ),
    ErrorCode.UNKNOWN_MEDIA_SOURCES: (
        "One or more media sources were either misspelled or don’t exist."
    ),
    ErrorCode.UNKNOWN_GEOS: "One or more geos were either misspelled or don’t exist.",
    ErrorCode.UNRESTRICTED_ROLE_RESTRICTED: (
        "Admin and Security roles must have unrestricted access to apps, media sources, and "
        "geos. These fields must be empty."
    ),
    ErrorCode.ROLE_NOT_FOR_ACCOUNT_KIND: "This role can't be used in this kind of account.",
    ErrorCode.WEAK_PASSWORD: "The password is too weak.",
    ErrorCode.NOT_FOUND: "Not found.",
    ErrorCode.USER_NOT_FOUND: "The user doesn't exist.",
    ErrorCode.ACCOUNT_NOT_FOUND: "The account doesn't exist.",
    ErrorCode.ROLE_NOT_FOUND: "The role was either misspelled or doesn’t exist.",
    ErrorCode.MEMBERSHIP_NOT_FOUND: "The email doesn’t exist",
    ErrorCode.CONFLICT: "The request conflicts with the current state.",
    ErrorCode.ALREADY_MEMBER: "This user already exists in this account.",
    ErrorCode.PENDING_ELSEWHERE: (
        'This user can\'t be added because their status is "pending" in another account.'
    ),
    ErrorCode.ADVERTISER_USER_TO_AGENCY: (
        "A user from an advertiser account can't be added to agency or partner accounts."
    ),
    ErrorCode.AGENCY_USER_TO_ADVERTISER: (
        "A user from an agency or a partner account can't be added to an advertiser account."
    ),
    ErrorCode.OTHER_ACCOUNT_SINGLE: (
        "This user is in another account that doesn't currently support users in multiple accounts."
    ),
    ErrorCode.THIS_ACCOUNT_SINGLE: (
        "This account doesn't currently support adding users in multiple accounts."
    ),
    ErrorCode.OTHER_ACCOUNT_SSO: (
        "This user can't be added because they're in an account that uses SSO."
    ),
    ErrorCode.THIS_ACCOUNT_SSO: "This user can't be added because this account uses SSO.",
    ErrorCode.OTHER_ACCOUNT_2FA: (
        "This user can't be added because they're in an account that uses 2FA."
    ),
    ErrorCode.THIS_ACCOUNT_2FA: "This user can't be added because this account uses 2FA.",
    ErrorCode.OTHER_NETWORK_USER: (
        "This user can't be added because another network manages how they sign in."
    ),
    ErrorCode.EMAIL_DOMAIN_NOT_ALLOWED: (
        "This user can't be added because this account only accepts addresses in its allowed "
        "e-mail domains."
    ),
    ErrorCode.LAST_ADMIN: "The last admin of an account can't be removed or demoted.",
    ErrorCode.OWNER_PROTECTED: "Can’t delete account owner",
    ErrorCode.SELF_DELETE: "Can’t delete your own user",
    ErrorCode.ID_TAKEN: "This identifier is already in use.",
    ErrorCode.ACCOUNT_HAS_CHILDREN: "An account with child accounts can't be deleted.",
    ErrorCode.FORBIDDEN: "There was a problem with permissions for this account.",
    ErrorCode.NETWORK_MANAGED_ONLY: (
        "This user logs in directly; only users whose login the network manages can be "
        "changed here."
    ),
    ErrorCode.ACCOUNT_DEACTIVATED: (
        "This account is deactivated: its members and credentials can't act in it."
    ),
    ErrorCode.PARTNER_MANAGE_LOCKED: (
        "This account's own admins turned partner management off; only they can turn it on again."
    ),
    ErrorCode.NOT_IDENTITY_OWNER: (
        "Only the person, or an admin of the account that created this user while every "
        "account the user belongs to is within that admin's reach, can change this user's "
        "profile, address, password or second factor."
    ),
    ErrorCode.SIGN_IN_TO_ACCEPT: (
        "This address already has a login: sign in with it to accept the invitation."
    ),
    ErrorCode.UNAUTHENTICATED: "Missing or invalid credentials.",
    ErrorCode.THROTTLED: "Too many attempts. Try again later.",
    ErrorCode.QUOTA_EXCEEDED: "Exceeded the daily limit of API calls for this account.",
}


class DomainError(Exception):
    """Base of every error the core raises on purpose."""

    default_code = ErrorCode.INVALID_INPUT

    def __init__(
        self,
        code: ErrorCode | None = None,
        message: str | None = None,
        *,
        field: str | None = None,
        **details: Any,
    ) -> None:
        self.code = code or self.default_code
        self.message = message or MESSAGES[self.code]
        self.field = field
        self.details = details
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code.value!r}, {self.message!r}, field={self.field!r})"


class InvalidInput(DomainError):
    default_code = ErrorCode.INVALID_INPUT


class NotFound(DomainError):
    default_code = ErrorCode.NOT_FOUND


class Conflict(DomainError):
    default_code = ErrorCode.CONFLICT


class Forbidden(DomainError):
    default_code = ErrorCode.FORBIDDEN


class Unauthenticated(DomainError):
    default_code = ErrorCode.UNAUTHENTICATED


class Throttled(DomainError):
    default_code = ErrorCode.THROTTLED


# Which class each code belongs to, so a service can raise by code alone.
_CLASS_BY_PREFIX: tuple[tuple[type[DomainError], frozenset[ErrorCode]], ...] = (
    (
        NotFound,
        frozenset(
            {
                ErrorCode.NOT_FOUND,
                ErrorCode.USER_NOT_FOUND,
                ErrorCode.ACCOUNT_NOT_FOUND,
                ErrorCode.ROLE_NOT_FOUND,
                ErrorCode.MEMBERSHIP_NOT_FOUND,
            }
        ),
    ),
    (
        Conflict,
        frozenset(
            {
                ErrorCode.CONFLICT,
                ErrorCode.ALREADY_MEMBER,
                ErrorCode.PENDING_ELSEWHERE,
                ErrorCode.ADVERTISER_USER_TO_AGENCY,
                ErrorCode.AGENCY_USER_TO_ADVERTISER,
                ErrorCode.OTHER_ACCOUNT_SINGLE,
                ErrorCode.THIS_ACCOUNT_SINGLE,
                ErrorCode.OTHER_ACCOUNT_SSO,
                ErrorCode.THIS_ACCOUNT_SSO,
                ErrorCode.OTHER_ACCOUNT_2FA,
                ErrorCode.THIS_ACCOUNT_2FA,
                ErrorCode.OTHER_NETWORK_USER,
                ErrorCode.EMAIL_DOMAIN_NOT_ALLOWED,
                ErrorCode.LAST_ADMIN,
                ErrorCode.OWNER_PROTECTED,
                ErrorCode.SELF_DELETE,
                ErrorCode.ID_TAKEN,
                ErrorCode.ACCOUNT_HAS_CHILDREN,
            }
        ),
    ),
    (
        Forbidden,
        frozenset(
            {
                ErrorCode.FORBIDDEN,
                ErrorCode.NETWORK_MANAGED_ONLY,
                ErrorCode.ACCOUNT_DEACTIVATED,
                ErrorCode.PARTNER_MANAGE_LOCKED,
                ErrorCode.NOT_IDENTITY_OWNER,
                ErrorCode.SIGN_IN_TO_ACCEPT,
            }
        ),
    ),
    (Unauthenticated, frozenset({ErrorCode.UNAUTHENTICATED})),
    (Throttled, frozenset({ErrorCode.THROTTLED, ErrorCode.QUOTA_EXCEEDED})),
)


def error_for(code: ErrorCode, message: str | None = None, **kwargs: Any) -> DomainError:
    """Build the error of the right class for `code`."""
    for cls, codes in _CLASS_BY_PREFIX:
        if code in codes:
            return cls(code, message, **kwargs)
    return InvalidInput(code, message, **kwargs)
