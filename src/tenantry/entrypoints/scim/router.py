"""`/scim/v2/...`: every path and method goes to one handler, so that unknown paths and methods
get SCIM errors too; so do refusals, outages and failures (the face's handlers)."""

from __future__ import annotations

from functools import partial

import orjson
from fastapi import APIRouter, FastAPI, Request
from starlette.responses import Response

from tenantry.domain.errors import DomainError
from tenantry.entrypoints.http.caller import Callers
from tenantry.entrypoints.http.faces import face_app
from tenantry.entrypoints.http.idempotency import Idempotency
from tenantry.entrypoints.http.middleware import request_id_of
from tenantry.entrypoints.http.threads import CHANGES, LONG_CALLS, READS, Lane
from tenantry.entrypoints.scim import errors
from tenantry.entrypoints.scim.answers import http_response
from tenantry.entrypoints.scim.calls import Call, entity_tags
from tenantry.entrypoints.scim.schema import PREFIX
from tenantry.entrypoints.scim.service import FACE, NO_BEARER, ScimService
from tenantry.services.context import ServiceContext

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def scim_app(ctx: ServiceContext) -> FastAPI:
    """The SCIM service, its every error a SCIM Error; its creates (POST, Bulk included, but
    not searches) honour `Idempotency-Key`."""

    def domain_error(_: Request, error: DomainError) -> Response:
        return http_response(errors.from_domain(error))

    callers = Callers(ctx, face=FACE, missing=NO_BEARER)
    return face_app(
        scim_router(ctx, callers),
        limit=ctx.settings.max_body_bytes,
        refusal=errors.refusal,
        domain_error=domain_error,
        idempotency=Idempotency(callers, changes=_not_a_search),
    )


def _not_a_search(path: str, body: bytes) -> bool:
    return not path.rstrip("/").endswith("/.search")


def scim_router(ctx: ServiceContext, callers: Callers) -> APIRouter:
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
        token, request_id = callers.presented(request), request_id_of(request.scope)
        lane = _lane(call)
        answer = await lane.run(
            ctx,
            service.serve,
            call,
            authenticate=partial(callers.authenticate, token, request_id),
            base=str(request.base_url).rstrip("/") + PREFIX,
        )
        return http_response(answer)

    router.add_api_route("", endpoint, methods=_METHODS, include_in_schema=False)
    router.add_api_route("/{rest:path}", endpoint, methods=_METHODS, include_in_schema=False)
    return router


def _lane(call: Call) -> Lane:
    """The threads a call waits for (`http.threads`): reads, changes, or long calls (Bulk,
    and changes to groups, which may move thousands of members)."""
    if call.method in ("GET", "HEAD"):
        return READS
    if call.parts == ["Bulk"] or call.parts[:1] == ["Groups"]:
        return LONG_CALLS
    return CHANGES
