"""How domain errors read in GraphQL: `extensions.code` is the number the CAPIG documents list
for each operation (400, 401, 404, 409, 500), `extensions.type` its name."""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response

from tenantry.domain.errors import (
    Conflict,
    DomainError,
    ErrorCode,
    Forbidden,
    NotFound,
    Throttled,
    Unauthenticated,
)
from tenantry.entrypoints.http.refusals import UNAVAILABLE
from tenantry.entrypoints.http.responses import json_response

log = logging.getLogger("tenantry.graphql")

# The documents list "404 Role name not found" and "404 Unable to find user for the tenantId".
_BY_CODE: dict[ErrorCode, tuple[int, str]] = {
    ErrorCode.UNKNOWN_ROLE: (404, "NOT_FOUND"),
    ErrorCode.ROLE_NOT_FOUND: (404, "NOT_FOUND"),
}
_BY_CLASS: tuple[tuple[type[DomainError], tuple[int, str]], ...] = (
    (Unauthenticated, (401, "UNAUTHORIZED")),
    (Forbidden, (401, "UNAUTHORIZED")),
    (NotFound, (404, "NOT_FOUND")),
    (Conflict, (409, "CONFLICT")),
    (Throttled, (429, "TOO_MANY_REQUESTS")),
)


def code_and_type(error: DomainError) -> tuple[int, str]:
    if error.code in _BY_CODE:
        return _BY_CODE[error.code]
    for cls, pair in _BY_CLASS:
        if isinstance(error, cls):
            return pair
    return 400, "BAD_REQUEST"


def format_error(error: GraphQLError, request_id: str | None) -> dict[str, Any]:
    original = error.original_error
    formatted: dict[str, Any] = {"message": error.message}
    if error.locations:
        formatted["locations"] = [
            {"line": loc.line, "column": loc.column} for loc in error.locations
        ]
    if error.path:
        formatted["path"] = error.path
    if isinstance(original, DomainError):
        code, kind = code_and_type(original)
        formatted["message"] = original.message
        formatted["extensions"] = {"code": code, "type": kind, "reason": original.code.value}
        if original.field:
            formatted["extensions"]["field"] = original.field
    elif original is None or error.path is None or isinstance(original, GraphQLError):
        # Syntax, validation and variable coercion: the request is wrong, nothing ran.
        formatted["extensions"] = {"code": 400, "type": "GRAPHQL_VALIDATION_FAILED"}
    else:
        log.error(
            "resolver failed",
            exc_info=(type(original), original, original.__traceback__),
            extra={"request_id": request_id, "path": error.path},
        )
        formatted["message"] = "Internal server error."
        formatted["extensions"] = {
            "code": 500,
            "type": "INTERNAL_SERVER_ERROR",
            "requestId": request_id,
        }
    return formatted


_KEY_REFUSALS = {409: "CONFLICT", 422: "UNPROCESSABLE_ENTITY"}
_ROUTE_REFUSALS = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


def error_body(message: str, code: int, kind: str) -> dict[str, Any]:
    """A whole answer that is only an error, for failures before execution."""
    return {"errors": [{"message": message, "extensions": {"code": code, "type": kind}}]}


def domain_error(_: Request, error: DomainError) -> Response:
    """A core error outside execution (missing or bad credentials), as a whole answer: the
    HTTP status is the error's code."""
    code, kind = code_and_type(error)
    headers = {"WWW-Authenticate": 'Bearer realm="tenantry"'} if code == 401 else None
    return json_response(error_body(error.message, code, kind), status_code=code, headers=headers)


def refusal(status: int, *, limit: int, request_id: str, detail: str) -> Response:
    """A refusal (`http.refusals.Refusal`), as a GraphQL answer."""
    if status == 400:  # as a body that is not a GraphQL request is answered
        body = error_body(detail, 400, "BAD_REQUEST")
    elif status in _KEY_REFUSALS:  # an Idempotency-Key that serves no request here
        body = error_body(detail, status, _KEY_REFUSALS[status])
    elif status in _ROUTE_REFUSALS:
        body = error_body(detail, status, _ROUTE_REFUSALS[status])
    elif status == 413:
        body = error_body(f"The request body is over {limit} bytes.", 413, "PAYLOAD_TOO_LARGE")
    elif status == 503:
        body = error_body(UNAVAILABLE, 503, "SERVICE_UNAVAILABLE")
    else:
        body = error_body("Internal server error.", status, "INTERNAL_SERVER_ERROR")
        body["errors"][0]["extensions"]["requestId"] = request_id
    return json_response(body, status_code=status)
