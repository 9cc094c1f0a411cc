"""Timestamps go in aware and come back aware, in UTC, the same instant, on both engines:
whatever the zone written, and on SQLite whatever the text's shape (a row written by hand)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from tenantry.storage.types import UTCDateTime

_stamps = sa.Table(
    "stamps",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime()),
)

INSTANTS = [
    datetime(2026, 12, 3, 16, 9, 17, 903929, tzinfo=UTC),
    datetime(2026, 12, 3, 16, 9, 17, tzinfo=UTC),  # no microseconds
    datetime(2026, 12, 3, 18, 9, 17, 5, tzinfo=timezone(timedelta(hours=2))),
    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
]


def test_timestamps_come_back_the_same_instant_in_utc(engine: sa.Engine) -> None:
    _stamps.create(engine)
    with engine.begin() as conn:
        conn.execute(_stamps.insert(), [{"id": n, "at": at} for n, at in enumerate(INSTANTS)])
        conn.execute(_stamps.insert(), {"id": 99, "at": None})
    with engine.connect() as conn:
        read = dict(conn.execute(sa.select(_stamps.c.id, _stamps.c.at)).all())
    for n, at in enumerate(INSTANTS):
        assert read[n] == at
        assert read[n].tzinfo is UTC
    assert read[99] is None


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(
            datetime(2026, 1, 1), sa.create_engine("sqlite://").dialect
        )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2026-12-03 16:09:17.903929", datetime(2026, 12, 3, 16, 9, 17, 903929, tzinfo=UTC)),
        ("2026-12-03 16:09:17", datetime(2026, 12, 3, 16, 9, 17, tzinfo=UTC)),
        ("2026-12-03T16:09:17Z", datetime(2026, 12, 3, 16, 9, 17, tzinfo=UTC)),
        ("2026-12-03T18:09:17+02:00", datetime(2026, 12, 3, 16, 9, 17, tzinfo=UTC)),
        ("2026-12-03", datetime(2026, 12, 3, tzinfo=UTC)),
    ],
)
def test_sqlite_texts_written_by_hand_are_read_as_utc(
    engine: sa.Engine, text: str, instant: datetime
) -> None:
    _stamps.create(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO stamps (id, at) VALUES (1, ?)", (text,))
    with engine.connect() as conn:
        read = conn.execute(sa.select(_stamps.c.at)).scalar_one()
    assert read == instant
    assert read.tzinfo is UTC


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.timezones()
    )
)
def test_sqlite_stores_a_moment_as_sqlalchemy_would(moment: datetime) -> None:
    """The text SQLite keeps (and compares and orders by) is SQLAlchemy's own for the moment in
    UTC without a zone, written in one call instead of three."""
    dialect = sqlite.dialect()
    ours = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    theirs = sa.DateTime().dialect_impl(dialect).bind_processor(dialect)
    assert ours is not None
    assert theirs is not None
    assert ours(moment) == theirs(moment.astimezone(UTC).replace(tzinfo=None))


def test_sqlite_refuses_a_moment_without_a_zone() -> None:
    dialect = sqlite.dialect()
    bind = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert bind is not None
    with pytest.raises(ValueError, match="naive"):
        bind(datetime(2026, 1, 1))
