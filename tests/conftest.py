"""Fixtures shared by every test: migrated databases on SQLite and on PostgreSQL.

Migrating for every test would dominate the run time, so each engine is migrated once per
session into a template, and every test gets a fresh copy of it: a file copy on SQLite,
CREATE DATABASE ... TEMPLATE on PostgreSQL. Under pytest-xdist each worker does this for itself
(and starts its own PostgreSQL cluster), so workers never share a database.

Set TENANTRY_TEST_SKIP_POSTGRES=1 to skip the PostgreSQL tests on a machine without PostgreSQL;
otherwise they fail, so that a missing server is never mistaken for a green run.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from mailserver import Inbox, smtp_server
from pgcluster import PostgresCluster, PostgresUnavailable

if TYPE_CHECKING:
    import sqlalchemy

    from tenantry.app import Composition
    from tenantry.services.context import ServiceContext

    from factories import World

SKIP_POSTGRES_ENV = "TENANTRY_TEST_SKIP_POSTGRES"
TEMPLATE_DATABASE = "tenantry_template"

_database_names = (f"test_{number}" for number in itertools.count(1))


FAULTS_DIR = Path(__file__).parent / "faults"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--faults",
        action="store_true",
        help="collect the fault suite in tests/faults (`make faults`); left out otherwise",
    )


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    # The fault suite kills, restarts and loads servers for minutes: `make faults` runs it,
    # on its own, rather than `make test` beside the rest.
    if collection_path == FAULTS_DIR and not config.getoption("--faults"):
        return True
    return None


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tests asking for the cluster directly belong with the other PostgreSQL tests, so that
    # `-m "not postgres"` leaves them out as well.
    for item in items:
        if "pg_cluster" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


def _upgrade_database(url: str) -> None:
    # Imported here so that this file loads even while the storage layer is incomplete.
    from tenantry.storage.migrations import upgrade_database

    upgrade_database(url)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """The session's own PostgreSQL cluster; ``.url(dbname)``, ``.create_database(name)``."""
    if os.environ.get(SKIP_POSTGRES_ENV) == "1":
        pytest.skip(f"PostgreSQL tests skipped because {SKIP_POSTGRES_ENV}=1")
    try:
        cluster = PostgresCluster.start()
    except PostgresUnavailable as exc:
        missing = str(exc)
    else:
        missing = None
    if missing is not None:  # failed outside the handler, so the report is just the message
        pytest.fail(
            f"{missing}. Install PostgreSQL (Debian: apt-get install postgresql), or set "
            f"{SKIP_POSTGRES_ENV}=1 to skip the tests marked 'postgres'.",
            pytrace=False,
        )
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgres_template(pg_cluster: PostgresCluster) -> str:
    """Name of the migrated template database that per-test databases are copied from."""
    pg_cluster.create_database(TEMPLATE_DATABASE)
    _upgrade_database(pg_cluster.url(TEMPLATE_DATABASE))
    pg_cluster.freeze_template(TEMPLATE_DATABASE)
    return TEMPLATE_DATABASE


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a migrated SQLite file that per-test databases are copied from."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    _upgrade_database(f"sqlite:///{path}")
    # Fold a write-ahead log, if the migrations left one, into the file so a plain copy is whole.
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a freshly migrated database of its own, once per supported engine."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "t.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return

    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    name = next(_database_names)
    cluster.create_database(name, template=request.getfixturevalue("postgres_template"))
    try:
        yield cluster.url(name)
    finally:
        # Dropped at once: hundreds of leftover databases would cost gigabytes of disk.
        cluster.drop_database(name)


@pytest.fixture
def engine(database_url: str) -> Iterator[sqlalchemy.Engine]:
    """An engine on the test's own database, built the way the application builds it."""
    from tenantry.storage.engine import create_engine

    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def composition(database_url: str) -> Iterator[Composition]:
    """The application wired on the test's own database, as `tenantry.app` wires it."""
    from tenantry.app import Composition
    from tenantry.services.passwords import Argon2Hasher
    from tenantry.settings import Settings

    # The tests' identity providers run on 127.0.0.1 over plain http.
    built = Composition(
        Settings(database_url=database_url, base_url="http://testserver", sso_allow_insecure=True)
    )
    # Argon2 at production cost would make password-heavy tests slow; the algorithm is the same.
    built.context.passwords = Argon2Hasher(time_cost=1, memory_cost=1024)
    try:
        yield built
    finally:
        built.dispose()


@pytest.fixture
def ctx(composition: Composition) -> ServiceContext:
    """The service context every service function takes."""
    return composition.context


@pytest.fixture
def world(ctx: ServiceContext) -> World:
    """A host partner with an admin, and two advertisers under it (see tests/factories.py)."""
    from factories import build_world

    return build_world(ctx)


@pytest.fixture
def mail_server() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on 127.0.0.1 for the test, and its port."""
    with smtp_server() as server:
        yield server


@pytest.fixture
def inbox(mail_server: tuple[Inbox, int]) -> Inbox:
    return mail_server[0]
