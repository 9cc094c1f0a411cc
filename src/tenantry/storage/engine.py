"""Engines for SQLite (the embedded default) and PostgreSQL.

SQLite runs in WAL mode with foreign keys on. Python's sqlite3 module manages transactions in a
way that breaks SAVEPOINT and cannot take the write lock up front, so it is switched to
autocommit and tenantry emits BEGIN itself: `BEGIN IMMEDIATE` for writing units of work, so that
concurrent writers queue on the busy timeout instead of failing halfway through.

PostgreSQL's connections are in psycopg's autocommit mode too, and a unit of work that may
write sends `BEGIN` (psycopg would send it before the first statement, as its own round trip
all the same). Read-only units then run statement by statement with nothing to switch:
SQLAlchemy's `isolation_level="AUTOCOMMIT"`, which they used, set psycopg's mode on every
checkout and reset it on every checkin, four calls through psycopg's wait loop a unit of work.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event

from tenantry.services.metrics import CONNECTIONS_IN_USE
from tenantry.services.ports import DatabaseUnavailable
from tenantry.settings import Settings
from tenantry.storage.repositories.driver_reads import send

READONLY = "tenantry_readonly"
READONLY_OPTIONS: dict[str, Any] = {READONLY: True}
"""Execution options for a pure read: no BEGIN, no transaction round trips, on either engine."""
NO_WAIT = "tenantry_no_wait"  # a write that gives up at once where SQLite's writer is taken
SQLITE_BUSY_TIMEOUT_MS = 10_000
WAL_BACKSTOP_PAGES = 10_000
"""Where the connections of an engine whose WAL a thread checkpoints (`CHECKPOINTED`)
checkpoint it themselves in their commit (pages of 4 kB): only if the thread falls that far
behind. Other engines keep SQLite's default of 1,000."""
WAL_KEPT_BYTES = 64 * 1024 * 1024
"""The WAL file of such an engine is cut back to this size when it starts over (it keeps its
largest size otherwise). Not smaller: cut to 4 MB, every start over paid for growing the file
again (the bulk add over HTTP 0.54 → 0.47 of the raw route)."""
CHECKPOINTED: weakref.WeakSet[sa.Engine] = weakref.WeakSet()
"""SQLite engines whose WAL a thread of this process checkpoints (`storage.checkpoints`)."""
POOL_RECYCLE_SECONDS = 1800
# The defaults of the settings that size an engine, which `Settings` documents (one place for
# each number). Requests run their units of work in threads, so under load many connections
# are checked out at once: SQLAlchemy's default pool keeps 5 and opens the rest per unit of
# work, and under 16 concurrent requests most units of work paid for a new connection (a
# PostgreSQL login, or SQLite's open and pragmas). SQLite's own page cache, 2 MB, holds the
# pages of a few thousand members: at a million users, reading accounts of 100 members each
# in turn, the same read ran 1.4 to 1.7 times slower than on 10,000 users with it (1.15
# times with 16 MB; 8 MB changed nothing), and the raw driver's alike (docs/performance.md).
# A connection's cache starts empty and is emptied whenever another connection has written:
# its memory is what a burst of reads with no write in between fills, at most its size.
_SIZED_BY = Settings.model_fields
POOL_SIZE: int = _SIZED_BY["database_pool_size"].default
POOL_OVERFLOW: int = _SIZED_BY["database_pool_overflow"].default
SQLITE_CACHE_MB: int = _SIZED_BY["sqlite_cache_mb"].default
PREPARE_THRESHOLD = "prepare_threshold"


def create_engine(
    url: str,
    *,
    pool_size: int = POOL_SIZE,
    pool_overflow: int = POOL_OVERFLOW,
    sqlite_cache_mb: int = SQLITE_CACHE_MB,
    **kwargs: Any,
) -> sa.Engine:
    """An engine for `url`, its pool keeping `pool_size` connections and opening up to
    `pool_overflow` more in a burst (a SQLite database in memory has one connection whatever
    they say), each SQLite connection caching up to `sqlite_cache_mb` of pages; failing to
    connect, or losing the connection, raises `DatabaseUnavailable`."""
    sa_url = sa.make_url(url)
    kwargs.setdefault("json_deserializer", loads_json)
    kwargs.setdefault("json_serializer", dumps_json)
    if sa_url.get_backend_name() != "sqlite":
        engine = _server_engine(sa_url, pool_size=pool_size, max_overflow=pool_overflow, **kwargs)
    elif _in_file(sa_url):
        engine = _sqlite_engine(
            sa_url,
            cache_mb=sqlite_cache_mb,
            pool_size=pool_size,
            max_overflow=pool_overflow,
            **kwargs,
        )
    else:
        engine = _sqlite_engine(sa_url, cache_mb=sqlite_cache_mb, **kwargs)
    event.listen(engine, "handle_error", _unavailable)
    # Every checkout is followed by a checkin, the connection's invalidation included.
    event.listen(engine, "checkout", lambda *_: CONNECTIONS_IN_USE.inc())
    event.listen(engine, "checkin", lambda *_: CONNECTIONS_IN_USE.dec())
    return engine


def _unavailable(context: sa.engine.ExceptionContext) -> None:
    """A failure to connect (no connection yet), or a connection the server dropped (a
    restart, a failover), becomes `DatabaseUnavailable` with the driver's first line: it
    names the host or file, never the password. SQLAlchemy still invalidates the dropped
    connection and the pool behind it, whatever is raised here, so the next unit of work
    connects afresh."""
    if context.connection is None or context.is_disconnect:
        reason = str(context.original_exception).strip().splitlines()
        raise DatabaseUnavailable(reason[0] if reason else "") from context.original_exception


def _server_engine(sa_url: sa.URL, **kwargs: Any) -> sa.Engine:
    if sa_url.get_backend_name() == "postgresql" and sa_url.drivername == "postgresql":
        sa_url = sa_url.set(drivername="postgresql+psycopg")
    # No pre-ping: it costs a round trip on every checkout, i.e. on every unit of work (on
    # loopback a unit of work with one point read took 300 µs with it, 180 µs without).
    # Connections are instead replaced after half an hour, before servers, proxies and
    # firewalls typically drop idle ones. The price: after a database restart or failover, the
    # first unit of work on a stale pooled connection fails as DatabaseUnavailable (SQLAlchemy
    # then invalidates the whole pool, so the ones after it reconnect). A deployment that would
    # rather pay the round trip passes pool_pre_ping=True.
    kwargs.setdefault("pool_pre_ping", False)
    kwargs.setdefault("pool_recycle", POOL_RECYCLE_SECONDS)
    threshold = sa_url.query.get(PREPARE_THRESHOLD)
    if isinstance(threshold, str):
        # psycopg prepares a statement from its fifth use on a connection; behind a pooler in
        # transaction mode (PgBouncer before 1.21) the next transaction may run on a server
        # connection that never saw it, so such a deployment says `?prepare_threshold=none`.
        sa_url = sa_url.difference_update_query([PREPARE_THRESHOLD])
        prepare = None if threshold.lower() == "none" else int(threshold)
        kwargs.setdefault("connect_args", {})[PREPARE_THRESHOLD] = prepare
    postgresql = sa_url.get_backend_name() == "postgresql"
    if postgresql:
        # Connections in the driver's autocommit mode, to which SQLAlchemy also returns one
        # that was asked another isolation level. Its commit and rollback still end what
        # `_begin_when_writing` begins (psycopg sends them whenever a transaction is open),
        # as long as the dialect's `skip_autocommit_rollback` stays off.
        kwargs.setdefault("isolation_level", "AUTOCOMMIT")
    engine = sa.create_engine(sa_url, **kwargs)
    if postgresql:
        _begin_when_writing(engine)
    return engine


def _begin_when_writing(engine: sa.Engine) -> None:
    """`BEGIN` for each unit of work that is not read-only."""

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        if connection.get_execution_options().get(READONLY):
            return
        # An isolation level asked of SQLAlchemy turns the mode off: psycopg then begins.
        if connection.connection.driver_connection.autocommit:  # type: ignore[union-attr]
            send(connection, "BEGIN")


def dumps_json(value: Any) -> str:
    """JSON text for a JSON column, written by orjson (`json.dumps` took a tenth of a bulk
    add's time: a hundred values of twenty new people); keys that are not strings become
    strings, as `json.dumps` makes them."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def loads_json(text: str | bytes) -> Any:
    """`json.loads`, without the parser for the texts most JSON columns hold (the JSON null
    that SQLAlchemy stores for None, and empty objects and lists): on a page of members it
    would otherwise be a large share of the time spent reading rows."""
    if text == "null" or text == b"null":
        return None
    if text == "{}" or text == b"{}":
        return {}
    if text == "[]" or text == b"[]":
        return []
    return json.loads(text)


def _sqlite_engine(url: sa.URL, *, cache_mb: int, **kwargs: Any) -> sa.Engine:
    kwargs.setdefault("connect_args", {})
    kwargs["connect_args"].setdefault("check_same_thread", False)
    kwargs["connect_args"].setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    in_file = _in_file(url)
    engine = sa.create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # autocommit; BEGIN is ours
        cursor = dbapi_connection.cursor()
        if in_file:
            cursor.execute("PRAGMA journal_mode=WAL")
            if engine in CHECKPOINTED:
                cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_BACKSTOP_PAGES}")
                cursor.execute(f"PRAGMA journal_size_limit={WAL_KEPT_BYTES}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA cache_size={sqlite_cache_pragma(cache_mb)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        options = connection.get_execution_options()
        if options.get(READONLY):
            return  # reads run statement by statement, as on PostgreSQL's autocommit reads
        if not options.get(NO_WAIT):
            send(connection, "BEGIN IMMEDIATE")
            return
        connection.exec_driver_sql("PRAGMA busy_timeout=0")
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        finally:
            try:
                connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            except Exception:
                connection.invalidate()  # one that would never wait must not be pooled again
                raise

    return engine


def sqlite_cache_pragma(megabytes: int) -> int:
    """`PRAGMA cache_size`'s value for a cache of `megabytes` (negative: kibibytes)."""
    return -megabytes * 1024


def is_sqlite_file(engine: sa.Engine) -> bool:
    """Whether the engine is SQLite's on a database file (not one in memory)."""
    return engine.dialect.name == "sqlite" and _in_file(engine.url)


def _in_file(url: sa.URL) -> bool:
    return url.database not in (None, "", ":memory:")


def ping(engine: sa.Engine) -> None:
    """Raise when the database does not answer."""
    with engine.connect().execution_options(**READONLY_OPTIONS) as conn:
        conn.execute(sa.text("SELECT 1"))


@contextmanager
def planned_for_their_values(conn: sa.Connection) -> Iterator[None]:
    """PostgreSQL: the statements sent inside are planned for their parameters' values every
    time. psycopg prepares a statement from its fifth use on a connection, and PostgreSQL may
    then keep one generic plan, made without the values: for a search's LIKE pattern it
    cannot tell a rare text, which the account's trigrams find in 3 ms, from a common one,
    which a walk of the account's rows finds at once, and took a plan good for one of them
    (a rare text of the 100,000-member account in 22 ms, two letters in 250 ms). Planning
    such a statement costs a tenth of a millisecond."""
    if conn.dialect.name != "postgresql":
        yield
        return
    driver = conn.connection.driver_connection
    kept = driver.prepare_threshold  # type: ignore[union-attr]
    driver.prepare_threshold = None  # type: ignore[union-attr]
    try:
        yield
    finally:
        driver.prepare_threshold = kept  # type: ignore[union-attr]
