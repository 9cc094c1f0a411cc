"""A credential's last use is written at most once a minute, and never by waiting for SQLite's
single writer: a call that only reads must not queue behind someone else's long write for it.
On PostgreSQL, which has no single writer, it is written at once all the same."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from tenantry.services import credentials
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.ports import WriterBusy
from tenantry.storage.engine import POOL_SIZE, READONLY_OPTIONS, SQLITE_BUSY_TIMEOUT_MS

from factories import World

OPERATOR = Actor.system(face="test")


@contextmanager
def a_write_held_open(ctx: ServiceContext) -> Iterator[None]:
    """Another unit of work that has written and not committed yet (on SQLite it holds the
    database's single writer until it ends)."""
    held = ctx.uow()
    uow = held.__enter__()
    try:
        uow.counters.increment("held-open", "w", ctx.now())
        yield
    finally:
        held.__exit__(None, None, None)


def last_used(ctx: ServiceContext, key: str) -> object:
    with ctx.uow(readonly=True) as uow:
        token = uow.api_tokens.find_by_key(key)
        assert token is not None
        return token.last_used_at


def test_authenticating_does_not_wait_for_a_write_held_open(
    ctx: ServiceContext, world: World, database_url: str
) -> None:
    made, token, _ = credentials.create_api_token(ctx, OPERATOR, world.a.id, name="used")
    assert made.last_used_at is None  # so the first use is due to be written
    with a_write_held_open(ctx):
        # Before, this waited SQLite's 10-second busy timeout, then failed.
        actor = credentials.authenticate(ctx, token, face="test")
        assert actor.home_account_id == world.a.id
        written_meanwhile = last_used(ctx, made.key)
    if database_url.startswith("sqlite"):
        assert written_meanwhile is None  # skipped: the writer was taken
        credentials.authenticate(ctx, token, face="test")  # a later use writes it
        assert last_used(ctx, made.key) is not None
    else:
        assert written_meanwhile is not None  # PostgreSQL: only the token's row is written


def test_a_unit_of_work_that_does_not_wait_leaves_nothing_behind(
    ctx: ServiceContext, database_url: str
) -> None:
    sqlite = database_url.startswith("sqlite")
    with a_write_held_open(ctx):
        try:
            with ctx.uow(waits=False) as uow:
                uow.counters.increment("not-waiting", "w", ctx.now())
            refused = False
        except WriterBusy:
            refused = True
    assert refused is sqlite
    with ctx.uow(readonly=True) as uow:
        assert uow.counters.get("not-waiting", "w") == (0 if refused else 1)
    if sqlite:
        # Every connection the pool keeps waits for the writer again, the refused one too
        # (taking one more than the pool keeps takes each of them).
        engine: sa.Engine = ctx.uow.engine  # type: ignore[attr-defined]
        reading = READONLY_OPTIONS  # no BEGIN IMMEDIATE: each only reads
        connections = [engine.connect().execution_options(**reading) for _ in range(POOL_SIZE + 1)]
        try:
            timeouts = {c.exec_driver_sql("PRAGMA busy_timeout").scalar() for c in connections}
        finally:
            for connection in connections:
                connection.close()
        assert timeouts == {SQLITE_BUSY_TIMEOUT_MS}
