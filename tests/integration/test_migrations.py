"""The migrations are the schema: they match the table definitions and run both ways."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tenantry.storage.engine import create_engine
from tenantry.storage.migrations import (
    alembic_config,
    current_revision,
    head_revision,
    include_name,
    upgrade_database,
)
from tenantry.storage.tables import metadata


def schema_differences(url: str) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "compare_server_default": True,
                    "include_name": include_name,
                },
            )
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_tables(database_url: str) -> None:
    assert current_revision(database_url) == head_revision()
    assert schema_differences(database_url) == []


def test_downgrade_to_base_and_upgrade_again(database_url: str) -> None:
    expected = set(metadata.tables)
    assert expected <= table_names(database_url)

    command.downgrade(alembic_config(database_url), "base")
    assert current_revision(database_url) is None
    assert table_names(database_url) & expected == set()

    upgrade_database(database_url)
    assert current_revision(database_url) == head_revision()
    assert expected <= table_names(database_url)
    assert schema_differences(database_url) == []


def test_upgrading_twice_changes_nothing(database_url: str) -> None:
    upgrade_database(database_url)
    assert current_revision(database_url) == head_revision()
    assert schema_differences(database_url) == []


def test_the_drift_check_sees_drift(database_url: str) -> None:
    # Without this, an empty comparison could just mean the check looks at nothing.
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE stray (id INTEGER PRIMARY KEY)"))
            connection.execute(sa.text("DROP INDEX ix_accounts_name"))
    finally:
        engine.dispose()
    kinds = {diff[0] for diff in schema_differences(database_url) if isinstance(diff, tuple)}
    assert {"remove_table", "add_index"} <= kinds
