"""Options a deployment gives in the database URL, as the engine reads them."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from psycopg.pq import TransactionStatus

from tenantry.storage.engine import create_engine
from tenantry.storage.repositories import member_text
from tenantry.storage.repositories.member_text import (
    member_text_count,
    member_text_found,
    members_by_address,
)
from tenantry.storage.uow import SqlUnitOfWorkFactory

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.mark.parametrize(("option", "expected"), [("none", None), ("None", None), ("3", 3)])
def test_prepare_threshold_in_the_url_reaches_psycopg(
    database_url: str, option: str, expected: int | None
) -> None:
    """Behind PgBouncer in transaction mode, `?prepare_threshold=none` turns off psycopg's
    prepared statements (docs/scaling.md); the option is not sent to the server."""
    engine = create_engine(f"{database_url}?prepare_threshold={option}")
    try:
        assert "prepare_threshold" not in engine.url.query
        with engine.connect() as conn:
            assert conn.connection.driver_connection.prepare_threshold == expected
    finally:
        engine.dispose()


def test_without_the_option_psycopg_prepares_as_usual(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.connection.driver_connection.prepare_threshold == 5
    finally:
        engine.dispose()


def test_only_units_that_may_write_begin_a_transaction(database_url: str) -> None:
    """Connections stay in psycopg's autocommit mode: a read-only unit of work sends its
    statements as they come, with no mode to set on checkout nor to reset on checkin; a unit
    that may write sends BEGIN, and its end (commit or rollback) ends the transaction."""
    engine = create_engine(database_url)
    sent: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    units = SqlUnitOfWorkFactory(engine)

    def status(uow: Any) -> TransactionStatus:
        return uow.accounts.conn.connection.driver_connection.info.transaction_status

    try:
        with units(readonly=True) as uow:
            assert uow.accounts.find("nobody") is None
            assert status(uow) is TransactionStatus.IDLE
        assert not [s for s in sent if s == "BEGIN"]
        sent.clear()
        with units() as uow:
            assert uow.accounts.find("nobody") is None
            assert status(uow) is TransactionStatus.INTRANS
        assert sent[0] == "BEGIN"
        with pytest.raises(LookupError), units() as uow:
            _find_then_fail(uow)
        with engine.connect() as conn:  # the one pooled connection, as every unit left it
            driver = conn.connection.driver_connection
            assert driver.autocommit
            assert driver.info.transaction_status is TransactionStatus.IDLE
    finally:
        engine.dispose()


def test_a_connection_asked_an_isolation_level_returns_to_autocommit(database_url: str) -> None:
    """A connection asked another isolation level runs in a transaction at that level (psycopg
    begins it), and is back in autocommit for the next unit of work."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            serial = conn.execution_options(isolation_level="SERIALIZABLE")
            level = serial.exec_driver_sql("SHOW transaction_isolation").scalar()
            assert level == "serializable"
            assert not serial.connection.driver_connection.autocommit
        with SqlUnitOfWorkFactory(engine)(readonly=True) as uow:
            driver = uow.accounts.conn.connection.driver_connection
            assert driver.autocommit
            assert uow.accounts.find("nobody") is None
            assert driver.info.transaction_status is TransactionStatus.IDLE
    finally:
        engine.dispose()


def _find_then_fail(uow: Any) -> None:
    uow.accounts.find("nobody")
    raise LookupError


PREPARED_SEARCHES = (
    "SELECT count(*) FROM pg_prepared_statements WHERE strpos(statement, 'search_member_text') > 0"
)


@pytest.mark.parametrize("planned", [True, False], ids=["planned each time", "as usual"])
def test_member_text_reads_are_planned_for_their_values(database_url: str, planned: bool) -> None:
    """A search's LIKE pattern decides its plan (the account's trigrams for a rare text, a
    walk of its rows for a common one): its reads of the member text are never prepared, so
    PostgreSQL never keeps one generic plan for them. (Without the helper they would be, from
    the fifth use on a connection: the control case.)"""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            for n in range(8):
                pattern = f"%user{n}%"
                if planned:
                    member_text_found(conn, "someacct", pattern)
                    member_text_count(conn, "someacct", pattern)
                    members_by_address(
                        conn, "someacct", pattern, descending=False, limit=20, offset=0
                    )
                else:
                    conn.execute(
                        member_text._MATCHING,
                        {"account_id": "someacct", "pattern": pattern, "limit": 10},
                    ).all()
            prepared = conn.exec_driver_sql(PREPARED_SEARCHES).scalar_one()
            assert conn.connection.driver_connection.prepare_threshold == 5  # given back
    finally:
        engine.dispose()
    assert prepared == (0 if planned else 1)
