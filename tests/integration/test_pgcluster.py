"""The test infrastructure itself: the session's PostgreSQL cluster and per-test databases."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy

from pgcluster import PostgresCluster

PROBE_TABLE = "infrastructure_probe"

_urls_seen: set[str] = set()


def _libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def test_cluster_accepts_connections(pg_cluster: PostgresCluster) -> None:
    with psycopg.connect(_libpq_url(pg_cluster.url("postgres"))) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_cluster_creates_databases(pg_cluster: PostgresCluster) -> None:
    pg_cluster.create_database("created_by_test")
    with psycopg.connect(_libpq_url(pg_cluster.url("created_by_test"))) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("created_by_test",)


# Run twice per engine: the second round fails if a database, or its template, were shared.
@pytest.mark.parametrize("round_", [1, 2])
def test_each_test_gets_a_fresh_migrated_database(
    database_url: str, engine: sqlalchemy.Engine, round_: int
) -> None:
    assert database_url not in _urls_seen
    _urls_seen.add(database_url)

    tables = sqlalchemy.inspect(engine).get_table_names()
    assert "alembic_version" in tables, "the template was not migrated"
    assert PROBE_TABLE not in tables, "this database saw another test's writes"

    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(f"CREATE TABLE {PROBE_TABLE} (round INTEGER)"))
        conn.execute(sqlalchemy.text(f"INSERT INTO {PROBE_TABLE} VALUES ({round_})"))
