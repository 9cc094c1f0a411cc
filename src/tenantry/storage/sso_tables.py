"""Single sign-on's tables: each account's identity provider, the e-mail domains it serves,
and the sign-ins under way at a provider."""

from __future__ import annotations

import sqlalchemy as sa

from tenantry.storage.schema import ACCOUNT_ID, created_column, metadata
from tenantry.storage.types import UTCDateTime

sso_providers = sa.Table(
    "sso_providers",
    metadata,
    sa.Column(
        "account_id", ACCOUNT_ID, sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("issuer", sa.String(500), nullable=False),
    sa.Column("client_id", sa.String(255), nullable=False),
    # Encrypted under a key derived from the server's secret key; never read back to a face.
    sa.Column("client_secret", sa.Text, nullable=False),
    sa.Column("scopes", sa.JSON, nullable=False),
    sa.Column("jit_role_key", sa.String(64)),
    sa.Column("require_verified_email", sa.Boolean, nullable=False),
    created_column(),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

# One domain, one provider: the primary key says so across accounts.
sso_domains = sa.Table(
    "sso_domains",
    metadata,
    sa.Column("domain", sa.String(253), primary_key=True),
    sa.Column(
        "account_id",
        ACCOUNT_ID,
        sa.ForeignKey("sso_providers.account_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
)

sso_sign_ins = sa.Table(
    "sso_sign_ins",
    metadata,
    sa.Column("state_hash", sa.String(64), primary_key=True),
    sa.Column("binding_hash", sa.String(64), nullable=False),
    # No foreign key: a row lives minutes, and must not hold up deleting its account.
    sa.Column("account_id", ACCOUNT_ID, nullable=False),
    sa.Column("nonce", sa.String(64), nullable=False),
    sa.Column("code_verifier", sa.String(128), nullable=False),
    sa.Column("next_url", sa.String(500), nullable=False),
    sa.Column("email", sa.String(254)),  # the address typed; every row is written with it
    created_column(),
    sa.Column("expires_at", UTCDateTime(), nullable=False, index=True),
    sa.Column("used_at", UTCDateTime()),
)
