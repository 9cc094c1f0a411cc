"""Sliding windows: an attempt counts for a whole window after it, whatever the clock says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tenantry.domain.throttling import SLICES_PER_WINDOW, SlidingWindow

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
