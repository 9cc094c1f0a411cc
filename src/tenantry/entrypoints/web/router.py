"""The browser face: the `/auth/` pages, the console under `/hub/`, and the stylesheet they
share; every error of it answered with a page (or, for someone not signed in, the sign-in
page)."""

from __future__ import annotations

import logging
import secrets

from fastapi import APIRouter, FastAPI
from starlette.requests import Request
from starlette.responses import Response

from tenantry.domain.errors import DomainError, Unauthenticated
from tenantry.entrypoints.http.faces import face_app
from tenantry.entrypoints.web.account import add_account_pages
from tenantry.entrypoints.web.console import add_console_pages
from tenantry.entrypoints.web.invitations import add_invitation_pages
from tenantry.entrypoints.web.pages import Web, return_url
from tenantry.entrypoints.web.passkeys import add_passkey_pages
from tenantry.entrypoints.web.resets import add_reset_pages
from tenantry.entrypoints.web.sign_in import add_sign_in_pages, login_url
from tenantry.services.context import ServiceContext

log = logging.getLogger("tenantry.web")


PATHS = ("/hub", "/auth", "/static/web")
"""Where the browser face's pages are (the GraphQL face under `/hub/graphql` is not it)."""


def web_app(ctx: ServiceContext, *, signing_key: bytes | None = None) -> FastAPI:
    """The pages people use in a browser.

    `signing_key` signs the CSRF tokens of forms shown before sign-in and the flash messages;
    every process serving one deployment needs the same key. Without one, each process makes
    its own, which is right for a single process only.
    """
    if signing_key is None:
        log.warning("no signing key configured: forms work only with a single process")
        signing_key = secrets.token_bytes(32)
    web = Web(ctx, signing_key)
    router = APIRouter(include_in_schema=False)
    add_sign_in_pages(router, web)
    add_account_pages(router, web)
    add_passkey_pages(router, web)
    add_reset_pages(router, web)
    add_invitation_pages(router, web)
    add_console_pages(router, web)

    @router.get("/static/web/base.css")
    async def stylesheet() -> Response:
        # The URL carries the content's hash (`?v=`), so it may be cached for good.
        return Response(
            web.stylesheet,
            media_type="text/css",
            headers={
                "Cache-Control": "public, max-age=31536000, immutable",
                "X-Content-Type-Options": "nosniff",
            },
        )

    def domain_error(request: Request, error: DomainError) -> Response:
        if isinstance(error, Unauthenticated):
            return web.redirect(request, login_url(return_url(request)))
        return web.error_page(request, error)

    return face_app(
        router, limit=ctx.settings.max_body_bytes, refusal=web.refusal, domain_error=domain_error
    )
