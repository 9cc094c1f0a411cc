"""Where the API faces run their calls into the core: each in a worker thread, at most
`Settings.api_threads` at once per lane in a process, the others waiting their turn.

A worker process runs Python on one core at a time. Threads beyond what the database's own
waits need only take the interpreter from each other: every short release of it (a statement
sent, a row read) then costs its holder a wait of up to the interpreter's switch interval.
Under 16 concurrent GraphQL tenant queries, 2 threads served 1.5 to 2 times the requests of
anyio's default 40 (`docs/performance.md`).

Three lanes, so that no kind of call holds up another:

- reads (`in_thread`): GET and HEAD, GraphQL queries, authenticating a caller;
- changes (`in_change_thread`): every other call, which may wait for SQLite's single writer;
- long calls (`in_batch_thread`): the bulk and network faces, whose one call adds or replaces
  thousands of users, SCIM Bulk, and SCIM changes to groups, which move their members.

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

# One limiter per lane and event loop (anyio keeps its own default limiter the same way).
_READS: RunVar[CapacityLimiter] = RunVar("tenantry_read_threads")
_CHANGES: RunVar[CapacityLimiter] = RunVar("tenantry_change_threads")
_BATCHES: RunVar[CapacityLimiter] = RunVar("tenantry_batch_threads")


async def in_thread(ctx: ServiceContext, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`call(*args, **kwargs)`, which only reads, in a worker thread once one is free."""
    return await _run(_READS, ctx, partial(call, *args, **kwargs))


async def in_change_thread(
    ctx: ServiceContext, call: Callable[..., T], *args: Any, **kwargs: Any
) -> T:
    """`in_thread`, for a call that changes something."""
    return await _run(_CHANGES, ctx, partial(call, *args, **kwargs))


async def in_batch_thread(
    ctx: ServiceContext, call: Callable[..., T], *args: Any, **kwargs: Any
) -> T:
    """`in_thread`, for a call that may take seconds."""
    return await _run(_BATCHES, ctx, partial(call, *args, **kwargs))


async def _run(lane: RunVar[CapacityLimiter], ctx: ServiceContext, call: Callable[[], T]) -> T:
    try:
        limiter = lane.get()
    except LookupError:
        limiter = CapacityLimiter(ctx.settings.api_threads)
        lane.set(limiter)
    return await to_thread.run_sync(call, limiter=limiter)
