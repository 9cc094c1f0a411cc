"""`insert_rows` hands the driver what SQLAlchemy's own INSERT would have: the same stored
values, on both engines, and the table noted as one rows were added to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from every_type import THINGS
from tenantry.storage.repositories.inserts import insert_rows
from tenantry.storage.writes import WRITES, inserted, note_writes

_things = THINGS

VALUES = [
    {
        "name": "first",
        "count": 3,
        "flag": True,
        "data": {"apps": ["a", "b"], "n": 1.5, "nested": {"x": None}},
        "at": datetime(2026, 12, 4, 16, 31, 5, 374252, tzinfo=UTC),
    },
    {
        "name": None,
        "count": None,
        "flag": False,
        "data": None,
        "at": datetime(2026, 12, 4, 18, 0, tzinfo=timezone(timedelta(hours=2))),
    },
    {"name": "ünï", "count": -1, "flag": None, "data": [], "at": None},
    {"name": "x", "count": 0, "flag": True, "data": {"1": "one"}, "at": None},
]


def stored(engine: sa.Engine, ids: range) -> list[tuple[object, ...]]:
    """The rows as the driver gives them back, untouched by SQLAlchemy's types."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT name, count, flag, CAST(data AS TEXT), at FROM things ORDER BY id"
        ).all()
    return [tuple(row) for row in rows[ids.start : ids.stop]]


def test_the_stored_values_are_those_sqlalchemy_stores(engine: sa.Engine) -> None:
    _things.create(engine)
    with engine.begin() as conn:
        conn.execute(_things.insert(), [{"id": n, **v} for n, v in enumerate(VALUES)])
        insert_rows(conn, _things, [{"id": 10 + n, **v} for n, v in enumerate(VALUES)])
    assert stored(engine, range(4, 8)) == stored(engine, range(0, 4))
    with engine.connect() as conn:
        read = conn.execute(sa.select(_things).order_by(_things.c.id)).all()
    assert [row._mapping["data"] for row in read[4:]] == [v["data"] for v in VALUES]
    assert read[4].at == VALUES[0]["at"]
    assert read[5].at == VALUES[1]["at"]


def test_no_rows_send_nothing(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        insert_rows(conn, _things, [])  # the table does not even exist


def test_a_column_the_rows_leave_out_may_not_have_a_default_to_compute(
    engine: sa.Engine,
) -> None:
    defaulted = sa.Table(
        "defaulted",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("made", sa.String(10), default="python"),
    )
    defaulted.create(engine)
    with engine.begin() as conn, pytest.raises(ValueError, match="rows must give made"):
        insert_rows(conn, defaulted, [{"id": 1}])


def test_the_table_is_noted_as_one_rows_were_added_to(engine: sa.Engine) -> None:
    _things.create(engine)
    note_writes(engine)
    written: set[str] = set()
    with engine.connect() as conn:
        conn.execution_options(**{WRITES: written})
        with conn.begin():
            insert_rows(conn, _things, [{"id": 1, **VALUES[0]}])
    assert written == {inserted("things")}
