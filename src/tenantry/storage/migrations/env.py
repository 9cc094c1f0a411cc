"""Alembic environment: runs migrations on the URL the caller configured."""

from __future__ import annotations

from alembic import context

from tenantry.storage.engine import create_engine
from tenantry.storage.migrations import include_name
from tenantry.storage.tables import metadata

config = context.config


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url must be set"
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        # SQLite alters tables by copying them. The member-text triggers (0017) name `users`
        # and `memberships`: a later migration that copies either must drop them first and
        # create them again after, as 0017 does (the copy fails while they exist).
        render_as_batch=True,
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
