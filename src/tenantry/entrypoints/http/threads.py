"""Where the API faces run their calls into the core: each in a worker thread, at most
`Settings.api_threads` at once in a process, the others waiting their turn.

A worker process runs Python on one core at a time. Threads beyond what the database's own
waits need only take the interpreter from each other: every short release of it (a statement
sent, a row read) then costs its holder a wait of up to the interpreter's switch interval.
Under 16 concurrent GraphQL tenant queries, 2 threads served 1.5 to 2 times the requests of
anyio's default 40 (`docs/performance.md`). The console keeps the default pool: a person's
sign-in hashes a password or waits on an identity provider, which must not hold up the APIs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from anyio import CapacityLimiter, to_thread
from anyio.lowlevel import RunVar

from tenantry.services.context import ServiceContext

T = TypeVar("T")

# One limiter per event loop (anyio's own default limiter is kept the same way).
_LIMITER: RunVar[CapacityLimiter] = RunVar("tenantry_api_threads")


async def in_thread(ctx: ServiceContext, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`call(*args, **kwargs)` in a worker thread, once one of the API faces' is free."""
    try:
        limiter = _LIMITER.get()
    except LookupError:
        limiter = CapacityLimiter(ctx.settings.api_threads)
        _LIMITER.set(limiter)
    return await to_thread.run_sync(partial(call, *args, **kwargs), limiter=limiter)
