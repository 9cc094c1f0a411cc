"""Portable column types."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timestamps stored as UTC and always read back timezone-aware.

    SQLite keeps no zone; PostgreSQL keeps `timestamptz`. Either way the domain sees aware UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQL paths on SQLite
            value = datetime.fromisoformat(value)
        result: datetime = (
            value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        )
        return result

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name == "sqlite":
            return _sqlite_text  # one call a value, as for results
        return super().bind_processor(dialect)

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], datetime | None] | None:
        if dialect.name == "sqlite":
            # One call a value, where the generic path makes three (the wrapper, SQLite's
            # parser, then `process_result_value`).
            return _sqlite_utc
        return super().result_processor(dialect, coltype)


def _sqlite_text(value: datetime | None) -> str | None:
    """What SQLite stores for an aware datetime: its UTC time, without a zone, in SQLAlchemy's
    text form (`2026-12-04 16:31:05.374252`, the microseconds always written), which orders
    as the times do. The aware time's ISO text without its "+00:00" costs a third of making
    it naive first."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:-6]


def _sqlite_utc(value: str | None) -> datetime | None:
    """A stored SQLite timestamp (UTC, without a zone) as an aware datetime. Parsing it with
    its zone appended gives the same datetime in a fifth of the time `replace(tzinfo=UTC)`
    takes (0.13 against 0.8 µs on CPython 3.11), and a page of members holds 200."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value + "+00:00")
        if parsed.tzinfo is UTC:  # not so for a date alone, whose zone is dropped
            return parsed
    except ValueError:  # a text that has a zone already (written by hand)
        pass
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
