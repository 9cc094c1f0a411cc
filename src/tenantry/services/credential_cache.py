"""What authenticating a token read from the database, kept for at most a second.

Every request presents a token, and reading it (and its user, or its API account) was most of
the cost of a cheap request. A process keeps what it read for `seconds` (one at most), counted
from *before* the read began, so a change committed anywhere (a revoked token, a deactivated
user) is seen by every process within that time; a change committed by this process to what
was read clears everything at once (`invalidate`, called after a write transaction commits
that wrote the credentials' tables, or a table whose deletions reach them, or a table it
could not name: `storage.writes`), so its own revocations hold immediately, while the day's
call counter the bulk API writes on every call leaves the cache be. The checks themselves
(the secret's digest, expiry against the clock) run on every request, on what was read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_SECONDS = 1.0
MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class ReadStarted:
    at: float
    generation: int


@dataclass(frozen=True, slots=True)
class _Entry:
    value: Any
    read_at: float
    generation: int


class CredentialCache:
    """A per-process map of token key → what was read for it, with the bounds above."""

    def __init__(
        self, seconds: float = MAX_SECONDS, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = min(seconds, MAX_SECONDS)
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._generation = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.generation != self._generation or self._clock() - entry.read_at >= self.seconds:
            return None
        return entry.value

    def start(self) -> ReadStarted:
        """Call before reading; pass the result to `put`."""
        return ReadStarted(self._clock(), self._generation)

    def put(self, key: str, value: Any, started: ReadStarted) -> None:
        if self.seconds <= 0:
            return
        with self._lock:
            if started.generation != self._generation:
                return  # a write committed meanwhile: what was read may predate it
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = _Entry(value, started.at, started.generation)

    def invalidate(self) -> None:
        """Forget everything (this process committed a write)."""
        with self._lock:
            self._generation += 1
            self._entries.clear()
