"""account security policy: SSO required, allowed e-mail domains, session lifetime

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 18:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Added beside `sso_enabled`, with defaults: a process of the previous release keeps
    # reading and writing accounts on the migrated schema (expand, never contract).
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(
            sa.Column("sso_required", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("allowed_email_domains", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("session_lifetime_minutes", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("session_lifetime_minutes")
        batch.drop_column("allowed_email_domains")
        batch.drop_column("sso_required")
