"""pixels, traffic, signal filters and ingress domains

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 09:07:33.931143
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tenantry.storage.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "ingress_domains",
        sa.Column("account_id", sa.String(length=8), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("ingress", sa.String(length=253), nullable=False),
        sa.Column("target_domain", sa.String(length=253), nullable=False),
        sa.Column("cname_resolve_success", sa.Boolean(), nullable=False),
        sa.Column("updated_at", tenantry.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_ingress_domains_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_ingress_domains")),
        sa.UniqueConstraint("id", name=op.f("uq_ingress_domains_id")),
    )
    op.create_table(
        "pixels",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=8), nullable=False),
        sa.Column("pixel_id", sa.String(length=32), nullable=False),
        sa.Column("business_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("api_version", sa.String(length=16), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("events_enabled", sa.Boolean(), nullable=False),
        sa.Column("capi_publish_enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", tenantry.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_pixels_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pixels")),
        sa.UniqueConstraint("account_id", "pixel_id", name=op.f("uq_pixels_account_id_pixel_id")),
    )
    with op.batch_alter_table("pixels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pixels_account_id"), ["account_id"], unique=False)

    op.create_table(
        "signal_filters",
        sa.Column("account_id", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=253), nullable=False),
        sa.Column("pixel_ids", sa.JSON(), nullable=True),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("updated_at", tenantry.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind in ('event', 'domain')", name=op.f("ck_signal_filters_kind")),
        sa.CheckConstraint("state in ('PUBLISH', 'DROP')", name=op.f("ck_signal_filters_state")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_signal_filters_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "kind", "value", name=op.f("pk_signal_filters")),
    )
    op.create_table(
        "pixel_traffic",
        sa.Column("pixel_ref", sa.String(length=36), nullable=False),
        sa.Column(
            "bucket_start", tenantry.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("account_id", sa.String(length=8), nullable=False),
        sa.Column("events_received", sa.BigInteger(), nullable=False),
        sa.Column("events_published", sa.BigInteger(), nullable=False),
        sa.Column("publish_errors", sa.BigInteger(), nullable=False),
        sa.Column("last_error_code", sa.String(length=32), nullable=True),
        sa.Column("updated_at", tenantry.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pixel_ref"],
            ["pixels.id"],
            name=op.f("fk_pixel_traffic_pixel_ref_pixels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pixel_ref", "bucket_start", name=op.f("pk_pixel_traffic")),
    )
    with op.batch_alter_table("pixel_traffic", schema=None) as batch_op:
        batch_op.create_index(
            "ix_pixel_traffic_account_bucket", ["account_id", "bucket_start"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("pixel_traffic", schema=None) as batch_op:
        batch_op.drop_index("ix_pixel_traffic_account_bucket")

    op.drop_table("pixel_traffic")
    op.drop_table("signal_filters")
    with op.batch_alter_table("pixels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pixels_account_id"))

    op.drop_table("pixels")
    op.drop_table("ingress_domains")
