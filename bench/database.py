"""Where the bench runs (a scratch SQLite file, a throwaway PostgreSQL cluster, or a URL) and
the raw driver connection every tenantry figure is compared with."""

from __future__ import annotations

import argparse
import importlib.util
import sqlite3
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa

from tenantry.storage.engine import SQLITE_BUSY_TIMEOUT_MS, SQLITE_CACHE_MB, sqlite_cache_pragma

BENCH_DATABASE = "tenantry_bench"
Row = tuple[Any, ...]


class RawDatabase(Protocol):
    """The little the raw side needs from a DB-API driver, with `?` placeholders."""

    def sql(self, text: str) -> str:
        """`text` in the driver's placeholder style."""
        ...

    def fetchone(self, sql: str, params: Sequence[object]) -> Row | None: ...
    def fetchall(self, sql: str, params: Sequence[object]) -> list[Row]: ...
    def fetchall_planned(self, sql: str, params: Sequence[object]) -> list[Row]:
        """`fetchall`, the statement planned for its values every time, as tenantry has its
        searches planned (`engine.planned_for_their_values`)."""
        ...

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None: ...
    def transaction(self) -> Any: ...
    def timestamp(self, value: datetime) -> object: ...
    def describe(self) -> str: ...
    def close(self) -> None: ...


class SqliteRaw:
    """sqlite3 with the settings tenantry's engine uses (WAL, synchronous=NORMAL, foreign keys,
    the page cache of `Settings.sqlite_cache_mb`'s default)."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            "synchronous=NORMAL",
            f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
            f"cache_size={sqlite_cache_pragma(SQLITE_CACHE_MB)}",
        ):
            self.conn.execute(f"PRAGMA {pragma}")

    def sql(self, text: str) -> str:
        return text

    def fetchone(self, sql: str, params: Sequence[object]) -> Row | None:
        row: Row | None = self.conn.execute(sql, params).fetchone()
        return row

    def fetchall(self, sql: str, params: Sequence[object]) -> list[Row]:
        return self.conn.execute(sql, params).fetchall()

    def fetchall_planned(self, sql: str, params: Sequence[object]) -> list[Row]:
        return self.fetchall(sql, params)  # SQLite plans every statement for its values

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        self.conn.executemany(sql, rows)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def timestamp(self, value: datetime) -> object:
        # The text SQLAlchemy's SQLite dialect stores, so both sides write identical rows.
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def describe(self) -> str:
        return f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL)"

    def close(self) -> None:
        self.conn.close()


class PsycopgRaw:
    """psycopg 3 on one held autocommit connection; writes in explicit transactions."""

    def __init__(self, conninfo: str) -> None:
        import psycopg

        self.conn = psycopg.connect(conninfo, autocommit=True)

    def sql(self, text: str) -> str:
        return text.replace("?", "%s")

    def fetchone(self, sql: str, params: Sequence[object]) -> Row | None:
        return self.conn.execute(sql, params).fetchone()

    def fetchall(self, sql: str, params: Sequence[object]) -> list[Row]:
        return self.conn.execute(sql, params).fetchall()

    def fetchall_planned(self, sql: str, params: Sequence[object]) -> list[Row]:
        # Unprepared: psycopg prepares a statement from its fifth use, and PostgreSQL may
        # then keep one generic plan, blind to the search's pattern.
        return self.conn.execute(sql, params, prepare=False).fetchall()

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        with self.conn.cursor() as cursor:
            cursor.executemany(sql, rows)

    def transaction(self) -> Any:
        return self.conn.transaction()

    def timestamp(self, value: datetime) -> object:
        return value

    def describe(self) -> str:
        settings = {
            name: self.conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
            for name in ("server_version", "fsync", "synchronous_commit")
        }
        version = settings.pop("server_version").split()[0]
        flags = ", ".join(f"{name}={value}" for name, value in settings.items())
        return f"PostgreSQL {version} ({flags})"

    def close(self) -> None:
        self.conn.close()


@dataclass
class Target:
    engine: str  # "sqlite" or "postgresql"
    url: str  # SQLAlchemy URL, as `Settings.database_url` takes it
    origin: str  # where the database lives, for the report

    def connect_raw(self) -> RawDatabase:
        sa_url = sa.make_url(self.url)
        if self.engine == "sqlite":
            assert sa_url.database, "the bench needs a SQLite file, not an in-memory database"
            return SqliteRaw(sa_url.database)
        libpq_url = sa_url.set(drivername="postgresql")
        return PsycopgRaw(libpq_url.render_as_string(hide_password=False))


def engine_of(url: str) -> str:
    return sa.make_url(url).get_backend_name()


def engine_given(
    parser: argparse.ArgumentParser, engine: str | None, url: str | None
) -> str | None:
    """The engine to measure: the URL's, when one is given (an `--engine` that names another
    is an error), else `engine`."""
    if not url:
        return engine
    url_engine = engine_of(url)
    if engine not in (None, url_engine):
        parser.error(f"--engine {engine} does not match the URL's {url_engine}")
    return url_engine


@contextmanager
def open_target(engine: str, database_url: str | None) -> Iterator[Target]:
    """The database to fill: the given URL, or a scratch one removed afterwards."""
    if database_url:
        yield Target(engine, database_url, "given by --database-url")
    elif engine == "sqlite":
        with tempfile.TemporaryDirectory(prefix="tenantry-bench-") as scratch:
            yield Target(engine, f"sqlite:///{scratch}/bench.db", "file in a temporary directory")
    else:
        cluster = _pgcluster().PostgresCluster.start()
        try:
            cluster.create_database(BENCH_DATABASE)
            yield Target(engine, cluster.url(BENCH_DATABASE), "throwaway local cluster")
        finally:
            cluster.stop()


def _pgcluster() -> Any:
    """The test suite's throwaway-cluster helper (`tests/pgcluster.py`), loaded by path."""
    path = Path(__file__).resolve().parent.parent / "tests" / "pgcluster.py"
    spec = importlib.util.spec_from_file_location("pgcluster", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
