"""Credentials: API accounts (client credentials), API tokens and short-lived access tokens.

Only digests of secrets are ever kept; the secret itself is shown once, on creation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from tenantry.domain.errors import Conflict, ErrorCode, InvalidInput

ACCESS_TOKEN_TTL = timedelta(hours=10)  # CAPIG documents 10 hours (expires_in 36000)
_CLIENT_ID = re.compile(r"^[A-Za-z0-9]{1,20}$")

# Token prefixes make a leaked token recognisable (secret scanners) and tell kinds apart.
API_TOKEN_PREFIX = "tnt"
ACCESS_TOKEN_PREFIX = "tna"


MAX_OPEN_CREDENTIALS = 100
"""API accounts, and API tokens, that one account may have open (not revoked) at once."""
REVOKED_LISTED = 100
"""Revoked credentials a listing shows besides the open ones: the most recently revoked."""


def check_room_for_credential(open_now: int, kind: str) -> None:
    """Refuse a new credential (`kind`: "API accounts", "API tokens") to an account that has
    `open_now` open already, at the cap: its lists stay bounded, and so does the harm of a
    leaked maker's session."""
    if open_now >= MAX_OPEN_CREDENTIALS:
        raise Conflict(
            ErrorCode.CONFLICT,
            f"An account has at most {MAX_OPEN_CREDENTIALS} {kind} open at once: revoke one first.",
        )


def validate_client_id(value: str) -> str:
    if not _CLIENT_ID.fullmatch(value):
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            "An API account name has only letters and digits, with no spaces, and at most 20 "
            "characters.",
            field="client_id",
        )
    return value


@dataclass(slots=True)
class ApiAccount:
    id: int | None
    account_id: str
    client_id: str
    secret_hash: str
    role_key: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    minted_in_account_id: str | None = None
    """Where its maker's role was held, when that was a parent reaching down: the credential
    works only while that reach lasts."""


@dataclass(slots=True)
class ApiToken:
    """A long-lived token that acts as its user, in its account."""

    id: int | None
    key: str
    account_id: str
    user_id: str
    name: str
    secret_hash: str
    role_key: str
    """The most it may do: it acts with this role, never above its user's own."""
    created_by: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    minted_in_account_id: str | None = None
    """As `ApiAccount.minted_in_account_id`."""


@dataclass(slots=True)
class AccessToken:
    """A short-lived token issued to an API account by the client-credentials grant."""

    id: int | None
    key: str
    api_account_id: int
    secret_hash: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
