"""The gateway's tables: pixels (signal configs), their traffic, filters and routing."""

from __future__ import annotations

import sqlalchemy as sa

from tenantry.storage.schema import ACCOUNT_ID, created_column, metadata
from tenantry.storage.types import UTCDateTime

pixels = sa.Table(
    "pixels",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column(
        "account_id",
        ACCOUNT_ID,
        sa.ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("pixel_id", sa.String(32), nullable=False),
    sa.Column("business_id", sa.String(32), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("external_id", sa.String(255), nullable=False),
    sa.Column("api_version", sa.String(16), nullable=False),
    # The gateway needs the Conversions API token itself to publish events; it is never
    # returned by any API and never logged.
    sa.Column("access_token", sa.Text, nullable=False),
    sa.Column("events_enabled", sa.Boolean, nullable=False),
    sa.Column("capi_publish_enabled", sa.Boolean, nullable=False),
    created_column(),
    sa.UniqueConstraint("account_id", "pixel_id"),
)

pixel_traffic = sa.Table(
    "pixel_traffic",
    metadata,
    sa.Column(
        "pixel_ref", sa.String(36), sa.ForeignKey("pixels.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("bucket_start", UTCDateTime(), primary_key=True),
    # Denormalised so that usage over an account reads one index range.
    sa.Column("account_id", ACCOUNT_ID, nullable=False),
    sa.Column("events_received", sa.BigInteger, nullable=False),
    sa.Column("events_published", sa.BigInteger, nullable=False),
    sa.Column("publish_errors", sa.BigInteger, nullable=False),
    sa.Column("last_error_code", sa.String(32)),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)
sa.Index(
    "ix_pixel_traffic_account_bucket", pixel_traffic.c.account_id, pixel_traffic.c.bucket_start
)

signal_filters = sa.Table(
    "signal_filters",
    metadata,
    sa.Column(
        "account_id", ACCOUNT_ID, sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("kind", sa.String(8), primary_key=True),
    sa.Column("value", sa.String(253), primary_key=True),
    sa.Column("pixel_ids", sa.JSON),
    sa.Column("state", sa.String(8), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.CheckConstraint("kind in ('event', 'domain')", name="kind"),
    sa.CheckConstraint("state in ('PUBLISH', 'DROP')", name="state"),
)

ingress_domains = sa.Table(
    "ingress_domains",
    metadata,
    sa.Column(
        "account_id", ACCOUNT_ID, sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("id", sa.String(36), nullable=False, unique=True),
    # One account per ingress host: events are routed to the account by it.
    sa.Column("ingress", sa.String(253), nullable=False, unique=True),
    sa.Column("target_domain", sa.String(253), nullable=False),
    sa.Column("cname_resolve_success", sa.Boolean, nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)
