"""Options a deployment gives in the database URL, as the engine reads them."""

from __future__ import annotations

import pytest

from tenantry.storage.engine import create_engine

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
