"""Passkeys (WebAuthn credentials) as a second factor beside TOTP.

A passkey is a key pair an authenticator (a phone, a security key, the computer's own) made
for this site: tenantry keeps the public key and checks signatures over a challenge it issued.
Challenges are kept server-side, bound to the session that asked for them, live minutes and
work once. The relying party is the deployment's own host, from its base URL.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from tenantry.domain.errors import ErrorCode, InvalidInput

CHALLENGE_LIFETIME = timedelta(minutes=5)
"""Time to pick a passkey and touch it; a page left open longer asks again with a fresh one."""
MAX_PASSKEYS = 10
"""Per person: plenty for every device they use, and a bound on what one session can add."""
MAX_NAME_CHARS = 60
MAX_CREDENTIAL_ID_CHARS = 1400
"""Base64url of the 1,023 bytes WebAuthn allows a credential id, with room to spare."""
RELYING_PARTY_NAME = "tenantry"


class ChallengePurpose(StrEnum):
    REGISTER = "register"
    SIGN_IN = "sign_in"


class CeremonyFailed(Exception):
    """The browser's answer to a passkey ceremony does not prove what it should."""


@dataclass(slots=True)
class Passkey:
    id: int | None
    user_id: str
    credential_id: str
    """Base64url, as the browser names the credential."""
    public_key: bytes
    """The COSE public key the authenticator gave at registration."""
    sign_count: int
    name: str
    transports: list[str] = field(default_factory=list)
    created_at: datetime | None = None
    last_used_at: datetime | None = None


@dataclass(slots=True)
class PasskeyChallenge:
    session_key: str
    purpose: ChallengePurpose
    challenge: str
    """Base64url of the random bytes the authenticator signs over."""
    expires_at: datetime

    def is_live(self, now: datetime) -> bool:
        return now < self.expires_at


@dataclass(frozen=True, slots=True)
class RelyingParty:
    """Who the passkeys are for: the host people reach (`id`) and the origin pages come from."""

    id: str
    origin: str
    name: str = RELYING_PARTY_NAME


def relying_party(base_url: str) -> RelyingParty | None:
    """The relying party of a deployment reached at `base_url`; None when its host is an IP
    address, which browsers refuse as a passkey's site (a host name, `localhost` included,
    is needed)."""
    parts = urlsplit(base_url.strip())
    host = (parts.hostname or "").lower()
    if not host or parts.scheme.lower() not in ("http", "https"):
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return RelyingParty(id=host, origin=f"{parts.scheme.lower()}://{parts.netloc.lower()}")
    return None


def normalize_passkey_name(name: str) -> str:
    """A passkey's name as shown in the list: trimmed, printable, at most 60 characters."""
    # Whitespace of any kind (tabs, new lines) becomes one space; other control characters go.
    words = ("".join(ch for ch in word if ch.isprintable()) for word in name.split())
    cleaned = " ".join(word for word in words if word)
    if not cleaned:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            "Give the passkey a name, such as the device it is on.",
            field="name",
        )
    if len(cleaned) > MAX_NAME_CHARS:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            f"A passkey's name has at most {MAX_NAME_CHARS} characters.",
            field="name",
        )
    return cleaned
