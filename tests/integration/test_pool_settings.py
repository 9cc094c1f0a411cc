"""The settings that size a process's pool of database connections: it keeps
`database_pool_size` connections, opens up to `database_pool_overflow` more in a burst (closed
again when returned), and a unit of work beyond both waits for one to be returned."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from tenantry.app import Composition
from tenantry.settings import Settings
from tenantry.storage.uow import SqlUnitOfWorkFactory


def test_a_process_holds_at_most_its_pool_and_overflow(database_url: str) -> None:
    settings = Settings(database_url=database_url, database_pool_size=2, database_pool_overflow=1)
    composition = Composition(settings)
    factory = composition.context.uow
    assert isinstance(factory, SqlUnitOfWorkFactory)
    engine = factory.engine
    try:
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
    finally:
        composition.dispose()
