"""`read_rows` gives what `conn.execute(...).all()` gives, on both engines, and `write_rows`
what a write's RETURNING gives, its table noted as SQLAlchemy's writes are: the values of
every column type tenantry reads, with expanding lists of any length, constants the
statement binds itself and timestamps bound as parameters; listeners still see each
statement; a driver error is handled by SQLAlchemy as any other statement's (a dropped
connection is `DatabaseUnavailable`, and the pool recovers); the hot statements read alike
either way."""

from __future__ import annotations

import gc
import logging
import weakref
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from every_type import THINGS
from tenantry.services import members
from tenantry.services.context import ServiceContext
from tenantry.services.ports import DatabaseUnavailable
from tenantry.storage.engine import create_engine
from tenantry.storage.repositories import driver_reads
from tenantry.storage.repositories.accounts import _CHAIN_WITH_OWN_ROLES, _CHAINS, CHAIN
from tenantry.storage.repositories.driver_reads import PLANS_KEPT, _prepared, read_rows, write_rows
from tenantry.storage.repositories.member_text import _MATCHING
from tenantry.storage.repositories.memberships import _IN_ACCOUNTS, _MEMBER_PLACEMENTS, _members
from tenantry.storage.repositories.reach import ReachKind
from tenantry.storage.repositories.users import _BY_EMAILS, _EMAILS
from tenantry.storage.repositories.webhooks import _HEARING
from tenantry.storage.types import UTCDateTime
from tenantry.storage.writes import WRITES, inserted

from factories import World, as_user

_things = THINGS
_AT = datetime(2026, 12, 4, 16, 31, 5, 374252, tzinfo=UTC)
ROWS: list[dict[str, Any]] = [
    {"id": 1, "name": "first", "count": 3, "flag": True, "data": {"n": 1.5}, "at": _AT},
    {"id": 2, "name": None, "count": None, "flag": False, "data": None, "at": None},
    {"id": 3, "name": "ünï", "count": -1, "flag": None, "data": [], "at": _AT + timedelta(hours=1)},
    {
        "id": 4,
        "name": "x",
        "count": 0,
        "flag": True,
        "data": {"1": "one"},
        "at": _AT - timedelta(3),
    },
]
for number, row in enumerate(ROWS):
    row["on"] = _AT.date() + timedelta(days=number) if number % 2 else None

_BY_IDS = (
    sa.select(_things, sa.literal(7).label("seven"), (_things.c.id > 2).label("late"))
    .where(_things.c.id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(_things.c.id)
)
_SINCE = (
    sa.select(_things.c.id, _things.c.at)
    .where(_things.c.at >= sa.bindparam("since", type_=UTCDateTime()))
    .where(_things.c.name.in_(sa.bindparam("names", expanding=True)))
    .order_by(_things.c.id)
)
_NAMED = sa.select(_things.c.id).where(_things.c.name == sa.bindparam("name"))
_LITERAL = sa.select(_things.c.id).where(
    _things.c.id.in_(sa.bindparam("ids", expanding=True, literal_execute=True))
)


@pytest.fixture
def things(engine: sa.Engine) -> sa.Engine:
    _things.create(engine)
    with engine.begin() as conn:
        conn.execute(_things.insert(), ROWS)
    return engine


def both(conn: sa.Connection, statement: sa.Select[Any], **parameters: Any) -> list[Any]:
    theirs = [tuple(row) for row in conn.execute(statement, parameters).all()]
    ours = read_rows(conn, statement, parameters)
    assert ours == theirs
    assert all(type(row) is tuple for row in ours)
    return ours


def test_every_type_reads_as_sqlalchemy_reads_it(things: sa.Engine) -> None:
    with things.connect() as conn:
        rows = both(conn, _BY_IDS, ids=[1, 2, 3, 4])
    assert [row[:7] for row in rows] == [tuple(r.values()) for r in ROWS]
    assert [row[7:] for row in rows] == [(7, False), (7, False), (7, True), (7, True)]
    assert rows[0][5].tzinfo is UTC


def test_lists_of_every_length_share_nothing_but_the_statement(things: sa.Engine) -> None:
    with things.connect() as conn:
        assert [r[0] for r in both(conn, _BY_IDS, ids=[3])] == [3]
        assert [r[0] for r in both(conn, _BY_IDS, ids=[4, 1])] == [1, 4]
        assert [r[0] for r in both(conn, _BY_IDS, ids=[2])] == [2]  # the one-value text again
        assert both(conn, _BY_IDS, ids=[]) == []


def test_bound_timestamps_are_converted_as_sqlalchemy_converts_them(things: sa.Engine) -> None:
    since = (_AT - timedelta(minutes=1)).astimezone(timezone(timedelta(hours=-5)))
    with things.connect() as conn:
        rows = both(conn, _SINCE, since=since, names=["first", "ünï", "x"])
    assert [r[0] for r in rows] == [1, 3]


def test_a_statement_keeps_a_bounded_number_of_texts(things: sa.Engine) -> None:
    with things.connect() as conn:
        for length in range(1, PLANS_KEPT + 10):
            rows = both(conn, _BY_IDS, ids=[1 + n % 4 for n in range(length)])
            assert len(rows) == min(length, 4)
        kept = _prepared(conn.dialect, _BY_IDS)
    assert kept is not None
    assert len(kept.plans) == PLANS_KEPT


def test_a_statement_with_values_in_its_text_is_left_to_sqlalchemy(things: sa.Engine) -> None:
    with things.connect() as conn:
        assert [r[0] for r in both(conn, _LITERAL, ids=[2, 3])] == [2, 3]
        assert [r[0] for r in both(conn, _LITERAL, ids=[1])] == [1]


def test_listeners_see_each_statement(things: sa.Engine) -> None:
    before: list[str] = []
    after: list[str] = []
    sa.event.listen(things, "before_cursor_execute", lambda *args: before.append(args[2]))
    sa.event.listen(things, "after_cursor_execute", lambda *args: after.append(args[2]))
    with things.connect() as conn:
        read_rows(conn, _NAMED, {"name": "x"})
    assert len(before) == len(after) == 1
    assert "things" in before[0]


def test_what_it_would_not_read_exactly_is_left_to_sqlalchemy(things: sa.Engine) -> None:
    own_value = sa.select(_things.c.id).where(_things.c.id == sa.bindparam("id", 1))
    listed = sa.select(_things.c.id).where(_things.c.id.in_([2, 3])).order_by(_things.c.id)
    numeric = sa.select(_things.c.id, sa.cast(_things.c.count, sa.Float)).order_by(_things.c.id)
    with things.connect() as conn:
        assert both(conn, own_value) == [(1,)]
        assert both(conn, own_value, id=3) == [(3,)]  # a value the statement binds itself
        assert both(conn, own_value) == [(1,)]
        assert both(conn, listed) == [(2,), (3,)]
        assert [r[1] for r in both(conn, numeric)] == [3.0, None, -1.0, 0.0]
        with pytest.raises(sa.exc.StatementError, match="required for bind parameter 'name'"):
            read_rows(conn, _NAMED, {})


def test_an_engine_that_logs_its_statements_logs_these(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    logging_engine = create_engine(database_url, echo=True)
    try:
        _things.create(logging_engine)
        with caplog.at_level(logging.INFO, "sqlalchemy.engine"), logging_engine.connect() as conn:
            read_rows(conn, _NAMED, {"name": "x"})
        assert any("FROM things" in record.getMessage() for record in caplog.records)
    finally:
        logging_engine.dispose()


def test_no_dialect_is_kept_alive(database_url: str) -> None:
    engine = create_engine(database_url)
    _things.create(engine)
    with engine.connect() as conn:
        read_rows(conn, _NAMED, {"name": "x"})
    dialect = weakref.ref(engine.dialect)
    engine.dispose()
    del engine, conn
    gc.collect()
    assert dialect() is None


def test_only_a_select_is_read(things: sa.Engine) -> None:
    with things.connect() as conn, pytest.raises(TypeError, match="Delete"):
        read_rows(conn, _things.delete(), {})  # type: ignore[arg-type]
    with things.connect() as conn:
        assert len(conn.execute(sa.select(_things)).all()) == len(ROWS)


def _kept(conn: sa.Connection) -> dict[str, Any]:
    kept: dict[str, Any] = conn.connection.info.get(driver_reads._CURSORS, {})
    return kept


def _kept_cursor(conn: sa.Connection, statement: sa.Select[Any] = _NAMED) -> Any:
    """The cursor kept for `statement` (its text for a single value in each list)."""
    prepared = _prepared(conn.dialect, statement)
    assert prepared is not None
    texts = [plan.text for plan in prepared.plans.values()]
    return next((_kept(conn)[text] for text in texts if text in _kept(conn)), None)


def _closed(cursor: Any) -> bool:
    try:
        cursor.execute("SELECT 1")
    except Exception:  # each driver's own error for a closed cursor
        return True
    return False


def test_a_connection_keeps_a_cursor_for_each_statement_it_reads(things: sa.Engine) -> None:
    with things.connect() as conn:
        assert both(conn, _NAMED, name="x") == [(4,)]
        cursor = _kept_cursor(conn)
        assert cursor is not None
        assert cursor.connection is conn.connection.dbapi_connection
        assert both(conn, _BY_IDS, ids=[1, 2, 3, 4])[3][0] == 4
        other = _kept_cursor(conn, _BY_IDS)
        assert other not in (None, cursor)
        assert both(conn, _NAMED, name="first") == [(1,)]
        # The statement's own cursor again, after another's: psycopg keeps a cursor's
        # loaders for as long as it is sent the same statement.
        assert _kept_cursor(conn) is cursor
        assert _kept_cursor(conn, _BY_IDS) is other


def test_a_connection_keeps_cursors_for_its_latest_statements_only(
    things: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(driver_reads, "CURSORS_KEPT", 2)
    with things.connect() as conn:
        both(conn, _NAMED, name="x")
        oldest = _kept_cursor(conn)
        both(conn, _BY_IDS, ids=[1])
        both(conn, _BY_IDS, ids=[1, 2])  # another text: one value more in the list
        assert len(_kept(conn)) == 2
        assert oldest not in _kept(conn).values()
        assert _closed(oldest)
        assert both(conn, _NAMED, name="x") == [(4,)]  # on a new cursor
        assert len(_kept(conn)) == 2


def test_a_large_read_or_a_failed_one_keeps_no_cursor(
    things: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(driver_reads, "CURSOR_KEPT_UP_TO", 2)
    broken = sa.select(sa.column("missing")).select_from(_things)
    with things.connect() as conn:
        both(conn, _BY_IDS, ids=[1, 2, 3])
        assert _kept_cursor(conn, _BY_IDS) is None  # its result is not held on to
        both(conn, _BY_IDS, ids=[1, 2])
        assert _kept_cursor(conn, _BY_IDS) is not None
        both(conn, _NAMED, name="x")
        failing = _kept_cursor(conn)
        assert failing is not None
        with pytest.raises(sa.exc.DBAPIError):
            read_rows(conn, broken, {})
        assert _kept_cursor(conn, broken) is None
        conn.rollback()  # PostgreSQL's transaction ended with the error
        assert both(conn, _NAMED, name="x") == [(4,)]
        assert _kept_cursor(conn) is failing


def test_an_error_is_sqlalchemys(things: sa.Engine) -> None:
    broken = sa.select(sa.column("missing")).select_from(_things)
    with things.connect() as conn, pytest.raises(sa.exc.DBAPIError):
        read_rows(conn, broken, {})
    with things.connect() as conn, pytest.raises(sa.exc.StatementError, match="naive"):
        read_rows(conn, _SINCE, {"since": datetime(2026, 1, 1), "names": ["x"]})


def test_a_closed_connection_is_unavailable_and_invalidated(things: sa.Engine) -> None:
    with things.connect() as conn:
        read_rows(conn, _NAMED, {"name": "x"})  # a cursor kept on the connection
        conn.connection.driver_connection.close()  # type: ignore[union-attr]
        with pytest.raises(DatabaseUnavailable):
            read_rows(conn, _NAMED, {"name": "x"})
        assert conn.invalidated
    with things.connect() as conn:  # its replacement reads with a cursor of its own
        assert read_rows(conn, _NAMED, {"name": "x"}) == [(4,)]
        assert _kept_cursor(conn).connection is conn.connection.dbapi_connection


def test_an_interrupted_read_invalidates_its_connection(things: sa.Engine) -> None:
    """As SQLAlchemy's own statements: a connection left in an unknown state is dropped."""

    def interrupt(*_: Any) -> None:
        raise KeyboardInterrupt

    sa.event.listen(things, "before_cursor_execute", interrupt)
    for read in (lambda conn: conn.execute(_NAMED, {"name": "x"}), _named_x):
        with things.connect() as conn:
            with pytest.raises(DatabaseUnavailable):
                read(conn)
            assert conn.invalidated


def _named_x(conn: sa.Connection) -> list[Any]:
    return read_rows(conn, _NAMED, {"name": "x"})


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_select_that_writes_is_refused(things: sa.Engine) -> None:
    added = _things.insert().values(id=sa.bindparam("new")).returning(_things.c.id).cte("added")
    with things.connect() as conn, pytest.raises(TypeError, match="reads"):
        read_rows(conn, sa.select(added.c.id), {"new": 10})


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_dropped_connection_is_unavailable_then_the_pool_recovers(
    things: sa.Engine, database_url: str
) -> None:
    with things.connect() as conn:
        assert read_rows(conn, _NAMED, {"name": "x"}) == [(4,)]
    killer = sa.create_engine(database_url, poolclass=NullPool)
    with killer.connect() as conn:
        conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    killer.dispose()
    with things.connect() as conn, pytest.raises(DatabaseUnavailable):
        read_rows(conn, _NAMED, {"name": "x"})
    with things.connect() as conn:
        assert read_rows(conn, _NAMED, {"name": "x"}) == [(4,)]


def test_the_hot_statements_read_alike(ctx: ServiceContext, world: World) -> None:
    accounts = [world.a.id, world.b.id, world.host.id]
    engine: sa.Engine = ctx.uow.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        assert len(both(conn, CHAIN, id=world.a.id)) >= 2
        assert both(conn, _CHAIN_WITH_OWN_ROLES, id=world.a.id)
        assert len(both(conn, _CHAINS, ids=accounts)) >= 3
        for kind, reach in (
            (ReachKind.EVERYWHERE, {}),
            (ReachKind.HOME, {"reach_root": world.host.id}),
        ):
            placements = both(
                conn, _MEMBER_PLACEMENTS[kind], account_id=world.a.id, limit=50, **reach
            )
            assert placements
        assert both(conn, _HEARING, id=world.a.id)
        texts = both(conn, _MATCHING, account_id=world.a.id, pattern="%example%", limit=1001)
        assert [user_id for _, user_id in texts] == [world.a_admin.id]
        held = both(conn, _IN_ACCOUNTS, user_id=world.a_admin.id, account_ids=accounts)
        assert [row[1] for row in held] == [world.a.id]  # the account of the membership
        admins = [world.a_admin.email, world.b_admin.email, world.host_admin.email]
        found = both(conn, _BY_EMAILS, emails=admins)
        assert len(found) == 3
        both(conn, _EMAILS, ids=[row[0] for row in found])
        members = both(conn, _members(False, None, False), account_id=world.a.id, limit=50)
        assert members
        joined = members[0][-1]  # the membership's, after the user's columns
        assert isinstance(joined, datetime)
        page = (joined - timedelta(seconds=1), "")
        after = both(
            conn,
            _members(True, None, True),
            account_id=world.a.id,
            limit=50,
            after_at=page[0],
            after_user=page[1],
            role_key="admin",
        )
        assert after == members


# -- writes that answer rows, and statements without values ------------------------------------

_RENAME = (
    _things.update()
    .where(_things.c.id == sa.bindparam("which"))
    .values(name=sa.bindparam("new_name"), at=sa.bindparam("new_at", type_=UTCDateTime()))
    .returning(_things.c.id, _things.c.name, _things.c.at, _things.c.data)
)
_ADD = _things.insert().values(id=sa.bindparam("new_id")).returning(_things.c.id, _things.c.on)


def test_a_write_answers_as_sqlalchemy_does_and_notes_its_table(things: sa.Engine) -> None:
    renamed = {"which": 1, "new_name": "renamed", "new_at": _AT + timedelta(days=1)}
    written: set[str] = set()
    with things.connect() as conn:
        conn = conn.execution_options(**{WRITES: written})
        with conn.begin():
            ours = write_rows(conn, _RENAME, renamed)
            theirs = [tuple(row) for row in conn.execute(_RENAME, renamed)]  # the same again
    assert ours == theirs == [(1, "renamed", _AT + timedelta(days=1), {"n": 1.5})]
    assert written == {"things"}


def test_a_plain_insert_is_noted_as_adding_rows(things: sa.Engine) -> None:
    written: set[str] = set()
    with things.connect() as conn:
        conn = conn.execution_options(**{WRITES: written})
        with conn.begin():
            assert write_rows(conn, _ADD, {"new_id": 9}) == [(9, None)]
    assert written == {inserted("things")}


def test_a_write_outside_a_unit_that_notes_is_written_all_the_same(things: sa.Engine) -> None:
    with things.begin() as conn:
        assert write_rows(conn, _ADD, {"new_id": 10}) == [(10, None)]
    with things.connect() as conn:
        assert conn.execute(sa.select(_things.c.id).where(_things.c.id == 10)).scalar() == 10


def test_only_a_write_with_returning_is_written(things: sa.Engine) -> None:
    with things.connect() as conn:
        with pytest.raises(TypeError, match="RETURNING"):
            write_rows(conn, _things.delete(), {})
        with pytest.raises(TypeError, match="RETURNING"):
            write_rows(conn, _NAMED, {"name": "x"})  # type: ignore[arg-type]


def test_a_statement_without_values_meets_the_listeners_and_sqlalchemys_errors(
    things: sa.Engine,
) -> None:
    seen: list[str] = []
    sa.event.listen(things, "before_cursor_execute", lambda *args: seen.append(args[2]))
    with things.connect() as conn:
        driver_reads.send(conn, "SELECT 1")
        with pytest.raises(sa.exc.DBAPIError):
            driver_reads.send(conn, "NOT A STATEMENT")
    assert seen == ["SELECT 1", "NOT A STATEMENT"]


def test_every_read_of_a_page_of_members_goes_through_the_driver(
    ctx: ServiceContext, world: World
) -> None:
    """The chain, the person's memberships that decide their right, and the page: each sent
    on the driver's cursor (no SQLAlchemy execution context), as the raw driver would."""
    engine: sa.Engine = ctx.uow.engine  # type: ignore[attr-defined]
    sent: list[tuple[str, object]] = []

    def seen(_conn: Any, _cursor: Any, text: str, _values: Any, context: Any, *_: Any) -> None:
        sent.append((text, context))

    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        page = members.list_members(ctx, as_user(world.a_admin), world.a.id, limit=10)
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    assert page.items
    assert any("memberships.account_id IN (" in text for text, _ in sent), sent
    assert [text for text, context in sent if context is not None] == []
