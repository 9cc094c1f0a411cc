"""Sliding windows: an attempt counts for a whole window after it, whatever the clock says.
Limits: an address is refused for its own attempts, never because others failed."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tenantry.domain.throttling import SLICES_PER_WINDOW, Counts, Limits, SlidingWindow

WINDOWS = st.integers(min_value=10, max_value=86_400).map(
    lambda s: SlidingWindow(timedelta(seconds=s))
)
MOMENTS = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)


@given(window=WINDOWS, attempt=MOMENTS, later=st.floats(min_value=0, max_value=1))
def test_an_attempt_counts_until_nearly_a_window_has_passed(
    window: SlidingWindow, attempt: datetime, later: float
) -> None:
    # Within one window less one slice of the attempt, its slice is always still read.
    reach = window.slice_seconds * (window.slice_count - 1) * later
    now = attempt + timedelta(seconds=reach)
    assert window.current_slice(attempt) in window.slices(now)


@given(window=WINDOWS, attempt=MOMENTS, after=st.integers(min_value=0, max_value=10**6))
def test_an_attempt_stops_counting_once_a_window_has_passed(
    window: SlidingWindow, attempt: datetime, after: int
) -> None:
    now = attempt + window.length + timedelta(seconds=after)
    assert window.current_slice(attempt) not in window.slices(now)


@given(window=WINDOWS, attempt=MOMENTS)
def test_a_slice_outlives_every_window_that_reads_it(
    window: SlidingWindow, attempt: datetime
) -> None:
    last_reader = attempt
    slice_name = window.current_slice(attempt)
    # The last moment whose window still reads the slice is before its expiry.
    while slice_name in window.slices(last_reader + timedelta(seconds=window.slice_seconds)):
        last_reader += timedelta(seconds=window.slice_seconds)
    assert window.slice_expiry(attempt) > last_reader


def test_failures_just_before_a_fixed_window_turns_over_still_count() -> None:
    window = SlidingWindow(timedelta(minutes=15))
    just_before = datetime(2026, 11, 24, 12, 14, 59, tzinfo=UTC)
    just_after = datetime(2026, 11, 24, 12, 15, 30, tzinfo=UTC)
    assert window.current_slice(just_before) in window.slices(just_after)
    assert len(window.slices(just_after)) == SLICES_PER_WINDOW


# -- what a window allows ----------------------------------------------------------------------

LIMITS = st.builds(
    Limits,
    per_pair=st.integers(min_value=1, max_value=20),
    per_source=st.integers(min_value=1, max_value=50),
    ceiling=st.integers(min_value=1, max_value=200),
)
COUNTS = st.integers(min_value=0, max_value=500)


@given(limits=LIMITS, source=COUNTS, identifier=COUNTS)
def test_an_address_that_has_not_failed_for_an_identifier_is_heard(
    limits: Limits, source: int, identifier: int
) -> None:
    # However often others failed for it: only the address's own failures can refuse it.
    counts = Counts(pair=0, source=source % limits.per_source, identifier=identifier)
    assert not limits.refuse(counts)


@given(limits=LIMITS, pair=COUNTS, source=COUNTS, identifier=COUNTS)
def test_an_address_is_refused_once_it_used_up_its_attempts(
    limits: Limits, pair: int, source: int, identifier: int
) -> None:
    assert limits.refuse(Counts(limits.per_pair + pair, source, identifier))
    assert limits.refuse(Counts(pair, limits.per_source + source, identifier))


@given(limits=LIMITS, pair=st.integers(min_value=1, max_value=500), identifier=COUNTS)
def test_past_the_ceiling_an_address_that_failed_for_the_identifier_is_refused(
    limits: Limits, pair: int, identifier: int
) -> None:
    assert limits.refuse(Counts(pair, 0, limits.ceiling + identifier))


@given(
    limits=LIMITS,
    before=st.builds(Counts, COUNTS, COUNTS, COUNTS),
    more=st.tuples(COUNTS, COUNTS, COUNTS),
)
def test_more_attempts_never_lift_a_refusal(
    limits: Limits, before: Counts, more: tuple[int, int, int]
) -> None:
    # Within a window counts only grow, and a pair's attempts count for its source and its
    # identifier too: a refused address stays refused until its attempts are a window old.
    own, from_source, for_identifier = more
    after = Counts(
        before.pair + own,
        before.source + own + from_source,
        before.identifier + own + for_identifier,
    )
    assert not limits.refuse(before) or limits.refuse(after)


@given(limits=LIMITS, guesses=st.lists(st.integers(min_value=0, max_value=30), max_size=400))
def test_many_addresses_get_about_one_guess_each_past_the_ceiling(
    limits: Limits, guesses: list[int]
) -> None:
    # Guesses for one identifier, each from the numbered address, within one window; the
    # owner then tries from an address that has not failed.
    per_address: Counter[int] = Counter()
    heard = 0
    for address in guesses:
        counts = Counts(per_address[address], per_address[address], heard)
        if not limits.refuse(counts):
            heard += 1
            per_address[address] += 1
    assert heard <= limits.ceiling + len(set(guesses))
    assert all(n <= limits.per_pair for n in per_address.values())
    assert not limits.refuse(Counts(0, 0, heard))
