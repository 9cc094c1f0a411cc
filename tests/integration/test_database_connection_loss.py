"""A connection the server drops (a restart, a failover) is `DatabaseUnavailable` for the unit
of work that meets it, and the next one connects afresh."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from tenantry.services import accounts
from tenantry.services.context import ServiceContext
from tenantry.services.ports import DatabaseUnavailable

from factories import OPERATOR, World

# SQLite has no server to lose; PostgreSQL is where pooled connections go stale.
pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _drop_other_connections(database_url: str) -> int:
    """What a server restart does to the pool: every other session of the database ends."""
    killer = sa.create_engine(database_url, poolclass=NullPool)
    try:
        with killer.connect() as conn:
            ended = conn.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
    finally:
        killer.dispose()
    return int(ended)


def test_a_dropped_connection_is_unavailable_then_the_pool_recovers(
    ctx: ServiceContext, world: World, database_url: str
) -> None:
    assert accounts.get_account(ctx, OPERATOR, world.a.id).id == world.a.id  # a pooled connection
    assert _drop_other_connections(database_url) >= 1
    with pytest.raises(DatabaseUnavailable):
        accounts.get_account(ctx, OPERATOR, world.a.id)
    assert accounts.get_account(ctx, OPERATOR, world.a.id).id == world.a.id
