"""Routes of the network integration under `/api/<version>/<network_id>/`, its OpenAPI
document at `/api/network-integration/openapi.json` and its docs page beside it (`docs`).

Every route answers with and without the `.json` suffix the documents write; versions are the
documents' `YYYY-MM-DD` strings, 2019-05-01 or later (2019-05-01, 2020-10-01, 2022-03-01 and
2022-08-01 are the published ones, textually identical for these objects), all served alike.
The API token comes as `Authorization: <token>` (with or without `Bearer`), as
`?oauth_token=<token>`, or as an `oauth_token` key of the JSON body, in that order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from fastapi import APIRouter, FastAPI, Request
from starlette.responses import HTMLResponse, Response

from tenantry.domain.errors import ErrorCode, NotFound
from tenantry.domain.managed import InvalidNetworkInput
from tenantry.entrypoints.http.api_docs import new_nonce, page_headers, swagger_page
from tenantry.entrypoints.http.caller import TOKEN_KEY, Callers, Credential
from tenantry.entrypoints.http.faces import face_app
from tenantry.entrypoints.http.idempotency import Idempotency
from tenantry.entrypoints.http.responses import json_response
from tenantry.entrypoints.http.threads import LONG_CALLS
from tenantry.entrypoints.network_rest import errors, openapi
from tenantry.entrypoints.network_rest import operations as ops
from tenantry.services.context import ServiceContext

PREFIX = "/api/{version}/{network_id}"
OPENAPI_PATH = "/api/network-integration/openapi.json"
DOCS_PATH = "/api/network-integration/docs"
FACE = "network_rest"
FIRST_VERSION = date(2019, 5, 1)

_VERSION = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
MISSING_CREDENTIALS = (
    "Send the API token as `Authorization: <token>`, as `?oauth_token=<token>` or as an "
    "`oauth_token` key of the JSON body."
)


@dataclass(frozen=True, slots=True)
class Route:
    path: str  # after PREFIX, without `.json`
    method: str
    operation: ops.Operation
    doc: openapi.OperationDoc


ROUTES = (
    Route("/network", "GET", ops.get_network, openapi.GET_NETWORK),
    Route("/network", "POST", ops.replace_network(201), openapi.POST_NETWORK),
    Route("/network", "PUT", ops.replace_network(200), openapi.PUT_NETWORK),
    Route("/advertisers", "GET", ops.list_advertisers, openapi.LIST_ADVERTISERS),
    Route("/advertisers", "POST", ops.create_advertiser, openapi.POST_ADVERTISER),
    Route("/advertisers/{advertiser_id}", "GET", ops.get_advertiser, openapi.GET_ADVERTISER),
    Route(
        "/advertisers/{advertiser_id}", "POST", ops.create_advertiser, openapi.POST_ADVERTISER_AT
    ),
    Route("/advertisers/{advertiser_id}", "PUT", ops.update_advertiser, openapi.PUT_ADVERTISER),
    Route(
        "/advertisers/{advertiser_id}", "DELETE", ops.delete_advertiser, openapi.DELETE_ADVERTISER
    ),
    Route("/advertisers/{advertiser_id}/users", "GET", ops.list_users, openapi.LIST_USERS),
    Route("/advertisers/{advertiser_id}/users", "POST", ops.create_user, openapi.POST_USER),
    Route("/advertisers/{advertiser_id}/users/{user_id}", "GET", ops.get_user, openapi.GET_USER),
    Route("/advertisers/{advertiser_id}/users/{user_id}", "PUT", ops.update_user, openapi.PUT_USER),
    Route(
        "/advertisers/{advertiser_id}/users/{user_id}",
        "DELETE",
        ops.delete_user,
        openapi.DELETE_USER,
    ),
)


def network_rest_app(ctx: ServiceContext) -> FastAPI:
    """The API, its errors answered in its dialect (`errors`); its creates and updates (POST
    and PUT, upserts that may create) honour `Idempotency-Key`."""
    callers = Callers(
        ctx,
        face=FACE,
        missing=MISSING_CREDENTIALS,
        accepts=Credential.BEARER | Credential.BARE | Credential.QUERY | Credential.BODY,
    )
    return face_app(
        network_rest_router(ctx, callers),
        limit=ctx.settings.max_body_bytes,
        refusal=errors.refusal,
        domain_error=errors.domain_error,
        idempotency=Idempotency(callers, methods=frozenset({"POST", "PUT"})),
    )


def network_rest_router(ctx: ServiceContext, callers: Callers) -> APIRouter:
    router = APIRouter(tags=["network integration"])
    for route in ROUTES:
        endpoint = _endpoint(ctx, callers, route)
        # The suffixed form first: an id followed by `.json` is the id.
        router.add_api_route(
            PREFIX + route.path + ".json",
            endpoint,
            methods=[route.method],
            **openapi.route_options(route.doc, PREFIX + route.path),
        )
        router.add_api_route(
            PREFIX + route.path, endpoint, methods=[route.method], include_in_schema=False
        )
    document: dict[str, Any] = {}

    async def served_document(_: Request) -> Response:
        if not document:
            document.update(openapi.openapi_document(router.routes))
        return json_response(document)

    async def docs(_: Request) -> Response:
        nonce = new_nonce()
        page = swagger_page(openapi.TITLE, OPENAPI_PATH, nonce)
        return HTMLResponse(page, headers=page_headers(nonce))

    router.add_api_route(OPENAPI_PATH, served_document, methods=["GET"], include_in_schema=False)
    router.add_api_route(DOCS_PATH, docs, methods=["GET"], include_in_schema=False)
    return router


def _endpoint(ctx: ServiceContext, callers: Callers, route: Route) -> Any:
    async def endpoint(request: Request) -> Response:
        params = dict(request.path_params)
        version, network_id = params.pop("version"), params.pop("network_id")
        if not is_supported_version(version):
            raise NotFound(
                ErrorCode.NOT_FOUND,
                f"Could not find API version {version}: use {FIRST_VERSION.isoformat()} or later",
            )
        body, body_problem = None, None
        if route.method in ("POST", "PUT"):
            body, body_problem = _json_object(await request.body())
        actor = await callers(request, body)
        if body_problem is not None:
            raise InvalidNetworkInput.one(("body",), body_problem)
        if body is not None:
            body = {key: value for key, value in body.items() if key != TOKEN_KEY}
        call = ops.Call(version, network_id, params, body)
        payload, status = await LONG_CALLS.run(ctx, route.operation, ctx, actor, call)
        return json_response(payload, status_code=status)

    endpoint.__name__ = route.doc.operation_id.replace("-", "_")
    return endpoint


def is_supported_version(version: str) -> bool:
    """`YYYY-MM-DD`, a real date, 2019-05-01 or later."""
    if not _VERSION.fullmatch(version):
        return False
    try:
        return date.fromisoformat(version) >= FIRST_VERSION
    except ValueError:
        return False


def _json_object(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """The body as a JSON object (an empty body is an empty object), or what is wrong."""
    if not raw.strip():
        return {}, None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None, "is not valid JSON"
    if not isinstance(data, dict):
        return None, "must be a JSON object"
    return data, None
