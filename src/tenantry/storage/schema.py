"""What every table module shares: the one `metadata` (with its naming convention) and the
column types and helpers that tables repeat."""

from __future__ import annotations

import sqlalchemy as sa

from tenantry.storage.types import UTCDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ACCOUNT_ID = sa.String(8)
USER_ID = sa.String(36)


def created_column() -> sa.Column[object]:
    return sa.Column("created_at", UTCDateTime(), nullable=False)
