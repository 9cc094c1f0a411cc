"""Identifiers and secrets: public account ids, user ids, opaque tokens."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
import uuid

BASE62 = string.ascii_letters + string.digits
ACCOUNT_ID_LENGTH = 8
_ACCOUNT_ID = re.compile(rf"^[A-Za-z0-9]{{{ACCOUNT_ID_LENGTH}}}$")


def new_account_id() -> str:
    """A public 8-character base62 id, as the GraphQL samples show (`wW58k7FQ`)."""
    return "".join(secrets.choice(BASE62) for _ in range(ACCOUNT_ID_LENGTH))


def is_account_id(value: str) -> bool:
    return bool(_ACCOUNT_ID.fullmatch(value))


def new_user_id() -> str:
    """Users are identified by UUIDs, as in the GraphQL samples."""
    return str(uuid.uuid4())


def is_user_id(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def new_secret(nbytes: int = 32) -> str:
    """A URL-safe random secret."""
    return secrets.token_urlsafe(nbytes)


def hash_secret(secret: str) -> str:
    """Digest of a high-entropy generated secret.

    Generated secrets carry 128+ bits of entropy, so a fast digest is as safe as a slow one and
    keeps token checks on the hot path cheap; human passwords use Argon2 instead.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented secret with its stored digest."""
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def split_token(token: str, prefix: str) -> tuple[str, str] | None:
    """Split `<prefix>_<key>_<secret>` into (key, secret); None when the shape is wrong."""
    if not token.startswith(prefix + "_"):
        return None
    rest = token[len(prefix) + 1 :]
    key, sep, secret = rest.partition("_")
    if not sep or not key or not secret or len(token) > 512:
        return None
    return key, secret


def new_token(prefix: str) -> tuple[str, str, str]:
    """A new token `<prefix>_<key>_<secret>`: returns (token, key, secret digest).

    The key is a public lookup handle (indexed); only the secret's digest is stored.
    """
    key = secrets.token_hex(8)
    # No underscores in the secret part, so the token splits unambiguously.
    secret = secrets.token_urlsafe(32).replace("_", "A")
    return f"{prefix}_{key}_{secret}", key, hash_secret(secret)
