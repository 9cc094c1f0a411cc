"""Where the API faces run their calls into the core: each in a worker thread, at most
`Settings.api_threads` at once per lane in a process, the others waiting their turn.

A worker process runs Python on one core at a time. Threads beyond what the database's own
waits need only take the interpreter from each other: every short release of it (a statement
sent, a row read) then costs its holder a wait of up to the interpreter's switch interval.
Under 16 concurrent GraphQL tenant queries, 2 threads served 1.5 to 2 times the requests of
anyio's default 40 (`docs/performance.md`).

Three lanes, so that no kind of call holds up another:

- `READS`: GET and HEAD, GraphQL queries, authenticating a caller;
- `CHANGES`: every other call, which may wait for SQLite's single writer;
- `LONG_CALLS`: the bulk and network faces, whose one call adds or replaces thousands of
  users, SCIM Bulk, and SCIM changes to groups, which move their members.

The console keeps anyio's default pool: a person's sign-in hashes a password or waits on an
identity provider.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from anyio import CapacityLimiter, to_thread
from anyio.lowlevel import RunVar

from tenantry.services.context import ServiceContext

T = TypeVar("T")


class Lane:
    """A kind of call, and the threads it waits for: one limiter per event loop (anyio keeps
    its own default limiter the same way), of `Settings.api_threads`."""

    def __init__(self, name: str) -> None:
        self._limiter: RunVar[CapacityLimiter] = RunVar(f"tenantry_{name}_threads")

    async def run(
        self, ctx: ServiceContext, call: Callable[..., T], *args: Any, **kwargs: Any
    ) -> T:
        """`call(*args, **kwargs)` in a worker thread, once one of the lane's is free."""
        try:
            limiter = self._limiter.get()
        except LookupError:
            limiter = CapacityLimiter(ctx.settings.api_threads)
            self._limiter.set(limiter)
        return await to_thread.run_sync(partial(call, *args, **kwargs), limiter=limiter)


READS = Lane("read")
CHANGES = Lane("change")
LONG_CALLS = Lane("long_call")
