"""SQLite's WAL checkpoints, run by a thread of the server instead of by its requests.

SQLite copies the WAL back into the database file (a checkpoint) in the `COMMIT` that finds
the WAL past `wal_autocheckpoint` pages: the request whose commit crossed it waits for the
copy and its fsync while holding one of its lane's threads, and under a steady load of writes
that is every few commits. While a server runs, a thread of its own runs a `PASSIVE`
checkpoint (which never waits for readers or writers) shortly after each burst of commits,
again until the WAL is all copied (a reader's snapshot, another process's checkpoint, or a
commit landing just after one can leave some behind), and every `IDLE_SECONDS` for what
other processes on the file commit (the CLI, `tenantry outbox run`). Its engine's connections
made meanwhile checkpoint themselves only past a backstop (`engine.WAL_BACKSTOP_PAGES`);
other processes keep SQLite's default. Measured over HTTP, a bulk add of 20 users: 0.44 to 0.47
→ 0.48 to 0.53 of the raw route (docs/performance.md).

With `synchronous=NORMAL` a checkpoint is also what syncs the WAL: the thread keeps what a
power loss could take back to the last quarter second or so of writes.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import weakref
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from tenantry.storage.engine import CHECKPOINTED, READONLY, is_sqlite_file

log = logging.getLogger("tenantry.storage")

COALESCE_SECONDS = 0.25
"""How long after a commit the checkpoint waits, so that the commits of a burst are copied
back by one checkpoint rather than one each (each checkpoint syncs the database file: on a
slow disk, fewer are better; 20 ms gave the same rates here). A quarter second of a loaded
server's writes is far from the backstop."""
IDLE_SECONDS = 5.0
"""How often the thread checkpoints when no commit of its process woke it."""
# Engine → the checkpointer running for it. The engine's listeners are registered once, for its
# life, and look here: removing a listener while another thread commits can make that commit
# fail (SQLAlchemy iterates the listeners without a lock).
_RUNNING: weakref.WeakKeyDictionary[sa.Engine, WalCheckpointer] = weakref.WeakKeyDictionary()
_HOOKED: weakref.WeakSet[sa.Engine] = weakref.WeakSet()
_HOOKING = threading.Lock()
_COMMITTED = "tenantry_committed"  # on a pooled connection's record: it committed a write


class WalCheckpointer:
    """Checkpoints an SQLite engine's WAL after its commits, from a thread of its own; runs
    once (`start`, then `stop`)."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        coalesce_seconds: float = COALESCE_SECONDS,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        if not is_sqlite_file(engine):
            raise ValueError("only an SQLite database in a file has a WAL")
        if coalesce_seconds <= 0 or idle_seconds <= 0:
            raise ValueError("the waits must be positive")
        self.engine = engine
        self.coalesce_seconds = coalesce_seconds
        self.idle_seconds = idle_seconds
        self.runs = 0
        self.last: tuple[int, int, int] | None = None
        """SQLite's answer to the last checkpoint: (1 if it could not run, the WAL's frames,
        the frames now in the database file)."""
        self._due = threading.Event()
        self._stopping = threading.Event()
        self._done = threading.Condition()
        self._thread: threading.Thread | None = None
        self._connection: Any = None

    def start(self) -> None:
        if self._connection is not None or self._stopping.is_set():
            raise RuntimeError("a checkpointer runs once")
        self._connection = _own_connection(self.engine)  # what fails to open fails here
        _hook(self.engine)
        with _HOOKING:
            if self.engine in _RUNNING:
                self._connection.close()
                raise RuntimeError("a checkpointer already runs for this engine")
            _RUNNING[self.engine] = self
            CHECKPOINTED.add(self.engine)
        # Pooled connections keep SQLite's default; the ones made from now on, the backstop
        # (`engine.WAL_BACKSTOP_PAGES`).
        self.engine.dispose()
        self._thread = threading.Thread(target=self._run, name="tenantry-checkpoint", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop hearing commits, wait for the thread to end, and let the connections made
        with the backstop go."""
        with _HOOKING:
            mine = _RUNNING.get(self.engine) is self
            if mine:
                del _RUNNING[self.engine]
                CHECKPOINTED.discard(self.engine)
        self._stopping.set()
        self._due.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if mine:
            self.engine.dispose()

    def wake(self) -> None:
        self._due.set()

    def wait_for_runs(self, more_than: int, timeout: float) -> bool:
        """Block until more than `more_than` checkpoints have run, or `timeout` seconds."""
        with self._done:
            return self._done.wait_for(lambda: self.runs > more_than, timeout)

    def _run(self) -> None:
        failing = False
        try:
            while not self._stopping.is_set():
                if self._due.wait(self.idle_seconds):
                    self._due.clear()  # before the wait: a commit during it wakes it again
                    self._stopping.wait(self.coalesce_seconds)
                try:
                    row = self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except Exception:
                    if not failing:  # once per run of failures; then every `idle_seconds`
                        log.exception("WAL checkpoint failed")
                    failing = True
                    self._reconnect()
                    continue
                failing = False
                if not self._record(row):
                    self._due.set()  # again, after the coalescing wait
        finally:
            self._connection.close()

    def _reconnect(self) -> None:
        with contextlib.suppress(Exception):
            self._connection.close()
            self._connection = _own_connection(self.engine)

    def _record(self, row: tuple[int, int, int]) -> bool:
        """Keep a checkpoint's answer; whether it copied the whole WAL."""
        with self._done:
            self.last = (row[0], row[1], row[2])
            self.runs += 1
            self._done.notify_all()
        busy, frames, copied = row
        return not busy and copied >= frames


def _own_connection(engine: sa.Engine) -> Any:
    """A driver connection to the engine's database outside its pool (a checkpoint never
    waits for one of the requests' connections). Made from the URL alone: a `PASSIVE`
    checkpoint never waits on a lock, so the engine's busy timeout does not matter."""
    cargs, cparams = engine.dialect.create_connect_args(engine.url)
    connection = engine.dialect.connect(*cargs, **cparams)
    connection.isolation_level = None
    return connection


def _hook(engine: sa.Engine) -> None:
    """Listen to the engine's commits, once for its life. The `commit` event fires before
    the commit reaches the database: it marks the connection, and the connection's return
    to the pool, after the commit, wakes the thread."""
    with _HOOKING:
        if engine in _HOOKED:
            return
        _HOOKED.add(engine)

    def committing(connection: sa.Connection) -> None:
        if engine in _RUNNING and not connection.get_execution_options().get(READONLY):
            connection.info[_COMMITTED] = True

    def checked_in(_pooled: Any, record: Any) -> None:
        running = _RUNNING.get(engine) if record.info.pop(_COMMITTED, False) else None
        if running is not None:
            running.wake()

    event.listen(engine, "commit", committing)
    event.listen(engine, "checkin", checked_in)
