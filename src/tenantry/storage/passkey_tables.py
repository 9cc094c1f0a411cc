"""Passkeys (WebAuthn credentials), a second factor beside TOTP, and the challenges sessions
are given to sign."""

from __future__ import annotations

import sqlalchemy as sa

from tenantry.storage.schema import USER_ID, created_column, metadata
from tenantry.storage.types import UTCDateTime

# Passkeys (WebAuthn credentials), a second factor beside TOTP: only public keys are kept.
passkeys = sa.Table(
    "passkeys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "user_id",
        USER_ID,
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    # Base64url, as browsers name it; one credential belongs to one person.
    sa.Column("credential_id", sa.String(1400), nullable=False, unique=True),
    sa.Column("public_key", sa.LargeBinary, nullable=False),
    # The authenticator's signature counter (unsigned 32 bits): it only moves forward.
    sa.Column("sign_count", sa.BigInteger, nullable=False),
    sa.Column("name", sa.String(60), nullable=False),
    sa.Column("transports", sa.JSON, nullable=False),
    created_column(),
    sa.Column("last_used_at", UTCDateTime()),
)

# A challenge a session was given to sign, for registering a passkey or signing in with one:
# one per session and purpose, deleted as it is used, gone with its session.
passkey_challenges = sa.Table(
    "passkey_challenges",
    metadata,
    sa.Column(
        "session_key",
        sa.String(32),
        sa.ForeignKey("sessions.key", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("purpose", sa.String(16), primary_key=True),
    sa.Column("challenge", sa.String(128), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
)
