"""identity home and proof of address, mailed invitation tokens, credential roles, audit of
who minted a credential

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tenantry.storage.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("home_account_id", sa.String(length=8), nullable=True))
        batch_op.add_column(
            sa.Column(
                "email_verified_at",
                tenantry.storage.types.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_users_home_account_id_accounts"),
            "accounts",
            ["home_account_id"],
            ["id"],
            ondelete="SET NULL",
        )
    # An existing identity's home: its network, or the account it joined first. Nobody's
    # address counts as proven: the links of the past were shown to whoever invited.
    op.execute(
        """
        UPDATE users SET home_account_id = COALESCE(
            network_account_id,
            (SELECT m.account_id FROM memberships m WHERE m.user_id = users.id
             ORDER BY m.created_at, m.account_id LIMIT 1))
        """
    )

    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mail_token_hash", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_invitations_mail_token_hash"), ["mail_token_hash"]
        )

    with op.batch_alter_table("password_resets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("shown", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("password_resets", schema=None) as batch_op:
        batch_op.alter_column("shown", server_default=None)

    # API accounts acted as admins until now: they keep that role. A token acted with its
    # user's role: it keeps the role its user holds now (view when the user holds none).
    with op.batch_alter_table("api_accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("role_key", sa.String(length=40), nullable=False, server_default="admin")
        )
    with op.batch_alter_table("api_accounts", schema=None) as batch_op:
        batch_op.alter_column("role_key", server_default=None)
        batch_op.add_column(sa.Column("minted_in_account_id", sa.String(length=8), nullable=True))
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("role_key", sa.String(length=40), nullable=False, server_default="view")
        )
    op.execute(
        """
        UPDATE api_tokens SET role_key = COALESCE(
            (SELECT m.role_key FROM memberships m
             WHERE m.user_id = api_tokens.user_id AND m.account_id = api_tokens.account_id),
            'view')
        """
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.alter_column("role_key", server_default=None)
        batch_op.add_column(sa.Column("minted_in_account_id", sa.String(length=8), nullable=True))

    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_user_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("actor_minted_by", sa.String(length=254), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("actor_minted_by")
        batch_op.drop_column("actor_user_id")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("minted_in_account_id")
        batch_op.drop_column("role_key")
    with op.batch_alter_table("api_accounts", schema=None) as batch_op:
        batch_op.drop_column("minted_in_account_id")
        batch_op.drop_column("role_key")
    with op.batch_alter_table("password_resets", schema=None) as batch_op:
        batch_op.drop_column("shown")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_invitations_mail_token_hash"), type_="unique")
        batch_op.drop_column("mail_token_hash")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_users_home_account_id_accounts"), type_="foreignkey"
        )
        batch_op.drop_column("email_verified_at")
        batch_op.drop_column("home_account_id")
