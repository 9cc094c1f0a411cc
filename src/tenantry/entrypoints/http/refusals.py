"""How refusals read and are logged, whatever the face: the `Refusal` each face words its own
way, the plain `{"message"}` one, and the log lines of an outage and of an unexpected error."""

from __future__ import annotations

import logging
import traceback
from typing import Protocol

import orjson
from starlette.requests import Request
from starlette.responses import Response

from tenantry.domain.errors import DomainError, Unauthenticated
from tenantry.entrypoints.http.errors import http_status

log = logging.getLogger("tenantry.http")

TOO_LARGE = "The request body is too large."
UNAVAILABLE = "The database cannot be reached. Try again in a moment."
RETRY_AFTER_SECONDS = 5
# Modules whose exception messages may quote a statement's parameters (stored values, tokens):
# their messages stay out of the log.
_QUOTING_MODULES = frozenset({"sqlalchemy", "psycopg", "sqlite3"})


class Refusal(Protocol):
    """A face's answer for a request it refuses whatever it asked for: 400 (its text carries a
    control character no field accepts, or its `Idempotency-Key` is not one, which `detail`
    names; a face answers as it answers any malformed request), 404 and 405 (no route of the
    face has this path, or this method: `detail` says which), 409 and 422 (its
    `Idempotency-Key` is held by a request still running, or was used for another request:
    `detail` says which), 413 (the body is over `limit` bytes), 503 (the database cannot be
    reached; `UNAVAILABLE`) or 500 (an unexpected error, told by `request_id` only)."""

    def __call__(self, status: int, *, limit: int, request_id: str, detail: str) -> Response: ...


def plain_refusal(status: int, *, limit: int, request_id: str, detail: str) -> Response:
    """`{"message": ...}`: for the server's own paths, and faces that answer that way."""
    messages = {400: detail, 409: detail, 422: detail, 413: TOO_LARGE, 503: UNAVAILABLE}
    messages |= {404: detail, 405: detail}
    if status in messages:
        body = {"message": messages[status]}
    else:
        body = {"message": "Internal server error.", "request_id": request_id}
    return Response(orjson.dumps(body), status, media_type="application/json")


def plain_domain_error(request: Request, error: DomainError) -> Response:
    """`{"message": ...}` with the status the error's class stands for (`errors.http_status`),
    the field it is about ahead of the message."""
    message = f"{error.field}: {error.message}" if error.field else error.message
    headers = {"WWW-Authenticate": 'Bearer realm="tenantry"'}
    return Response(
        orjson.dumps({"message": message}),
        http_status(error),
        headers=headers if isinstance(error, Unauthenticated) else None,
        media_type="application/json",
    )


def log_unavailable(error: Exception, request_id: str) -> None:
    """An outage, not a bug: one line, no traceback (the message is the driver's reason,
    without credentials)."""
    log.error("database unavailable: %s", error, extra={"request_id": request_id})


def log_unexpected(error: BaseException, request_id: str) -> None:
    """One line for an error no one expected: its type, its message unless it may quote stored
    values (a driver's error quotes the statement's parameters), and the frames it went through
    (never a frame's values)."""
    log.error(
        "unhandled error: %s",
        _safe_description(error),
        extra={
            "request_id": request_id,
            "stack": "".join(traceback.format_tb(error.__traceback__)),
        },
    )


def _safe_description(error: BaseException) -> str:
    kind = type(error)
    name = f"{kind.__module__}.{kind.__qualname__}"
    if kind.__module__.split(".")[0] in _QUOTING_MODULES or hasattr(error, "params"):
        return f"{name} (message left out: it may quote stored values)"
    return f"{name}: {error}"
