"""Client secrets of identity providers, encrypted at rest.

They must be sent to the provider, so they cannot be hashed: they are encrypted (Fernet:
AES-128-CBC with an HMAC-SHA256 tag) under a key derived with HKDF from the server's secret
key (`TENANTRY_SECRET_KEY`), so a copy of the database alone does not give them away.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tenantry.domain.errors import ErrorCode, InvalidInput
from tenantry.settings import Settings

MISSING_KEY_MESSAGE = (
    "Single sign-on needs the server's secret key (TENANTRY_SECRET_KEY, 32 or more characters) "
    "to keep client secrets encrypted."
)


class SecretUnreadable(Exception):
    """The stored secret was encrypted under another key."""


def _fernet(settings: Settings) -> Fernet:
    key = settings.secret_key.get_secret_value().encode() if settings.secret_key else b""
    if len(key) < 32:
        raise InvalidInput(ErrorCode.INVALID_INPUT, MISSING_KEY_MESSAGE, field="clientSecret")
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"tenantry sso client secret"
    ).derive(key)
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(settings: Settings, secret: str) -> str:
    return _fernet(settings).encrypt(secret.encode()).decode()


def unseal(settings: Settings, sealed: str) -> str:
    try:
        return _fernet(settings).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable from None
