"""audit filter indexes: an account's events about one target, or by one actor

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_audit_events_account_target",
        "audit_events",
        ["account_id", "target_id", "id"],
        unique=False,
    )
    op.create_index(
        "ix_audit_events_account_actor",
        "audit_events",
        ["account_id", "actor_id", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_audit_events_account_actor", table_name="audit_events")
    op.drop_index("ix_audit_events_account_target", table_name="audit_events")
