"""sso sign-in address: a sign-in under way keeps the address typed, which the provider must
sign in

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-02 20:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "sso_sign_ins",
        # Nullable, no default: rows are short-lived sign-in state, each written with it.
        sa.Column("email", sa.String(254), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("sso_sign_ins", "email")
