"""The filter rule (`SignalFilter`): after any series of updates, every pixel, present or added
later, has the state a plain per-pixel model gives it. Pure domain logic, no database; it sits
with the other gateway tests."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tenantry.domain.pixels import FilterKind, FilterState, SignalFilter

PIXELS = ["1", "2", "3", "4"]
NEW_PIXEL = "99"

updates = st.lists(
    st.tuples(
        st.sampled_from([FilterState.PUBLISH, FilterState.DROP]),
        st.none() | st.frozensets(st.sampled_from(PIXELS)),
    ),
    max_size=12,
)


@given(updates)
def test_a_filter_matches_a_per_pixel_model(
    steps: list[tuple[FilterState, frozenset[str] | None]],
) -> None:
    signal_filter = SignalFilter("account1", FilterKind.EVENT, "Lead")
    default = FilterState.PUBLISH  # what pixels nobody named, and new pixels, get
    model = dict.fromkeys(PIXELS, default)
    for state, pixel_ids in steps:
        signal_filter = signal_filter.applied(state, pixel_ids)
        if pixel_ids is None:
            default = state
            model = dict.fromkeys(PIXELS, state)
        else:
            model.update(dict.fromkeys(pixel_ids, state))
        assert signal_filter.state is not FilterState.MIXED
        assert signal_filter.pixel_ids is None or signal_filter.pixel_ids  # never an empty list
    assert {p: signal_filter.state_of(p) for p in PIXELS} == model
    assert signal_filter.state_of(NEW_PIXEL) is default
    states = set(model.values())
    expected = states.pop() if len(states) == 1 else FilterState.MIXED
    assert signal_filter.overall(PIXELS) is expected
    assert signal_filter.overall([]) is default
    assert signal_filter.is_default == (
        default is FilterState.PUBLISH and all(s is FilterState.PUBLISH for s in model.values())
    )


@given(updates, st.sampled_from(PIXELS))
def test_forgetting_a_pixel_leaves_the_others_alone(
    steps: list[tuple[FilterState, frozenset[str] | None]], gone: str
) -> None:
    signal_filter = SignalFilter("account1", FilterKind.DOMAIN, "shop.example")
    for state, pixel_ids in steps:
        signal_filter = signal_filter.applied(state, pixel_ids)
    forgotten = signal_filter.forget(gone)
    for pixel in PIXELS:
        if pixel != gone:
            assert forgotten.state_of(pixel) is signal_filter.state_of(pixel)
    assert forgotten.state_of(gone) is forgotten.state_of(NEW_PIXEL)
