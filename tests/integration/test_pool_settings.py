"""The settings that size a process's pool of database connections: it keeps
`database_pool_size` connections, opens up to `database_pool_overflow` more in a burst (closed
again when returned), and a unit of work beyond both waits for one to be returned; each
SQLite connection caches up to `sqlite_cache_mb` of pages."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from tenantry.app import Composition
from tenantry.settings import Settings
from tenantry.storage.uow import SqlUnitOfWorkFactory


@contextmanager
def _engine(settings: Settings) -> Iterator[sa.Engine]:
    composition = Composition(settings)
    factory = composition.context.uow
    assert isinstance(factory, SqlUnitOfWorkFactory)
    try:
        yield factory.engine
    finally:
        composition.dispose()


def _cache_size(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        size: int = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    return size


def test_a_process_holds_at_most_its_pool_and_overflow(database_url: str) -> None:
    settings = Settings(database_url=database_url, database_pool_size=2, database_pool_overflow=1)
    with _engine(settings) as engine:
        held = [engine.connect() for _ in range(3)]
        fourth: list[sa.Connection] = []
        waiting = threading.Thread(target=lambda: fourth.append(engine.connect()))
        waiting.start()
        waiting.join(0.5)
        assert waiting.is_alive()  # the pool and its overflow are all out
        assert not fourth
        held.pop().close()
        waiting.join(5)
        assert len(fourth) == 1
        for connection in held + fourth:
            connection.close()
        assert engine.pool.checkedin() == 2  # the burst's connection closed on its return


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_each_sqlite_connection_caches_the_pages_the_setting_says(database_url: str) -> None:
    with _engine(Settings(database_url=database_url)) as engine:
        assert _cache_size(engine) == -16 * 1024  # 16 MB; SQLite's own default is 2
    with _engine(Settings(database_url=database_url, sqlite_cache_mb=64)) as engine:
        assert _cache_size(engine) == -64 * 1024
