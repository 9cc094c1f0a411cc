"""JSON columns are written by orjson and read back as `json` would read `json.dumps`'s text."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from tenantry.storage.engine import dumps_json, loads_json

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(value=JSON)
def test_a_value_reads_back_as_json_would_read_it(value: object) -> None:
    assert loads_json(dumps_json(value)) == json.loads(json.dumps(value))


def test_keys_that_are_not_text_become_text_as_json_makes_them() -> None:
    value = {1: "one", "two": [2, None]}
    assert loads_json(dumps_json(value)) == json.loads(json.dumps(value))
