"""The HTTP side of a GraphQL face: POST executes, GET serves an explorer for people; errors
outside execution (credentials, a body that is not a GraphQL request, refusals) are answered by
the face's handlers as GraphQL errors (`errors`). Mutations honour `Idempotency-Key`; queries
ignore it."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import orjson
from fastapi import APIRouter, FastAPI, Request
from graphql import ExecutionResult, OperationDefinitionNode, OperationType
from starlette.responses import HTMLResponse, Response

from tenantry.entrypoints.graphql.engine import GraphQLEngine
from tenantry.entrypoints.graphql.errors import domain_error, error_body, format_error, refusal
from tenantry.entrypoints.graphql.explorer import explorer_headers, explorer_page, new_nonce
from tenantry.entrypoints.http.caller import Callers
from tenantry.entrypoints.http.faces import face_app
from tenantry.entrypoints.http.idempotency import Idempotency, final_by_status
from tenantry.entrypoints.http.middleware import request_id_of
from tenantry.entrypoints.http.responses import json_response
from tenantry.entrypoints.http.threads import CHANGES, READS
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.ports import DatabaseUnavailable

ContextFactory = Callable[[ServiceContext, Actor, frozenset[str]], Any]
"""The resolvers' context of a request: the service context, the caller, and the paths the
document selects without arguments (`selections`)."""
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
    callers = Callers(ctx, face=face, missing=NO_BEARER)
    router = graphql_router(
        path, engine=engine, ctx=ctx, callers=callers, make_context=make_context, title=title
    )
    return face_app(
        router,
        limit=ctx.settings.max_body_bytes,
        refusal=refusal,
        domain_error=domain_error,
        idempotency=Idempotency(callers, changes=_is_mutation(engine), final=_is_final),
    )


def graphql_router(
    path: str,
    *,
    engine: GraphQLEngine,
    ctx: ServiceContext,
    callers: Callers,
    make_context: ContextFactory,
    title: str,
) -> APIRouter:
    """Routes for `path` and `path/` (the documents write the trailing slash; both work)."""
    router = APIRouter()
    stem = path.rstrip("/")

    async def execute_request(request: Request) -> Response:
        request_id = request_id_of(request.scope)
        token = callers.presented(request)
        body = await request.body()

        def answer() -> dict[str, Any] | Response:
            # One trip to the thread pool: the token's check, then the query.
            actor = callers.authenticate(token, request_id)
            try:
                query, variables, operation = _read_request(body)
            except ValueError as error:
                return json_response(error_body(str(error), 400, "BAD_REQUEST"), status_code=400)
            return _run(
                engine, query, variables, operation, partial(make_context, ctx, actor), request_id
            )

        # A mutation may wait for SQLite's single writer: not in the lane of queries. A look
        # at the bytes, not a parse on the event loop: a query that merely holds the word waits
        # with the changes, which costs it nothing else.
        lane = CHANGES if b"mutation" in body else READS
        payload = await lane.run(ctx, answer)
        return payload if isinstance(payload, Response) else json_response(payload)

    async def explorer(_: Request) -> Response:
        nonce = new_nonce()
        return HTMLResponse(
            explorer_page(title, stem + "/", nonce), headers=explorer_headers(nonce)
        )

    for route in (stem, stem + "/"):
        router.add_route(route, execute_request, methods=["POST"], include_in_schema=False)
        router.add_api_route(route, explorer, methods=["GET"], include_in_schema=False)
    return router


def _run(
    engine: GraphQLEngine,
    query: str,
    variables: dict[str, Any] | None,
    operation: str | None,
    context_for: Callable[[frozenset[str]], Any],
    request_id: str | None,
) -> dict[str, Any]:
    prepared = engine.prepare(query)
    if prepared.document is None:
        return {"errors": [format_error(e, request_id) for e in prepared.errors]}
    result: ExecutionResult = engine.execute_prepared(
        prepared,
        variables=variables,
        operation_name=operation,
        context=context_for(prepared.selected),
    )
    payload: dict[str, Any] = {}
    if result.errors:
        for error in result.errors:
            if isinstance(error.original_error, DatabaseUnavailable):
                raise error.original_error  # an outage: the face answers 503
        payload["errors"] = [format_error(e, request_id) for e in result.errors]
    payload["data"] = result.data
    return payload


def _is_mutation(engine: GraphQLEngine) -> Callable[[str, bytes], bool]:
    """Whether a request's body asks for a mutation (the operation it names, or its only
    one); a body that is no valid request is none (the face refuses it as always)."""

    def is_mutation(path: str, body: bytes) -> bool:
        try:
            query, _, name = _read_request(body)
        except ValueError:
            return False
        document = engine.prepare(query).document
        if document is None:
            return False
        chosen = [
            d
            for d in document.definitions
            if isinstance(d, OperationDefinitionNode)
            and (name is None or (d.name is not None and d.name.value == name))
        ]
        return len(chosen) == 1 and chosen[0].operation is OperationType.MUTATION

    return is_mutation


def _is_final(status: int, body: bytes) -> bool:
    """An answer a retry should get again: final by its HTTP status, and none of its errors
    one a retry may not meet (a 500, a limit's 429, credentials' 401): a mutation's errors
    come with HTTP 200."""
    if not final_by_status(status, body):
        return False
    try:
        errors = orjson.loads(body).get("errors") or []
    except (orjson.JSONDecodeError, AttributeError):
        return True
    codes = [e.get("extensions", {}).get("code") for e in errors if isinstance(e, dict)]
    return all(final_by_status(c, b"") for c in codes if isinstance(c, int))


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
