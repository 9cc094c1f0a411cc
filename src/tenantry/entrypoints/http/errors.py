"""The HTTP status each domain error class stands for, for faces that use plain statuses."""

from __future__ import annotations

from tenantry.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    Throttled,
    Unauthenticated,
)

_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (Throttled, 429),
)


def http_status(error: DomainError) -> int:
    for cls, status in _STATUS:
        if isinstance(error, cls):
            return status
    return 400
