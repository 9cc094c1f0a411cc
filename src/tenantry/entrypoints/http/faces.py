"""A face is an application: its routes, the guard every face has, and exception handlers that
answer in the face's own format.

`face_app` builds one; the server (`entrypoints.server`) mounts each under its paths. A face
says how it words a refusal (`refusals.Refusal`) and a core error (`DomainErrorAnswer`); its
handlers then answer, whatever raised it and wherever:

    RequestRefused        400 or 413, from the guard (`guard.RequestGuard`)
    HTTPException         404 or 405: no route of the face has the path or the method
    DatabaseUnavailable   503 with Retry-After; one log line, no traceback
    DomainError           the face's rendering of the one error model (401 included)
    anything else         500 telling the request id only; the log says what failed

A face whose requests change things says which (`idempotency.Idempotency`); those honour an
`Idempotency-Key`, its 400, 409 and 422 worded by the face's `Refusal` too.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from tenantry.domain.errors import DomainError, Throttled
from tenantry.entrypoints.http.guard import RequestGuard, RequestRefused
from tenantry.entrypoints.http.idempotency import Idempotency, IdempotentCalls, release_key
from tenantry.entrypoints.http.middleware import request_id_of
from tenantry.entrypoints.http.refusals import (
    RETRY_AFTER_SECONDS,
    Refusal,
    log_unavailable,
    log_unexpected,
)
from tenantry.services.ports import DatabaseUnavailable

DomainErrorAnswer = Callable[[Request, DomainError], Response]
"""A face's answer for a core error that reached its handlers."""

ExceptionHandler = Callable[[Request, Any], Coroutine[Any, Any, Response]]

NO_ROUTE = {
    404: "There is no such path here.",
    405: "This path does not take this method.",
}


def face_app(
    *routers: APIRouter,
    limit: int,
    refusal: Refusal,
    domain_error: DomainErrorAnswer,
    handlers: Mapping[int | type[Exception], ExceptionHandler] | None = None,
    idempotency: Idempotency | None = None,
) -> FastAPI:
    """An application serving `routers`, its bodies capped at `limit` bytes, its errors
    answered by `refusal` and `domain_error`; `handlers` add to or replace those handlers;
    the changes `idempotency` names honour `Idempotency-Key`."""

    async def refused(request: Request, error: RequestRefused) -> Response:
        request_id = request_id_of(request.scope)
        return refusal(error.status, limit=limit, request_id=request_id, detail=error.detail)

    async def unavailable(request: Request, error: DatabaseUnavailable) -> Response:
        request_id = request_id_of(request.scope)
        log_unavailable(error, request_id)
        answer = refusal(503, limit=limit, request_id=request_id, detail="")
        answer.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return answer

    async def no_route(request: Request, error: HTTPException) -> Response:
        # Only routing raises these here (no route raises HTTPException itself).
        status = error.status_code if error.status_code in NO_ROUTE else 404
        answer = refusal(
            status, limit=limit, request_id=request_id_of(request.scope), detail=NO_ROUTE[status]
        )
        answer.headers.update(error.headers or {})  # 405 names the methods allowed
        return answer

    async def refused_by_the_core(request: Request, error: DomainError) -> Response:
        if isinstance(error, Throttled):
            release_key(request)  # a limit that lifts: a retry with the key should run
        return domain_error(request, error)

    exception_handlers: dict[int | type[Exception], ExceptionHandler] = {
        RequestRefused: refused,
        HTTPException: no_route,
        DatabaseUnavailable: unavailable,
        DomainError: refused_by_the_core,
        Exception: unexpected_error(refusal, limit=limit),
    }
    exception_handlers.update(handlers or {})
    app = FastAPI(
        docs_url=None, redoc_url=None, openapi_url=None, exception_handlers=exception_handlers
    )
    for router in routers:
        app.include_router(router)
    if idempotency is not None:  # inside the guard, which checks the body it reads
        app.add_middleware(
            IdempotentCalls,
            idempotency=idempotency,
            refusal=refusal,
            limit=limit,
            unavailable=unavailable,
        )
    app.add_middleware(RequestGuard, max_body_bytes=limit, refused=refused)
    return app


def unexpected_error(refusal: Refusal, *, limit: int) -> ExceptionHandler:
    """The handler of an exception that no other handler takes: a 500 in the face's format,
    and a log line under the request id that names the error and where it was raised.

    (Starlette runs it outermost in the face's app and then raises the exception on; the
    server's middleware lets it end there, answered.)"""

    async def unexpected(request: Request, error: Exception) -> Response:
        request_id = request_id_of(request.scope)
        log_unexpected(error, request_id)
        return refusal(500, limit=limit, request_id=request_id, detail="")

    return unexpected
