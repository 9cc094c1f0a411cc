"""unique ingress host

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 09:15:51.785925
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Events are routed to an account by their ingress host, so a host names one account.
    with op.batch_alter_table("ingress_domains", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_ingress_domains_ingress"), ["ingress"])


def downgrade() -> None:
    with op.batch_alter_table("ingress_domains", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_ingress_domains_ingress"), type_="unique")
