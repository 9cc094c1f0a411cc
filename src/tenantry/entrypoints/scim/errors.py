"""The one place errors become SCIM `Error` resources (RFC 7644 §3.12), `status` as a string:

Unauthenticated                            → 401 (with WWW-Authenticate)
Forbidden                                  → 403
NotFound                                   → 404
PreconditionFailed (If-Match)              → 412
Conflict: already_member, id_taken         → 409 uniqueness
Conflict, every other (last admin, owner,
  self, multi-account, SSO, 2FA, races)    → 409, the core's reason in `detail`
NotModifiable                              → 400 mutability
Throttled                                  → 429
InvalidInput and any other domain error    → 400 invalidValue
a control character no field accepts       → 400 invalidValue (in the request's text, or
                                             found in a filter or path)
scim2-models' SCIMException                → its own status and scimType (invalidFilter,
                                             invalidPath, noTarget, mutability, tooMany...)
an Idempotency-Key that is not one         → 400 invalidValue
an Idempotency-Key held by a running call  → 409
an Idempotency-Key used for another call   → 422
a body over the server's limit             → 413
a database that cannot be reached          → 503, with Retry-After
anything unexpected                        → 500, with the request id and nothing else
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from scim2_models import Context, Error, SCIMException
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
from tenantry.entrypoints.scim.answers import Answer, http_response
from tenantry.services.provisioning_common import NotModifiable, PreconditionFailed, TooMany

UNIQUENESS = "uniqueness"
INVALID_VALUE = "invalidValue"
INVALID_SYNTAX = "invalidSyntax"
MUTABILITY = "mutability"
TOO_MANY = "tooMany"

_UNIQUE = frozenset({ErrorCode.ALREADY_MEMBER, ErrorCode.ID_TAKEN})
_STATUS: tuple[tuple[type[DomainError], int, str | None], ...] = (
    (Unauthenticated, 401, None),
    (Forbidden, 403, None),
    (NotFound, 404, None),
    (PreconditionFailed, 412, None),
    (Conflict, 409, None),
    (NotModifiable, 400, MUTABILITY),
    (TooMany, 400, TOO_MANY),
    (Throttled, 429, None),
)


def error(status: int, detail: str, scim_type: str | None = None) -> Answer:
    body = Error(status=status, scim_type=scim_type, detail=detail).model_dump(
        scim_ctx=Context.RESOURCE_QUERY_RESPONSE
    )
    headers = {"WWW-Authenticate": 'Bearer realm="tenantry"'} if status == 401 else {}
    return Answer(status, body, headers)


def from_domain(problem: DomainError) -> Answer:
    detail = f"{problem.field}: {problem.message}" if problem.field else problem.message
    for cls, status, scim_type in _STATUS:
        if isinstance(problem, cls):
            if cls is Conflict and problem.code in _UNIQUE:
                scim_type = UNIQUENESS
            return error(status, detail, scim_type)
    return error(400, detail, INVALID_VALUE)


def from_scim(problem: SCIMException) -> Answer:
    return error(problem.status, problem.detail, problem.scim_type or None)


def from_validation(problem: ValidationError) -> Answer:
    """A payload the models refused: scim2-models' own errors keep their scimType."""
    first: dict[str, Any] = dict(problem.errors(include_url=False)[0])
    context = first.get("ctx") or {}
    where = ".".join(str(step) for step in first.get("loc", ()) if step != "__root__")
    detail = f"{where}: {first['msg']}" if where else str(first["msg"])
    status = context.get("status", 400)
    scim_type = context.get("scim_type") or (INVALID_SYNTAX if status == 400 else None)
    return error(int(status), detail, scim_type)


def not_found(detail: str = "There is no such resource or endpoint.") -> Answer:
    return error(404, detail)


def method_not_allowed(allowed: str) -> Answer:
    answer = error(405, f"Use {allowed} here.")
    answer.headers["Allow"] = allowed
    return answer


def internal(request_id: str) -> Answer:
    return error(500, f"Internal error; request id {request_id}.")


def refusal(status: int, *, limit: int, request_id: str, detail: str) -> Response:
    """A refusal (`http.refusals.Refusal`), as a SCIM Error."""
    if status == 400:
        return http_response(error(400, detail, INVALID_VALUE))
    if status in (404, 405, 409, 422):  # no such route; a key that serves no request here
        return http_response(error(status, detail))
    if status == 413:
        return http_response(error(413, f"The body is larger than {limit} bytes."))
    if status == 503:
        return http_response(error(503, UNAVAILABLE))
    return http_response(internal(request_id))
