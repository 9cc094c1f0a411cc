"""Where the API faces run their calls into the core: each in a worker thread, at most
`Settings.api_threads` at once in a process, the others waiting their turn, in two lanes.

A worker process runs Python on one core at a time. Threads beyond what the database's own
waits need only take the interpreter from each other: every short release of it (a statement
sent, a row read) then costs its holder a wait of up to the interpreter's switch interval.
Under 16 concurrent GraphQL tenant queries, 2 threads served 1.5 to 2 times the requests of
anyio's default 40 (`docs/performance.md`).

Calls that may take seconds (the bulk and network faces, whose one call adds or replaces
thousands of users, and SCIM Bulk) have a lane of their own (`in_batch_thread`), with as many
threads: two of them at work never hold up a GraphQL query or a token. The console keeps
anyio's default pool: a person's sign-in hashes a password or waits on an identity provider.
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
_QUICK: RunVar[CapacityLimiter] = RunVar("tenantry_api_threads")
_BATCH: RunVar[CapacityLimiter] = RunVar("tenantry_batch_threads")


async def in_thread(ctx: ServiceContext, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`call(*args, **kwargs)` in a worker thread, once one of the API faces' is free."""
    return await _run(_QUICK, ctx, partial(call, *args, **kwargs))


async def in_batch_thread(
    ctx: ServiceContext, call: Callable[..., T], *args: Any, **kwargs: Any
) -> T:
    """`in_thread`, in the lane of calls that may take seconds."""
    return await _run(_BATCH, ctx, partial(call, *args, **kwargs))


async def _run(lane: RunVar[CapacityLimiter], ctx: ServiceContext, call: Callable[[], T]) -> T:
    try:
        limiter = lane.get()
    except LookupError:
        limiter = CapacityLimiter(ctx.settings.api_threads)
        lane.set(limiter)
    return await to_thread.run_sync(call, limiter=limiter)
