"""The webhooks' tables: an account's endpoints (their deliveries are outbox entries)."""

from __future__ import annotations

import sqlalchemy as sa

from tenantry.storage.schema import ACCOUNT_ID, created_column, metadata
from tenantry.storage.types import UTCDateTime

webhook_endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column(
        "account_id",
        ACCOUNT_ID,
        sa.ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("url", sa.String(2000), nullable=False),
    # Event type names; an empty list hears every event.
    sa.Column("event_types", sa.JSON, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("include_children", sa.Boolean, nullable=False),
    sa.Column("description", sa.String(200), nullable=False),
    # The signing secret itself: the sender needs it to sign. It is shown once, when made,
    # and never returned by any API, page or log afterwards.
    sa.Column("secret", sa.String(100), nullable=False),
    sa.Column("secret_set_at", UTCDateTime(), nullable=False),
    created_column(),
    sa.Column("created_by", sa.String(254), nullable=False),
    # The account whose role chose the receiver, when not the endpoint's own (a partner's
    # admin acting in a child): the endpoint hears only while that account reaches its own.
    sa.Column("made_in", ACCOUNT_ID),
)
