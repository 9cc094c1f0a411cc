"""Routes of the bulk user-management API under `/api/user-management/v1.0`, its OpenAPI
document and docs page, and `{"message"}` answers for unknown paths and methods there."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

from fastapi import APIRouter, FastAPI, Request
from starlette.datastructures import State
from starlette.responses import HTMLResponse, Response

from tenantry.entrypoints.bulk_rest import errors, openapi, operations
from tenantry.entrypoints.bulk_rest.errors import Answer
from tenantry.entrypoints.http.api_docs import new_nonce, page_headers, swagger_page
from tenantry.entrypoints.http.caller import Callers
from tenantry.entrypoints.http.faces import face_app, unexpected_error
from tenantry.entrypoints.http.idempotency import Idempotency
from tenantry.entrypoints.http.middleware import request_id_of
from tenantry.entrypoints.http.responses import json_response
from tenantry.entrypoints.http.threads import LONG_CALLS
from tenantry.services.context import Actor, ServiceContext

PREFIX = "/api/user-management/v1.0"
OPENAPI_PATH = f"{PREFIX}/openapi.json"
_ANY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# Paths under the prefix that exist, and the methods they take (for 405 answers).
_ALLOWED = (
    (re.compile(r"users/?"), "GET, POST, DELETE"),
    (re.compile(r"users/.+"), "DELETE"),
    (re.compile(r"roles/?"), "GET"),
    (re.compile(r"openapi\.json|docs"), "GET"),
)


def bulk_rest_app(ctx: ServiceContext) -> FastAPI:
    """The API, its errors answered as `{"message"}` (`errors`); adding users honours
    `Idempotency-Key`."""
    limit = ctx.settings.max_body_bytes
    callers = Callers(ctx, face=operations.FACE, missing=errors.NO_BEARER)
    return face_app(
        bulk_rest_router(ctx, callers),
        limit=limit,
        refusal=errors.refusal,
        domain_error=errors.domain_error,
        handlers={
            Exception: errors.with_quota_headers(unexpected_error(errors.refusal, limit=limit))
        },
        idempotency=Idempotency(callers),
    )


def bulk_rest_router(ctx: ServiceContext, callers: Callers) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["user management"])

    async def respond(
        request: Request, serving: Callable[[Callable[[], Actor], State], Answer]
    ) -> Response:
        caller = partial(
            callers.authenticate, callers.presented(request), request_id_of(request.scope)
        )
        answer = await LONG_CALLS.run(ctx, serving, caller, request.state)
        return errors.respond(answer)

    def counted(operation: Callable[[Actor, str], Answer]) -> Callable[..., Answer]:
        return partial(operations.serve, ctx, operation)

    async def get_users(request: Request) -> Response:
        query = dict(request.query_params)
        return await respond(request, partial(operations.get_users, ctx, query))

    async def add_users(request: Request) -> Response:
        body = await request.body()
        return await respond(request, counted(partial(operations.add_users, ctx, body=body)))

    async def delete_users(request: Request, emails: str) -> Response:
        return await respond(request, counted(partial(operations.delete_users, ctx, emails=emails)))

    async def delete_nobody(request: Request) -> Response:
        return await respond(request, counted(partial(operations.delete_users, ctx, emails="")))

    async def get_roles(request: Request) -> Response:
        return await respond(request, counted(partial(operations.get_roles, ctx)))

    for path in ("/users", "/users/"):
        shown = path == "/users"
        router.add_api_route(
            path, get_users, methods=["GET"], include_in_schema=shown, **openapi.GET_USERS
        )
        router.add_api_route(
            path,
            add_users,
            methods=["POST"],
            include_in_schema=shown,
            **openapi.post_users(ctx.settings),
        )
    router.add_api_route(
        "/users/{emails:path}", delete_users, methods=["DELETE"], **openapi.DELETE_USERS
    )
    router.add_api_route("/users", delete_nobody, methods=["DELETE"], include_in_schema=False)
    for path in ("/roles", "/roles/"):
        router.add_api_route(
            path,
            get_roles,
            methods=["GET"],
            include_in_schema=path == "/roles",
            **openapi.GET_ROLES,
        )
    _add_documents_and_fallback(router, ctx)
    return router


def _add_documents_and_fallback(router: APIRouter, ctx: ServiceContext) -> None:
    """The OpenAPI document of the routes above and its docs page, then `{"message"}` answers
    for paths and methods there are none for."""
    document = openapi.openapi_document(router.routes, ctx.settings)

    async def openapi_json(_: Request) -> Response:
        return json_response(document)

    async def docs(_: Request) -> Response:
        nonce = new_nonce()
        page = swagger_page(openapi.TITLE, OPENAPI_PATH, nonce)
        return HTMLResponse(page, headers=page_headers(nonce))

    async def not_here(request: Request) -> Response:
        rest = request.url.path.removeprefix(PREFIX).lstrip("/")
        for pattern, allowed in _ALLOWED:
            if pattern.fullmatch(rest):
                return json_response(
                    {"message": f"Use {allowed} on this path."},
                    405,
                    {"Allow": allowed},
                )
        return json_response({"message": "There is no such endpoint in this API."}, 404)

    router.add_api_route("/openapi.json", openapi_json, methods=["GET"], include_in_schema=False)
    router.add_api_route("/docs", docs, methods=["GET"], include_in_schema=False)
    # Last, so that every route above wins; a method a path does not take lands here too.
    router.add_api_route("", not_here, methods=_ANY_METHOD, include_in_schema=False)
    router.add_api_route("/{rest:path}", not_here, methods=_ANY_METHOD, include_in_schema=False)
