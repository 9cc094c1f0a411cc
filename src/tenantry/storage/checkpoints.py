"""SQLite's WAL checkpoints, run by a thread of the server instead of by its requests.

SQLite copies the WAL back into the database file (a checkpoint) in the `COMMIT` that finds
the WAL past `wal_autocheckpoint` pages: the request whose commit crossed it waits for the
copy and its fsync while holding one of its lane's threads, and under a steady load of writes
that is every few commits. The server instead runs a `PASSIVE` checkpoint (which never waits
for readers or writers) from a thread of its own shortly after each burst of commits, and
every connection's `wal_autocheckpoint` is raised to a backstop that only a process without
this thread reaches (the CLI, a script; SQLite also checkpoints when the last connection to
the file closes). Measured over HTTP, a bulk add of 20 users: 0.44 → 0.53 of the raw route
(docs/performance.md).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from tenantry.storage.engine import READONLY, is_sqlite_file

log = logging.getLogger("tenantry.storage")

COALESCE_SECONDS = 0.25
"""How long after a commit the checkpoint waits, so that the commits of a burst are copied
back by one checkpoint rather than one each (each checkpoint syncs the database file: on a
slow disk, fewer are better; 20 ms gave the same rates here). A quarter second of a loaded
server's writes is far from the backstop."""


class WalCheckpointer:
    """Checkpoints an SQLite engine's WAL after its commits, from a thread of its own."""

    def __init__(self, engine: sa.Engine, *, coalesce_seconds: float = COALESCE_SECONDS) -> None:
        if not is_sqlite_file(engine):
            raise ValueError("only an SQLite database in a file has a WAL")
        self.engine = engine
        self.coalesce_seconds = coalesce_seconds
        self.runs = 0
        self.last: tuple[int, int, int] | None = None
        """SQLite's answer to the last checkpoint: (1 if it could not start, the WAL's
        frames, the frames now in the database file)."""
        self._due = threading.Event()
        self._stopping = threading.Event()
        self._done = threading.Condition()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        event.listen(self.engine, "commit", self._committing)
        self._thread = threading.Thread(target=self._run, name="tenantry-checkpoint", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop listening and wait for the thread to end."""
        event.remove(self.engine, "commit", self._committing)
        self._stopping.set()
        self._due.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wait_for_runs(self, more_than: int, timeout: float) -> bool:
        """Block until more than `more_than` checkpoints have run, or `timeout` seconds."""
        with self._done:
            return self._done.wait_for(lambda: self.runs > more_than, timeout)

    def _committing(self, connection: sa.Connection) -> None:
        # Fired as a transaction commits; the checkpoint runs a moment later, after it.
        if not connection.get_execution_options().get(READONLY):
            self._due.set()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._due.wait()
            self._stopping.wait(self.coalesce_seconds)
            self._due.clear()
            self._checkpoint()

    def _checkpoint(self) -> None:
        try:
            connection: Any = self.engine.raw_connection()
            try:
                row = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            finally:
                connection.close()
        except Exception:
            # The next commit tries again; the backstop keeps the WAL bounded meanwhile.
            log.exception("WAL checkpoint failed")
            return
        with self._done:
            self.last = (row[0], row[1], row[2])
            self.runs += 1
            self._done.notify_all()
