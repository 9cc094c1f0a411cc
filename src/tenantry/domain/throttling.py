"""Sliding windows for attempt limits, made of fixed slices.

A limit of "n failures in 15 minutes" counted in one fixed window forgets every failure the
moment the window turns over: five wrong codes at 12:14:59 would leave the address free again at
12:15:00. Counting per slice (a fifteenth of the window) and summing the slices of the last
window keeps every failure counted for a whole window after it happened, give or take one slice,
while each slice is still one counter row that any process can increment atomically.

What a window allows is `Limits`: counted per identifier (an address typed, a client id) from
one network address, per network address, and per identifier from everywhere, the last only
slowing guesses down. Counting per identifier alone let anyone lock anyone out: a few wrong
guesses for someone else's identifier, from anywhere, refused its owner too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

SLICES_PER_WINDOW = 15
"""About how many slices a window has: slices are whole seconds, so a window has between 15 and
29 of them (fewer, one per second, when it is shorter than 15 seconds)."""


@dataclass(frozen=True, slots=True)
class SlidingWindow:
    """A window of `length`, counted in slices of whole seconds named by their number. The
    slices read never reach further back than `length`."""

    length: timedelta

    @property
    def slice_seconds(self) -> int:
        return max(1, int(self.length.total_seconds()) // SLICES_PER_WINDOW)

    @property
    def slice_count(self) -> int:
        return max(1, int(self.length.total_seconds()) // self.slice_seconds)

    def current_slice(self, now: datetime) -> str:
        """The slice an attempt made at `now` is counted in."""
        return str(int(now.timestamp()) // self.slice_seconds)

    def slices(self, now: datetime) -> list[str]:
        """The slices whose counts are still within the window at `now`, the current one
        included."""
        current = int(now.timestamp()) // self.slice_seconds
        return [str(current - back) for back in range(self.slice_count)]

    def slice_expiry(self, now: datetime) -> datetime:
        """When a slice counted at `now` can be purged: once no window reads it any more."""
        return now + self.length + timedelta(seconds=self.slice_seconds)


@dataclass(frozen=True, slots=True)
class Counts:
    """Attempts counted within the window before the one being decided, for its identifier
    from its network address (`pair`), for its network address (`source`) and for its
    identifier from every address (`identifier`)."""

    pair: int
    source: int
    identifier: int


@dataclass(frozen=True, slots=True)
class Limits:
    """How many attempts a window allows: `per_pair` for an identifier from one network
    address, `per_source` for a network address whatever it tries; past `ceiling` attempts for
    an identifier from every address together, only addresses that have not tried it yet are
    still heard."""

    per_pair: int
    per_source: int
    ceiling: int

    def refuse(self, counts: Counts) -> bool:
        """Whether an attempt is refused without being checked."""
        if counts.pair >= self.per_pair or counts.source >= self.per_source:
            return True
        # Past the ceiling a guesser with many addresses gets one try per address and window,
        # while the owner, on an address that has not failed for the identifier, still gets in.
        return counts.identifier >= self.ceiling and counts.pair > 0
