"""A table with a column of every type tenantry stores, for tests of what goes to the driver
and comes back from it (`insert_rows`, `read_rows`)."""

from __future__ import annotations

import sqlalchemy as sa

from tenantry.storage.types import UTCDateTime

THINGS = sa.Table(
    "things",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(40)),
    sa.Column("count", sa.Integer),
    sa.Column("flag", sa.Boolean),
    sa.Column("data", sa.JSON),
    sa.Column("at", UTCDateTime()),
    sa.Column("on", sa.Date),
)
