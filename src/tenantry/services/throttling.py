"""Attempt limits counted in the database, so that they hold across processes.

Sign-in failures (passwords and second-factor codes), client-credential failures and password
reset requests are each a `Throttle`: counted per identifier (an address typed, a client id)
from one network address, per network address, and per identifier from every address, over a
sliding window, and decided by `domain.throttling.Limits`. An attempt costs one statement to
decide (the three totals) and, when it counts, one more to count (one upsert of three rows).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from tenantry.domain.throttling import Counts, Limits, SlidingWindow
from tenantry.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class Throttle:
    """One kind of attempt: the name its counters go by, its window and its limits."""

    name: str
    window: SlidingWindow
    limits: Limits

    def keys(self, identifier: str, source: str) -> tuple[str, str, str]:
        """The counter keys of an attempt: its pair, its source and its identifier."""
        # The pair is a digest, as the two together could outgrow the key column; the length
        # in front keeps one identifier and address from spelling the same as another pair.
        joined = f"{len(identifier)}:{identifier}{source}".encode()
        pair = hashlib.sha256(joined).hexdigest()[:32]
        return (
            f"{self.name}:pair:{pair}",
            f"{self.name}:source:{source[:64]}",
            f"{self.name}:id:{identifier[:150]}",
        )


def refused(
    uow: UnitOfWork, throttle: Throttle, identifier: str, source: str, now: datetime
) -> bool:
    """Whether an attempt for `identifier` from the network address `source` is refused
    unchecked, on what the window ending at `now` has counted. One statement."""
    keys = throttle.keys(identifier, source)
    totals = uow.counters.totals(keys, throttle.window.slices(now))
    pair, from_source, for_identifier = (totals.get(key, 0) for key in keys)
    return throttle.limits.refuse(Counts(pair, from_source, for_identifier))


def count(uow: UnitOfWork, throttle: Throttle, identifier: str, source: str, now: datetime) -> None:
    """Count an attempt against its pair, its source and its identifier. One statement.

    Callers count only attempts that were not refused: refused ones would let a single
    address push an identifier past its ceiling by itself. Attempts that arrive together may
    all pass `refused` before any is counted; that bounds a burst by its concurrency, and
    lets the check come before the costly password check it spares.
    """
    window = throttle.window
    uow.counters.increment_each(
        throttle.keys(identifier, source), window.current_slice(now), window.slice_expiry(now)
    )
