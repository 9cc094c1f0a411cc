"""webhook endpoint maker: the account whose role chose an endpoint's receiver, so that an
endpoint a partner set up in a child account stops when the child cuts the partner off

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 23:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: null is "made in its own account", which is what every endpoint
    # made before this column (or by a process of the previous release) is taken to be.
    op.add_column("webhook_endpoints", sa.Column("made_in", sa.String(8), nullable=True))


def downgrade() -> None:
    op.drop_column("webhook_endpoints", "made_in")
