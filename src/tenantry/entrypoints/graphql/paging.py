"""The `first` argument of the hub's lists, checked once for all of them."""

from __future__ import annotations

from tenantry.domain.errors import ErrorCode, InvalidInput


def page_size(first: int | None, *, default: int, most: int) -> int:
    """How many items a list gives: `first`, between 1 and `most`. An explicit null (which a
    schema default does not replace) means the default."""
    if first is None:
        return default
    if not 1 <= first <= most:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT, f"`first` must be between 1 and {most}.", field="first"
        )
    return first
