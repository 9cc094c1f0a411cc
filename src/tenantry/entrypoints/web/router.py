"""The browser face's routes: the `/auth/` pages, the console under `/hub/`, and the
stylesheet they share."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from fastapi import APIRouter
from starlette.responses import Response

from tenantry.entrypoints.http.middleware import Refusal
from tenantry.entrypoints.web.account import add_account_pages
from tenantry.entrypoints.web.console import add_console_pages
from tenantry.entrypoints.web.invitations import add_invitation_pages
from tenantry.entrypoints.web.pages import Web
from tenantry.entrypoints.web.resets import add_reset_pages
from tenantry.entrypoints.web.sign_in import add_sign_in_pages
from tenantry.services.context import ServiceContext

log = logging.getLogger("tenantry.web")


PATHS = ("/hub/", "/auth/")
"""Where the browser face's pages are (the GraphQL faces under `/hub/graphql` are not it)."""


@dataclass(frozen=True, slots=True)
class WebFace:
    router: APIRouter
    refusal: Refusal
    """The page for a request the server refuses before or around a page (400, 413, 500)."""


def web_face(ctx: ServiceContext, *, signing_key: bytes | None = None) -> WebFace:
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

    return WebFace(router, web.refusal)
