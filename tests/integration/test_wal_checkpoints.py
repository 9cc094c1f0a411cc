"""A server checkpoints SQLite's WAL from a thread of its own (`storage.checkpoints`), and a
request's commit leaves it alone until the WAL reaches the backstop."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tenantry.app import Composition
from tenantry.domain.accounts import Account
from tenantry.services import setup
from tenantry.storage.checkpoints import COALESCE_SECONDS, WalCheckpointer
from tenantry.storage.engine import SQLITE_WAL_BACKSTOP_PAGES, create_engine

from factories import make_account


def database_file(composition: Composition) -> Path:
    return Path(composition.settings.database_url.removeprefix("sqlite:///"))


def in_file_alone(path: Path, tmp_path: Path, account_name: str) -> bool:
    """Whether the database file, without its WAL, holds an account of that name (only a
    checkpoint copies a commit from the WAL into the file)."""
    copy = tmp_path / "copy.db"
    shutil.copyfile(path, copy)
    with sqlite3.connect(copy) as conn:
        found = conn.execute("SELECT 1 FROM accounts WHERE name = ?", (account_name,))
        return found.fetchone() is not None


def host(composition: Composition) -> Account:
    init = setup.initialize(composition.context, admin_email="admin@checkpoints.example")
    with composition.context.uow(readonly=True) as uow:
        return uow.accounts.get(init.account_id)


def test_connections_leave_checkpoints_to_the_server_up_to_the_backstop(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        with engine.connect() as conn:
            pages = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
        assert pages == SQLITE_WAL_BACKSTOP_PAGES
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_commits_are_copied_back_by_the_checkpointer(
    composition: Composition, tmp_path: Path
) -> None:
    parent = host(composition)
    make_account(composition.context, parent=parent, name="Before the thread")
    assert not in_file_alone(database_file(composition), tmp_path, "Before the thread")

    checkpointer = composition.start_checkpointer()
    assert isinstance(checkpointer, WalCheckpointer)
    runs = checkpointer.runs
    make_account(composition.context, parent=parent, name="Copied back")

    assert checkpointer.wait_for_runs(runs, timeout=5)
    assert checkpointer.last is not None
    busy, frames, copied = checkpointer.last
    assert (busy, copied) == (0, frames)
    assert frames > 0
    assert in_file_alone(database_file(composition), tmp_path, "Copied back")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_reads_do_not_wake_the_checkpointer(composition: Composition) -> None:
    parent = host(composition)
    checkpointer = composition.start_checkpointer()
    assert checkpointer is not None
    make_account(composition.context, parent=parent, name="Written")
    assert checkpointer.wait_for_runs(0, timeout=5)
    runs = checkpointer.runs

    for _ in range(5):
        with composition.context.uow(readonly=True) as uow:
            uow.accounts.get(parent.id)
    assert not checkpointer.wait_for_runs(runs, timeout=COALESCE_SECONDS + 0.5)


def test_the_server_checkpoints_while_it_runs(composition: Composition, tmp_path: Path) -> None:
    parent = host(composition)
    engine_name = composition.context.uow.engine.dialect.name  # type: ignore[attr-defined]
    with TestClient(composition.asgi_app()):  # runs the server's lifespan
        make_account(composition.context, parent=parent, name="While serving")
        if engine_name != "sqlite":
            assert composition.start_checkpointer() is None  # PostgreSQL has no WAL of ours
            return
        deadline = time.monotonic() + 5
        path = database_file(composition)
        while not in_file_alone(path, tmp_path, "While serving") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert in_file_alone(path, tmp_path, "While serving")
