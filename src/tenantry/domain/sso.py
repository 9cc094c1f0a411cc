"""Single sign-on: an account's identity provider (OpenID Connect), and a sign-in under way.

An account may name one identity provider, and the e-mail domains it serves; a domain is
served by one provider at most, so an address leads to one place. The client secret is kept
encrypted (never hashed: it must be sent to the provider) and never shown again.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from tenantry.domain.errors import ErrorCode, InvalidInput

SIGN_IN_LIFETIME = timedelta(minutes=10)
"""How long a person has at the identity provider before coming back."""
DEFAULT_SCOPES = ("openid", "email", "profile")
MAX_DOMAINS = 50
MAX_ISSUER_LENGTH = 500
MAX_CLIENT_ID_LENGTH = 255
MAX_SECRET_LENGTH = 1000
_DOMAIN = re.compile(r"(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z0-9-]{2,63}")
_SCOPE = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,64}")
_LOOPBACK_HOSTS = ("localhost",)


@dataclass(slots=True)
class IdentityProvider:
    """An account's OpenID Connect provider; `client_secret` is the stored (encrypted) form."""

    account_id: str
    issuer: str
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]
    domains: tuple[str, ...]
    jit_role_key: str | None
    require_verified_email: bool
    created_at: datetime
    updated_at: datetime

    def serves(self, email: str) -> bool:
        return email_domain(email) in self.domains


@dataclass(slots=True)
class PendingSignIn:
    """A person sent to a provider: what the answer must match (`state`, kept as a digest),
    bound to the browser that was sent (`binding_hash`), usable once."""

    state_hash: str
    binding_hash: str
    account_id: str
    nonce: str
    code_verifier: str
    next_url: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    def is_usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


def validate_issuer(raw: str) -> str:
    """An https URL (http only on this machine's loopback, for development), without query
    or fragment; kept without a trailing slash, as providers usually name themselves."""
    issuer = raw.strip()
    parts = urlsplit(issuer)
    secure = parts.scheme == "https" or (parts.scheme == "http" and _loopback(parts.hostname))
    if (
        not issuer
        or len(issuer) > MAX_ISSUER_LENGTH
        or not secure
        or not parts.hostname
        or parts.query
        or parts.fragment
        or parts.username
        or not issuer.isprintable()
    ):
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            "The issuer must be an https URL (http only for a provider on this machine).",
            field="issuer",
        )
    return issuer.rstrip("/")


def _loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host in _LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_client_id(raw: str) -> str:
    value = raw.strip()
    if not value or len(value) > MAX_CLIENT_ID_LENGTH or not value.isprintable():
        raise InvalidInput(
            ErrorCode.INVALID_INPUT, "The client id can't be blank.", field="clientId"
        )
    return value


def validate_client_secret(raw: str) -> str:
    if not raw or len(raw) > MAX_SECRET_LENGTH or not raw.isprintable():
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            f"The client secret must have 1 to {MAX_SECRET_LENGTH} printable characters.",
            field="clientSecret",
        )
    return raw


def validate_domains(raw: Iterable[str]) -> tuple[str, ...]:
    domains = tuple(dict.fromkeys(d.strip().lower() for d in raw if d.strip()))
    if not domains:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT, "Name at least one e-mail domain.", field="domains"
        )
    if len(domains) > MAX_DOMAINS:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT, f"At most {MAX_DOMAINS} domains.", field="domains"
        )
    bad = [d for d in domains if len(d) > 253 or not _DOMAIN.fullmatch(d)]
    if bad:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            f"Not an e-mail domain: {', '.join(bad[:5])}.",
            field="domains",
        )
    return domains


def validate_scopes(raw: Iterable[str] | None) -> tuple[str, ...]:
    if raw is None:
        return DEFAULT_SCOPES
    scopes = tuple(dict.fromkeys(s.strip() for s in raw if s.strip()))
    if any(not _SCOPE.fullmatch(s) for s in scopes) or len(scopes) > 20:
        raise InvalidInput(ErrorCode.INVALID_INPUT, "Invalid scopes.", field="scopes")
    # The e-mail address is what a person is known by here: both are always asked for.
    return tuple(dict.fromkeys(("openid", "email", *scopes)))
