"""The HTTP side of a GraphQL face: POST executes, GET serves an explorer for people; errors
outside execution (credentials, a body that is not a GraphQL request, refusals) are answered by
the face's handlers as GraphQL errors (`errors`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from fastapi import APIRouter, FastAPI, Request
from graphql import ExecutionResult
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from tenantry.entrypoints.graphql.engine import GraphQLEngine
from tenantry.entrypoints.graphql.errors import domain_error, error_body, format_error, refusal
from tenantry.entrypoints.graphql.explorer import explorer_headers, explorer_page, new_nonce
from tenantry.entrypoints.http.caller import Callers
from tenantry.entrypoints.http.faces import face_app
from tenantry.entrypoints.http.middleware import request_id_of
from tenantry.entrypoints.http.responses import json_response
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.ports import DatabaseUnavailable

ContextFactory = Callable[[ServiceContext, Actor], Any]
NO_BEARER = "Send `Authorization: Bearer <token>` from POST /clients/token."


def graphql_app(
    path: str,
    *,
    engine: GraphQLEngine,
    ctx: ServiceContext,
    face: str,
    make_context: ContextFactory,
    title: str,
) -> FastAPI:
    """A GraphQL face at `path`, its errors answered as GraphQL errors."""
    router = graphql_router(
        path, engine=engine, ctx=ctx, face=face, make_context=make_context, title=title
    )
    return face_app(
        router, limit=ctx.settings.max_body_bytes, refusal=refusal, domain_error=domain_error
    )


def graphql_router(
    path: str,
    *,
    engine: GraphQLEngine,
    ctx: ServiceContext,
    face: str,
    make_context: ContextFactory,
    title: str,
) -> APIRouter:
    """Routes for `path` and `path/` (the documents write the trailing slash; both work)."""
    router = APIRouter()
    stem = path.rstrip("/")
    callers = Callers(ctx, face=face, missing=NO_BEARER)

    async def execute_request(request: Request) -> Response:
        request_id = request_id_of(request.scope)
        actor = await callers(request)
        try:
            query, variables, operation = _read_request(await request.body())
        except ValueError as error:
            return json_response(error_body(str(error), 400, "BAD_REQUEST"), status_code=400)
        payload = await run_in_threadpool(
            _run, engine, query, variables, operation, make_context(ctx, actor), request_id
        )
        return json_response(payload)

    async def explorer(_: Request) -> Response:
        nonce = new_nonce()
        return HTMLResponse(
            explorer_page(title, stem + "/", nonce), headers=explorer_headers(nonce)
        )

    for route in (stem, stem + "/"):
        router.add_api_route(route, execute_request, methods=["POST"], include_in_schema=False)
        router.add_api_route(route, explorer, methods=["GET"], include_in_schema=False)
    return router


def _run(
    engine: GraphQLEngine,
    query: str,
    variables: dict[str, Any] | None,
    operation: str | None,
    context: Any,
    request_id: str | None,
) -> dict[str, Any]:
    prepared = engine.prepare(query)
    if prepared.document is None:
        return {"errors": [format_error(e, request_id) for e in prepared.errors]}
    result: ExecutionResult = engine.execute(
        prepared.document, variables=variables, operation_name=operation, context=context
    )
    payload: dict[str, Any] = {}
    if result.errors:
        for error in result.errors:
            if isinstance(error.original_error, DatabaseUnavailable):
                raise error.original_error  # an outage: the face answers 503
        payload["errors"] = [format_error(e, request_id) for e in result.errors]
    payload["data"] = result.data
    return payload


def _read_request(body: bytes) -> tuple[str, dict[str, Any] | None, str | None]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ValueError(
            'The body must be JSON: {"query", "variables", "operationName"}.'
        ) from None
    if not isinstance(data, dict):
        raise ValueError("The body must be a JSON object.")
    query, variables, operation = (
        data.get("query"),
        data.get("variables"),
        data.get("operationName"),
    )
    if not isinstance(query, str) or not query.strip():
        raise ValueError("`query` must be a non-empty string.")
    if variables is not None and not isinstance(variables, dict):
        raise ValueError("`variables` must be an object.")
    if operation is not None and not isinstance(operation, str):
        raise ValueError("`operationName` must be a string.")
    return query, variables, operation
