"""A server checkpoints SQLite's WAL from a thread of its own (`storage.checkpoints`): after
its commits, until the WAL is all copied, and now and then for other processes' commits; its
connections leave checkpoints to it up to a backstop."""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tenantry.app import Composition
from tenantry.domain.accounts import Account
from tenantry.services import setup
from tenantry.storage.checkpoints import COALESCE_SECONDS, WalCheckpointer
from tenantry.storage.engine import WAL_BACKSTOP_PAGES, create_engine

from factories import make_account

SQLITE_DEFAULT_PAGES = 1_000
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def database_file(composition: Composition) -> Path:
    return Path(composition.settings.database_url.removeprefix("sqlite:///"))


def in_file_alone(path: Path, tmp_path: Path, account_name: str) -> bool:
    """Whether the database file, without its WAL, holds an account of that name (only a
    checkpoint copies a commit from the WAL into the file)."""
    copy = tmp_path / "copy.db"
    shutil.copyfile(path, copy)
    try:
        with sqlite3.connect(copy) as conn:
            found = conn.execute("SELECT 1 FROM accounts WHERE name = ?", (account_name,))
            return found.fetchone() is not None
    except sqlite3.DatabaseError:
        return False  # copied halfway through a checkpoint: not there yet


def eventually(condition: Callable[[], bool], seconds: float = 5) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def host(composition: Composition) -> Account:
    init = setup.initialize(composition.context, admin_email="admin@checkpoints.example")
    with composition.context.uow(readonly=True) as uow:
        return uow.accounts.get(init.account_id)


def engine_of(composition: Composition) -> object:
    return composition.context.uow.engine  # type: ignore[attr-defined]


def all_copied(checkpointer: WalCheckpointer) -> bool:
    last = checkpointer.last
    return last is not None and last[0] == 0 and last[2] == last[1]


def started(composition: Composition) -> WalCheckpointer:
    checkpointer = composition.start_checkpointer()
    assert checkpointer is not None
    return checkpointer


def held_back(checkpointer: WalCheckpointer) -> bool:
    last = checkpointer.last
    return last is not None and last[2] < last[1]


def autocheckpoint(composition: Composition) -> int:
    with engine_of(composition).connect() as conn:  # type: ignore[attr-defined]
        pages: int = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
        return pages


@SQLITE
def test_only_a_running_checkpointer_raises_the_backstop(composition: Composition) -> None:
    assert autocheckpoint(composition) == SQLITE_DEFAULT_PAGES  # the CLI, a script
    started(composition)
    assert autocheckpoint(composition) == WAL_BACKSTOP_PAGES
    composition.stop_checkpointer()  # and the connections made meanwhile go
    assert autocheckpoint(composition) == SQLITE_DEFAULT_PAGES


@SQLITE
def test_commits_are_copied_back_by_the_checkpointer(
    composition: Composition, tmp_path: Path
) -> None:
    parent = host(composition)
    path = database_file(composition)
    # A long wait after commits, so that the WAL is seen holding the commit first.
    checkpointer = WalCheckpointer(engine_of(composition), coalesce_seconds=3)  # type: ignore[arg-type]
    checkpointer.start()
    try:
        make_account(composition.context, parent=parent, name="Copied back")
        assert not in_file_alone(path, tmp_path, "Copied back")  # the commit left it alone
        assert eventually(lambda: in_file_alone(path, tmp_path, "Copied back"), seconds=8)
        assert eventually(lambda: all_copied(checkpointer))
    finally:
        checkpointer.stop()


@SQLITE
def test_what_a_reader_held_back_is_copied_without_another_commit(
    composition: Composition, tmp_path: Path
) -> None:
    parent = host(composition)
    checkpointer = started(composition)
    reader = sqlite3.connect(database_file(composition), isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM accounts").fetchone()  # a snapshot from before
        make_account(composition.context, parent=parent, name="Held back")
        # The reader's snapshot holds the commit's frames back, checkpoint after checkpoint.
        assert eventually(lambda: held_back(checkpointer))
    finally:
        reader.close()
    # Again within a few quarter seconds, long before the idle checkpoint (5 s).
    copied = lambda: in_file_alone(database_file(composition), tmp_path, "Held back")  # noqa: E731
    assert eventually(copied, seconds=2)


@SQLITE
def test_other_processes_commits_are_copied_back_when_idle(
    composition: Composition, tmp_path: Path
) -> None:
    parent = host(composition)
    engine = engine_of(composition)
    checkpointer = WalCheckpointer(engine, idle_seconds=0.2)  # type: ignore[arg-type]
    checkpointer.start()
    other = create_engine(composition.settings.database_url)  # another process's, unheard
    try:
        with other.connect() as conn:
            conn.exec_driver_sql(
                "UPDATE accounts SET name = 'Renamed elsewhere' WHERE id = ?", (parent.id,)
            )
            conn.commit()
        path = database_file(composition)
        assert eventually(lambda: in_file_alone(path, tmp_path, "Renamed elsewhere"))
    finally:
        checkpointer.stop()
        other.dispose()


@SQLITE
def test_reads_do_not_wake_the_checkpointer(composition: Composition) -> None:
    parent = host(composition)
    checkpointer = started(composition)
    make_account(composition.context, parent=parent, name="Written")
    assert eventually(lambda: all_copied(checkpointer))
    runs = checkpointer.runs

    for _ in range(5):
        with composition.context.uow(readonly=True) as uow:
            uow.accounts.get(parent.id)
    assert not checkpointer.wait_for_runs(runs, timeout=COALESCE_SECONDS + 0.5)


@SQLITE
def test_a_checkpointer_runs_once(composition: Composition) -> None:
    checkpointer = WalCheckpointer(engine_of(composition))  # type: ignore[arg-type]
    checkpointer.start()
    with pytest.raises(RuntimeError):
        WalCheckpointer(engine_of(composition)).start()  # type: ignore[arg-type]
    checkpointer.stop()
    with pytest.raises(RuntimeError):
        checkpointer.start()


@SQLITE
def test_a_stopped_checkpointer_leaves_commits_alone(composition: Composition) -> None:
    parent = host(composition)
    checkpointer = started(composition)
    composition.stop_checkpointer()
    runs = checkpointer.runs
    make_account(composition.context, parent=parent, name="After the stop")  # no error
    assert checkpointer.runs == runs
    again = started(composition)  # a server started again in the same process
    assert again is not checkpointer


@SQLITE
def test_the_server_checkpoints_while_it_runs(composition: Composition, tmp_path: Path) -> None:
    parent = host(composition)
    with TestClient(composition.asgi_app()):  # runs the server's lifespan
        make_account(composition.context, parent=parent, name="While serving")
        path = database_file(composition)
        assert eventually(lambda: in_file_alone(path, tmp_path, "While serving"))


def test_postgresql_has_no_checkpointer(composition: Composition) -> None:
    started = composition.start_checkpointer()
    sqlite = engine_of(composition).dialect.name == "sqlite"  # type: ignore[attr-defined]
    assert (started is not None) is sqlite
