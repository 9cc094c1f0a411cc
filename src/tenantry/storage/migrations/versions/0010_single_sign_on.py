"""single sign-on: identity providers per account, their domains, sign-ins under way

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-02 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tenantry.storage.types import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sso_providers",
        sa.Column("account_id", sa.String(8), nullable=False),
        sa.Column("issuer", sa.String(500), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("client_secret", sa.Text(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("jit_role_key", sa.String(64), nullable=True),
        sa.Column("require_verified_email", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_sso_providers_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_sso_providers")),
    )
    op.create_table(
        "sso_domains",
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("account_id", sa.String(8), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["sso_providers.account_id"],
            name=op.f("fk_sso_domains_account_id_sso_providers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("domain", name=op.f("pk_sso_domains")),
    )
    op.create_index(op.f("ix_sso_domains_account_id"), "sso_domains", ["account_id"])
    op.create_table(
        "sso_sign_ins",
        sa.Column("state_hash", sa.String(64), nullable=False),
        sa.Column("binding_hash", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(8), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("next_url", sa.String(500), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_sso_sign_ins")),
    )
    op.create_index(op.f("ix_sso_sign_ins_expires_at"), "sso_sign_ins", ["expires_at"])
    # Expand only: a process of the previous release never writes it, and gets the default.
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(
            sa.Column("single_sign_on", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("single_sign_on")
    op.drop_index(op.f("ix_sso_sign_ins_expires_at"), table_name="sso_sign_ins")
    op.drop_table("sso_sign_ins")
    op.drop_index(op.f("ix_sso_domains_account_id"), table_name="sso_domains")
    op.drop_table("sso_domains")
    op.drop_table("sso_providers")
