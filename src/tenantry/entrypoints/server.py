"""The ASGI application: every face mounted under its paths, and the server's own (health,
readiness, and whatever no face claims).

Each face is an application of its own (`http.faces.face_app`), with its own exception
handlers, so that whatever it raises is answered in its own format: nothing around the faces
needs to know which face a path belongs to. Around them all, one middleware gives requests
their ids, logs them and times them (`http.middleware`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import APIRouter, FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Scope

from tenantry import __version__
from tenantry.entrypoints import token, web
from tenantry.entrypoints.bulk_rest import PREFIX as BULK_PREFIX
from tenantry.entrypoints.bulk_rest import bulk_rest_app
from tenantry.entrypoints.graphql import (
    CAPIG_PATH,
    HUB_PATH,
    TRAFFIC_PATH,
    capig_app,
    hub_app,
    traffic_app,
)
from tenantry.entrypoints.http.api_docs import assets_router
from tenantry.entrypoints.http.faces import face_app
from tenantry.entrypoints.http.logs import configure_logging
from tenantry.entrypoints.http.metrics import FACE_KEY, metrics_router
from tenantry.entrypoints.http.middleware import RequestContextMiddleware
from tenantry.entrypoints.http.refusals import plain_domain_error, plain_refusal
from tenantry.entrypoints.http.responses import json_response
from tenantry.entrypoints.network_rest import network_rest_app
from tenantry.entrypoints.scim import PREFIX as SCIM_PREFIX
from tenantry.entrypoints.scim import scim_app
from tenantry.services.context import ServiceContext

NETWORK_PREFIX = "/api"  # every path under /api/ that the bulk API does not claim


class Face(Mount):
    """A face's application, mounted under `prefixes` (each path itself, and every path below
    it). The face sees the whole path, and the root path of the server: its routes are written
    in full, so the URLs it builds (pages, redirects, the explorer, SCIM locations, OpenAPI
    documents) and the paths it logs read as they do without the mount."""

    def __init__(self, name: str, app: ASGIApp, *prefixes: str) -> None:
        super().__init__("", app=app)
        self.face = name  # for the request metrics
        self.prefixes = tuple(prefix.rstrip("/") for prefix in prefixes)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # By prefix, not by Mount's pattern, which would miss a path with a line break in it:
        # the face refuses that path in its own words.
        if scope["type"] != "http":
            return Match.NONE, {}
        root_path: str = scope.get("root_path", "")
        path = scope["path"].removeprefix(root_path) if root_path else scope["path"]
        if not any(path == p or path.startswith(p + "/") for p in self.prefixes):
            return Match.NONE, {}
        app_root_path = scope.get("app_root_path", root_path)
        return Match.FULL, {
            "app_root_path": app_root_path,
            "endpoint": self.app,
            FACE_KEY: self.face,
        }


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
    key = settings.secret_key.get_secret_value().encode() if settings.secret_key else None
    # The first face whose prefix matches serves the path: the GraphQL API under /hub/ comes
    # before the console, the bulk API before the network integration's /api/.
    faces: list[BaseRoute] = [
        Face("token", token.token_app(ctx), token.PATH),
        Face("graphql", hub_app(ctx), HUB_PATH),
        Face("graphql", capig_app(ctx), CAPIG_PATH),
        Face("traffic", traffic_app(ctx), TRAFFIC_PATH),
        Face("scim", scim_app(ctx), SCIM_PREFIX),
        Face("bulk_rest", bulk_rest_app(ctx), BULK_PREFIX),
        Face("network_rest", network_rest_app(ctx), NETWORK_PREFIX),
        Face("console", web.web_app(ctx, signing_key=key), *web.PATHS),
        Face("server", _server_app(ctx, readiness), "/"),
    ]
    app = FastAPI(
        routes=faces,
        lifespan=lifespan,
        title="tenantry",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.context = ctx
    app.add_middleware(RequestContextMiddleware)
    return app


def _server_app(ctx: ServiceContext, readiness: Callable[[], None]) -> FastAPI:
    """Health, readiness, metrics and the API documentation pages' files; its `{"message"}`
    answers are those of any path no face claims."""
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def healthz() -> Response:
        return json_response({"status": "ok"})

    @router.get("/readyz")
    async def readyz() -> Response:
        try:
            await run_in_threadpool(readiness)
        except Exception:
            return json_response({"status": "unavailable", "database": "down"}, status_code=503)
        return json_response({"status": "ready", "database": "up"})

    return face_app(
        router,
        metrics_router(ctx),
        assets_router(),
        limit=ctx.settings.max_body_bytes,
        refusal=plain_refusal,
        domain_error=plain_domain_error,
    )
