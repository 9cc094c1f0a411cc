"""The one place domain errors become this API's answers: `{"message": ...}` with the status the
vendor's OpenAPI declares (400 bad input or limit exceeded, 401 credentials or permissions,
422 input that was understood but refused), plus `errors` for per-user refusals.

    Unauthenticated, Forbidden   → 401
    Throttled (daily quota)      → 400
    BatchRejected                 → 422, with `errors` (a delete that refused some e-mails)
    Conflict, NotFound           → 422
    InvalidInput, anything else  → 400
    a control character          → 400
    an Idempotency-Key           → 400 not a key, 409 its call still runs, 422 used for
                                   another request
    an unexpected exception      → 500, the documents' "Something went wrong" text

Once a call is admitted against the daily quota, its answer carries the quota headers, whatever
it is (`respond` and the face's handlers read the quota from the request's state).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

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
from tenantry.entrypoints.bulk_rest.views import item_error_view
from tenantry.entrypoints.http.faces import ExceptionHandler
from tenantry.entrypoints.http.refusals import TOO_LARGE, UNAVAILABLE
from tenantry.entrypoints.http.responses import json_response
from tenantry.services.membership_commands import BatchRejected, ItemError
from tenantry.services.quotas import Quota, quota_of

INTERNAL_ERROR = "Something went wrong. Your request couldn\u2019t be completed."
NONE_ADDED = "No users were added."
NO_BEARER = "Send `Authorization: Bearer <API token>` with the API token of an account admin."

# AppsFlyer's delete table writes this one without a full stop (the add table with one).
_DELETE_MESSAGES: dict[ErrorCode, str] = {ErrorCode.INVALID_EMAIL: "Invalid email address"}

_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (Unauthenticated, 401),
    (Forbidden, 401),
    (Throttled, 400),
    (BatchRejected, 422),
    (Conflict, 422),
    (NotFound, 422),
)


@dataclass(slots=True)
class Answer:
    """What a handler answers, before it becomes an HTTP response."""

    status: int
    body: dict[str, Any] | None = None  # None: no body (204)
    headers: dict[str, str] = field(default_factory=dict)


def status_of(error: DomainError) -> int:
    for cls, status in _STATUS:
        if isinstance(error, cls):
            return status
    return 400


def message_of(error: DomainError, *, deleting: bool = False) -> str:
    if deleting:
        return _DELETE_MESSAGES.get(error.code, error.message)
    return error.message


def item_errors(items: Iterable[ItemError], *, deleting: bool = False) -> list[dict[str, Any]]:
    ordered = sorted(items, key=lambda item: item.index)
    return [item_error_view(i, message_of(i.error, deleting=deleting)) for i in ordered]


def error_answer(error: DomainError, *, deleting: bool = False) -> Answer:
    body: dict[str, Any] = {"message": message_of(error, deleting=deleting)}
    if isinstance(error, BatchRejected):
        body["errors"] = item_errors(error.items, deleting=deleting)
    answer = Answer(status_of(error), body)
    if isinstance(error, Unauthenticated):
        answer.headers["WWW-Authenticate"] = 'Bearer realm="tenantry"'
    return answer


def none_added(errors: Iterable[ItemError]) -> Answer:
    return Answer(422, {"message": NONE_ADDED, "errors": item_errors(errors)})


def internal_error() -> Answer:
    return Answer(500, {"message": INTERNAL_ERROR})


def respond(answer: Answer) -> Response:
    if answer.body is None:
        return Response(status_code=answer.status, headers=answer.headers)
    return json_response(answer.body, answer.status, answer.headers)


def domain_error(request: Request, error: DomainError) -> Response:
    """A core error, with the quota headers once the call was admitted (or the quota the error
    carries); a delete words a refused e-mail address its own way."""
    answer = error_answer(error, deleting=request.method == "DELETE")
    quota = getattr(request.state, "quota", None) or quota_of(error)
    if quota is not None:
        answer.headers.update(quota_headers(quota))
    return respond(answer)


def with_quota_headers(handler: ExceptionHandler) -> ExceptionHandler:
    """`handler`, its answer carrying the quota headers once the call was admitted."""

    async def answer(request: Request, error: Exception) -> Response:
        response = await handler(request, error)
        quota = getattr(request.state, "quota", None)
        if quota is not None:
            response.headers.update(quota_headers(quota))
        return response

    return answer


def refusal(status: int, *, limit: int, request_id: str, detail: str) -> Response:
    """A refusal (`http.refusals.Refusal`), as this API answers."""
    messages = {400: detail, 409: detail, 422: detail, 413: TOO_LARGE, 503: UNAVAILABLE}
    messages |= {404: detail, 405: detail}
    if status in messages:
        return json_response({"message": messages[status]}, status)
    return respond(internal_error())


def quota_headers(quota: Quota) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(quota.limit),
        "X-RateLimit-Remaining": str(quota.remaining),
        "X-RateLimit-Reset": str(quota.reset_epoch),
    }
