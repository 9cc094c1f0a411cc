"""Signing in: sessions, password resets, TOTP second factors (RFC 6238) and recovery codes.

Only digests of session secrets, reset tokens and recovery codes are kept. The TOTP shared
secret must be readable to check codes, so it is the one secret stored as it is.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import struct
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import quote, urlencode

from tenantry.domain.ids import hash_secret

SESSION_LIFETIME = timedelta(hours=12)
"""A session ends this long after sign-in, however active it is."""
SESSION_IDLE_TIMEOUT = timedelta(hours=2)
"""A session unused this long ends."""
PENDING_SESSION_LIFETIME = timedelta(minutes=10)
"""Between the password and the second factor: time to open the authenticator app."""
SESSION_TOUCH_INTERVAL = timedelta(minutes=1)
"""`last_seen_at` is written at most this often, so reads do not all turn into writes."""

PASSWORD_RESET_LIFETIME = timedelta(hours=1)

TOTP_DIGITS = 6
TOTP_PERIOD_SECONDS = 30
TOTP_DRIFT_STEPS = 1
"""Codes of the step before and after the current one are accepted (clock drift)."""
RECOVERY_CODE_COUNT = 10

SESSION_COOKIE_SEPARATOR = "."
_SESSION_PART = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
_RECOVERY_GROUPS, _RECOVERY_GROUP_LENGTH = 4, 4


class SessionStage(StrEnum):
    """How far a session has got: signed in, or waiting for the second factor."""

    COMPLETE = "complete"
    CHALLENGE = "challenge"
    """The password was right; a code from the enrolled authenticator is due."""
    ENROL = "enrol"
    """The password was right; an account requires two-factor sign-in and none is set up."""


@dataclass(slots=True)
class Session:
    id: int | None
    key: str
    secret_hash: str
    user_id: str
    csrf_token: str
    second_factor_done: bool
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    source: str = ""
    user_agent: str = ""
    single_sign_on: bool = False
    """Opened through an identity provider: it holds for a user without a password here."""

    def is_live(self, now: datetime) -> bool:
        return (
            self.revoked_at is None
            and now < self.expires_at
            and now < self.last_seen_at + SESSION_IDLE_TIMEOUT
        )


@dataclass(slots=True)
class PasswordReset:
    id: int | None
    user_id: str
    token_hash: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    delivered: bool | None = None
    shown: bool = False
    """Handed to an operator instead of mailed: using it proves nothing about the address."""

    def is_usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at


@dataclass(slots=True)
class SecondFactor:
    user_id: str
    totp_secret: str
    confirmed_at: datetime | None
    last_used_step: int | None
    created_at: datetime


# -- session cookies ---------------------------------------------------------------------------


def new_session_credentials() -> tuple[str, str, str]:
    """(cookie value `<key>.<secret>`, key, digest of the secret)."""
    key = secrets.token_hex(16)
    secret = secrets.token_urlsafe(32)
    return f"{key}{SESSION_COOKIE_SEPARATOR}{secret}", key, hash_secret(secret)


def split_session_cookie(value: str) -> tuple[str, str] | None:
    """(key, secret) of a session cookie; None when its shape is wrong."""
    key, sep, secret = value.partition(SESSION_COOKIE_SEPARATOR)
    if not sep or not _SESSION_PART.match(key) or not _SESSION_PART.match(secret):
        return None
    return key, secret


# -- TOTP (RFC 6238 over RFC 4226) -------------------------------------------------------------


def new_totp_secret() -> str:
    """A 160-bit shared secret in base32 without padding, as authenticator apps take it."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def totp_step(at: datetime) -> int:
    return int(at.timestamp()) // TOTP_PERIOD_SECONDS


def totp_code(secret: str, step: int) -> str:
    """The code of `step` (HMAC-SHA1, dynamic truncation, six digits)."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**TOTP_DIGITS).zfill(TOTP_DIGITS)


def matching_step(secret: str, code: str, at: datetime, last_used_step: int | None) -> int | None:
    """The step whose code `code` is, within the drift allowed around `at` and later than
    `last_used_step` (a code works once); None when there is none."""
    digits = normalize_totp_code(code)
    if digits is None:
        return None
    now_step = totp_step(at)
    found = None
    for step in range(now_step - TOTP_DRIFT_STEPS, now_step + TOTP_DRIFT_STEPS + 1):
        # Compare every candidate, so the time taken does not tell which one matched.
        if hmac.compare_digest(totp_code(secret, step), digits) and found is None:
            found = step
    if found is None or (last_used_step is not None and found <= last_used_step):
        return None
    return found


def normalize_totp_code(code: str) -> str | None:
    digits = "".join(code.split())
    if len(digits) != TOTP_DIGITS or not digits.isascii() or not digits.isdigit():
        return None
    return digits


def provisioning_uri(secret: str, account_name: str, issuer: str) -> str:
    """The `otpauth://` URI authenticator apps read from the QR code."""
    label = quote(f"{issuer}:{account_name}", safe="@:")
    query = urlencode(
        {
            "secret": secret,
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": TOTP_DIGITS,
            "period": TOTP_PERIOD_SECONDS,
        }
    )
    return f"otpauth://totp/{label}?{query}"


# -- recovery codes ----------------------------------------------------------------------------


def new_recovery_code() -> str:
    """`xxxx-xxxx-xxxx-xxxx` over an alphabet without look-alikes: about 78 bits."""
    groups = (
        "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_GROUP_LENGTH))
        for _ in range(_RECOVERY_GROUPS)
    )
    return "-".join(groups)


def normalize_recovery_code(code: str) -> str | None:
    """The canonical form of a typed recovery code (any case, with or without dashes and
    spaces); None when it cannot be one."""
    letters = "".join(ch for ch in code.lower() if ch not in " -")
    if len(letters) != _RECOVERY_GROUPS * _RECOVERY_GROUP_LENGTH or any(
        ch not in _RECOVERY_ALPHABET for ch in letters
    ):
        return None
    size = _RECOVERY_GROUP_LENGTH
    return "-".join(letters[i : i + size] for i in range(0, len(letters), size))


def recovery_code_hash(user_id: str, code: str) -> str:
    """The stored digest of a (normalized) recovery code, salted with its user's id."""
    return hash_secret(f"{user_id}:{code}")
