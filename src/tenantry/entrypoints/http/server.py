"""The ASGI application: health and readiness, the token endpoint, and the faces mounted on it."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tenantry import __version__
from tenantry.entrypoints import web
from tenantry.entrypoints.bulk_rest import bulk_rest_router
from tenantry.entrypoints.bulk_rest import errors as bulk_errors
from tenantry.entrypoints.bulk_rest.router import PREFIX as BULK_PREFIX
from tenantry.entrypoints.graphql import errors as graphql_errors
from tenantry.entrypoints.graphql.capig import CAPIG_PATH, capig_router
from tenantry.entrypoints.graphql.hub import HUB_PATH, hub_router
from tenantry.entrypoints.http import token
from tenantry.entrypoints.http.logs import configure_logging
from tenantry.entrypoints.http.middleware import Refusal, RequestContextMiddleware
from tenantry.entrypoints.http.responses import json_response
from tenantry.entrypoints.http.traffic import traffic_router
from tenantry.entrypoints.network_rest import errors as network_errors
from tenantry.entrypoints.network_rest import network_rest_router
from tenantry.entrypoints.scim import errors as scim_errors
from tenantry.entrypoints.scim import scim_router
from tenantry.entrypoints.scim.schema import PREFIX as SCIM_PREFIX
from tenantry.services.context import ServiceContext


def create_http_app(
    ctx: ServiceContext,
    *,
    readiness: Callable[[], None],
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
) -> FastAPI:
    """Build the app around one service context; `readiness` raises when the database is down;
    `lifespan` runs what lives as long as the server (the outbox sender)."""
    settings = ctx.settings
    configure_logging(settings.log_level, json=settings.log_json)
    app = FastAPI(
        lifespan=lifespan,
        title="tenantry",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.context = ctx

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        return json_response({"status": "ok"})

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        try:
            await run_in_threadpool(readiness)
        except Exception:
            return json_response({"status": "unavailable", "database": "down"}, status_code=503)
        return json_response({"status": "ready", "database": "up"})

    app.include_router(token.token_router(ctx))
    app.include_router(hub_router(ctx))
    app.include_router(capig_router(ctx))
    app.include_router(traffic_router(ctx))
    app.include_router(bulk_rest_router(ctx))
    app.include_router(network_rest_router(ctx))
    app.include_router(scim_router(ctx))
    key = settings.secret_key.get_secret_value().encode() if settings.secret_key else None
    web_face = web.web_face(ctx, signing_key=key)
    app.include_router(web_face.router)
    # Each face words the refusals answered before or around it (400, 413, 503, 500) in its own
    # format; the first prefix that matches a path wins, so the longer ones come first.
    refusals: list[tuple[str, Refusal]] = [
        (token.PATH, token.refusal),
        (HUB_PATH, graphql_errors.refusal),
        (CAPIG_PATH, graphql_errors.refusal),
        (SCIM_PREFIX, scim_errors.refusal),
        (BULK_PREFIX, bulk_errors.refusal),
        ("/api/", network_errors.refusal),
        *((path, web_face.refusal) for path in web.PATHS),
    ]
    app.add_middleware(
        RequestContextMiddleware, max_body_bytes=settings.max_body_bytes, refusals=refusals
    )
    return app
