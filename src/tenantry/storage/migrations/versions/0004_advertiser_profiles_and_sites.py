"""advertiser profiles and sites

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 09:50:21.575412
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # What the network integration keeps about an advertiser beyond its account.
    op.create_table(
        "advertiser_profiles",
        sa.Column("account_id", sa.String(length=8), nullable=False),
        sa.Column("approval_status", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "approval_status in ('Applied', 'Approved', 'Declined', 'Suspended', 'Archived')",
            name=op.f("ck_advertiser_profiles_approval_status"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_advertiser_profiles_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_advertiser_profiles")),
    )
    op.create_table(
        "advertiser_sites",
        sa.Column("account_id", sa.String(length=8), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("id_from_network", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_advertiser_sites_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "position", name=op.f("pk_advertiser_sites")),
        sa.UniqueConstraint(
            "account_id",
            "id_from_network",
            name=op.f("uq_advertiser_sites_account_id_id_from_network"),
        ),
    )


def downgrade() -> None:
    op.drop_table("advertiser_sites")
    op.drop_table("advertiser_profiles")
