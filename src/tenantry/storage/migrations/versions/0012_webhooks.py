"""webhooks: endpoints, their deliveries as outbox entries in lanes, recorded expiries

Revision ID: 0012
Revises: 0014 (written beside 0013 and 0014, it lands after them)
Create Date: 2026-12-10 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tenantry.storage.types

revision: str = "0012"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=8), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("include_children", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column(
            "secret_set_at", tenantry.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("created_at", tenantry.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_webhook_endpoints_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
    )
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_endpoints_account_id"), ["account_id"], unique=False
        )

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lane", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("endpoint_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("last_status_code", sa.SmallInteger(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_endpoint_id_webhook_endpoints"),
            "webhook_endpoints",
            ["endpoint_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index("ix_outbox_lane", ["lane", "id"], unique=False)
        batch_op.create_index("ix_outbox_endpoint_id", ["endpoint_id", "id"], unique=False)

    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "expiry_recorded_at",
                tenantry.storage.types.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.create_index("ix_invitations_expires_at", ["expires_at"], unique=False)
    # Invitations that expired before this release are not news: only later expiries are
    # recorded (and so become `invitation.expired` events).
    invitations = sa.table(
        "invitations",
        sa.column("expires_at", tenantry.storage.types.UTCDateTime(timezone=True)),
        sa.column("expiry_recorded_at", tenantry.storage.types.UTCDateTime(timezone=True)),
    )
    op.execute(
        invitations.update()
        .where(invitations.c.expires_at <= sa.func.current_timestamp())
        .values(expiry_recorded_at=invitations.c.expires_at)
    )


def downgrade() -> None:
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index("ix_invitations_expires_at")
        batch_op.drop_column("expiry_recorded_at")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_endpoint_id")
        batch_op.drop_index("ix_outbox_lane")
        batch_op.drop_constraint(
            batch_op.f("fk_outbox_endpoint_id_webhook_endpoints"), type_="foreignkey"
        )
        batch_op.drop_column("last_status_code")
        batch_op.drop_column("endpoint_id")
        batch_op.drop_column("lane")
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_endpoints_account_id"))
    op.drop_table("webhook_endpoints")
