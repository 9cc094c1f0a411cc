"""Attempt limits counted in the database, so that they hold across processes.

Sign-in failures, second-factor codes, password reset requests and the client-credentials grant
all count attempts per key (an address typed, a client id, a network address) over a sliding
window (`domain.throttling.SlidingWindow`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from tenantry.domain.throttling import SlidingWindow
from tenantry.services.ports import UnitOfWork

Limit = tuple[str, int]
"""A counter key and the attempts it allows per window."""


def exhausted(
    uow: UnitOfWork, window: SlidingWindow, limits: Iterable[Limit], now: datetime
) -> bool:
    """Whether any key has used up its attempts within the window ending at `now`."""
    slices = window.slices(now)
    return any(uow.counters.total(key, slices) >= allowed for key, allowed in limits)


def count_attempt(
    uow: UnitOfWork, window: SlidingWindow, limits: Iterable[Limit], now: datetime
) -> bool:
    """Count one attempt against every key; whether it went past any key's limit."""
    current, expires = window.current_slice(now), window.slice_expiry(now)
    slices = window.slices(now)
    over = False
    for key, allowed in limits:
        uow.counters.increment(key, current, expires)
        over = uow.counters.total(key, slices) > allowed or over
    return over
