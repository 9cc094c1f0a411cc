"""`/scim/v2/...`: every path and method goes to one handler, so that unknown paths and methods
get SCIM errors too."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tenantry.entrypoints.http.middleware import request_id_of
from tenantry.entrypoints.scim import errors
from tenantry.entrypoints.scim.answers import http_response
from tenantry.entrypoints.scim.calls import Call, entity_tags
from tenantry.entrypoints.scim.schema import PREFIX
from tenantry.entrypoints.scim.service import ScimService
from tenantry.services.context import ServiceContext

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def scim_router(ctx: ServiceContext) -> APIRouter:
    service = ScimService(ctx)
    router = APIRouter(prefix=PREFIX, tags=["scim"])

    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        if len(raw) > service.max_payload:
            detail = f"The body is larger than maxPayloadSize ({service.max_payload} bytes)."
            return http_response(errors.error(413, detail))
        body = None
        if raw.strip():
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                return http_response(
                    errors.error(400, "The body is not JSON.", errors.INVALID_SYNTAX)
                )
        call = Call(
            method=request.method,
            path=request.url.path.removeprefix(request.scope.get("root_path", "")).removeprefix(
                PREFIX
            ),
            query=dict(request.query_params),
            body=body,
            if_match=entity_tags(request.headers.get("if-match")),
            if_none_match=entity_tags(request.headers.get("if-none-match")),
        )
        answer = await run_in_threadpool(
            service.serve,
            call,
            authorization=request.headers.get("authorization"),
            request_id=request_id_of(request.scope),
            base=str(request.base_url).rstrip("/") + PREFIX,
        )
        return http_response(answer)

    router.add_api_route("", endpoint, methods=_METHODS, include_in_schema=False)
    router.add_api_route("/{rest:path}", endpoint, methods=_METHODS, include_in_schema=False)
    return router
