"""Rendering pages for the browser face: templates, flash messages, redirects, safe headers.

`Web` is the small base every page of the browser face (the `/auth/` pages now, the console
later) is built on: it renders a template inside the shared layout with the CSRF token its
forms need, carries flash messages across a redirect in a signed cookie, and reads the session
behind a request.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal
from urllib.parse import quote

import orjson
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from tenantry.domain.auth import SessionStage
from tenantry.domain.errors import DomainError
from tenantry.entrypoints.http import caller
from tenantry.entrypoints.http.errors import http_status
from tenantry.entrypoints.http.middleware import request_id_of
from tenantry.entrypoints.web.security import Cookies, Csrf, Signer
from tenantry.services.auth import Origin, SignedIn
from tenantry.services.context import ServiceContext

FLASH_COOKIE = "tenantry_flash"
HOME = "/hub/"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Links with tokens (invitations, resets) must not leak to other sites through a Referer
    # header. ("no-referrer" would also make browsers send `Origin: null` on this site's own
    # form posts, which the CSRF check could then not tell from a foreign page's.)
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
HSTS = {"Strict-Transport-Security": "max-age=31536000"}
"""Sent when the deployment's base URL is https: browsers then never try plain http first."""
FlashLevel = Literal["info", "success", "error"]


@dataclass(frozen=True, slots=True)
class Flash:
    level: FlashLevel
    text: str


class Web:
    def __init__(self, ctx: ServiceContext, signing_key: bytes) -> None:
        self.ctx = ctx
        self.signer = Signer(signing_key)
        self.cookies = Cookies(ctx.settings.base_url, ctx.now)
        self.csrf = Csrf(self.signer, self.cookies)
        https = ctx.settings.base_url.startswith("https://")
        self.headers = (SECURITY_HEADERS | HSTS) if https else SECURITY_HEADERS
        self.templates = Environment(
            loader=PackageLoader("tenantry", "templates/web"),
            autoescape=select_autoescape(enabled_extensions=("html",), default=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        # One stylesheet for every page: base.css first, then each part's own, by name.
        static = resources.files("tenantry").joinpath("templates/web/static")
        sheets = sorted(
            (f for f in static.iterdir() if f.name.endswith(".css")),
            key=lambda f: (f.name != "base.css", f.name),
        )
        self.stylesheet = b"\n".join(f.read_bytes() for f in sheets)
        version = hashlib.sha256(self.stylesheet).hexdigest()[:12]
        self.templates.globals["stylesheet_url"] = f"/static/web/base.css?v={version}"

    # -- requests

    def origin(self, request: Request) -> Origin:
        return Origin(
            source=request.client.host if request.client else "unknown",
            user_agent=request.headers.get("user-agent", ""),
            request_id=request_id_of(request.scope) or None,
        )

    async def signed_in(self, request: Request) -> SignedIn | None:
        """The session behind the request, at whatever stage of signing in, or None."""
        return await caller.signed_in(self.ctx, request)

    async def form(self, request: Request) -> dict[str, str]:
        try:
            # A field may be as large as the body limit lets it be (a pasted CSV), so that the
            # page's own size check answers rather than the parser's 1 MB default part size.
            form = await request.form(max_part_size=self.ctx.settings.max_body_bytes)
        except (ValueError, KeyError, HTTPException):
            # Malformed (or too many parts): as good as no form, which its CSRF check refuses.
            return {}
        return {k: v for k, v in form.items() if isinstance(v, str)}

    # -- answers

    def render(
        self,
        request: Request,
        template: str,
        *,
        status: int = 200,
        signed_in: SignedIn | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """A page in the shared layout; its forms get the session's CSRF token, or a signed
        double-submit token before there is a session."""
        new_nonce = None
        if signed_in is not None:
            csrf_token = signed_in.csrf_token
        else:
            csrf_token, new_nonce = self.csrf.pre_session_token(request)
        flashes = self._read_flashes(request)
        html = self.templates.get_template(template).render(
            signed_in=signed_in if signed_in and signed_in.stage is SessionStage.COMPLETE else None,
            csrf_token=csrf_token,
            flashes=flashes,
            **context,
        )
        response = HTMLResponse(html, status_code=status, headers=self.headers)
        if new_nonce is not None:
            self.cookies.set_csrf_nonce(response, request, new_nonce)
        if FLASH_COOKIE in request.cookies:
            response.delete_cookie(FLASH_COOKIE, path="/", httponly=True, samesite="lax")
        return response

    def redirect(
        self, request: Request, url: str, *, flash: Flash | None = None
    ) -> RedirectResponse:
        """A 303 (the browser follows with a GET), optionally with a message for the next page."""
        response = RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})
        if flash is not None:
            payload = base64.urlsafe_b64encode(orjson.dumps([[flash.level, flash.text]])).decode()
            response.set_cookie(
                FLASH_COOKIE,
                f"{payload}.{self.signer.sign('flash', payload)}",
                max_age=120,
                path="/",
                secure=self.cookies.secure(request),
                httponly=True,
                samesite="lax",
            )
        return response

    def forbidden(self, request: Request) -> HTMLResponse:
        """What a form post without a valid CSRF token gets."""
        return self.render(
            request,
            "message.html",
            status=403,
            title="This form has expired",
            message=(
                "The form was sent from another page, or it was open too long. "
                "Go back, reload the page and try again."
            ),
            link=("/auth/login", "Go to the sign-in page"),
        )

    def refusal(self, status: int, *, limit: int, request_id: str, detail: str) -> HTMLResponse:
        """The page for a request refused whatever it asked for (see `http.refusals.Refusal`);
        it reads no session: the database may be what failed."""
        if status == 400:
            title = "That can't be accepted"
            message = f"{detail} Pasted text can bring one along: remove it and try again."
        elif status == 503:
            title = "Back in a moment"
            message = "The console cannot reach its database just now. Try again in a moment."
        elif status == 413:
            title = "That was too much to send at once"
            message = (
                f"The server takes at most {limit // 1024} KB in one request. Send less at "
                "once: a CSV file, for example, can be split into parts."
            )
        else:
            title = "Something went wrong"
            message = (
                "The request could not be completed. If it happens again, quote this "
                f"reference when you report it: {request_id}."
            )
        html = self.templates.get_template("message.html").render(
            signed_in=None,
            csrf_token="",
            flashes=[],
            title=title,
            message=message,
            link=(HOME, "Go to the console"),
        )
        return HTMLResponse(html, status_code=status, headers=self.headers)

    def error_page(self, request: Request, error: DomainError) -> HTMLResponse:
        """A core error no page answered itself, on a page of its own."""
        status = http_status(error)
        titles = {403: "Not allowed", 404: "Not found", 409: "Not possible"}
        return self.render(
            request,
            "message.html",
            status=status,
            title=titles.get(status, "Something is not right"),
            message=error.message,
            link=(HOME, "Go to the console"),
        )

    def _read_flashes(self, request: Request) -> list[Flash]:
        raw = request.cookies.get(FLASH_COOKIE)
        if not raw or len(raw) > 2000:
            return []
        payload, _, signature = raw.rpartition(".")
        if not payload or not self.signer.verify("flash", payload, signature):
            return []
        try:
            items = orjson.loads(base64.urlsafe_b64decode(payload))
            return [
                Flash(level, text)
                for level, text in items
                if level in ("info", "success", "error") and isinstance(text, str)
            ]
        except (binascii.Error, orjson.JSONDecodeError, TypeError, ValueError):
            return []


class Pages:
    """A group of pages: one method per route, over the `Web` they share. The module's
    `add_*_pages` routes its URLs to the methods."""

    def __init__(self, web: Web) -> None:
        self.web = web
        self.ctx = web.ctx


def return_url(request: Request) -> str:
    """Where to come back to after signing in: this page, or for a form post, the path it was
    posted to."""
    if request.method != "GET":
        return request.url.path
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this site, never another site."""
    if (
        not value
        or len(value) > 500
        or not value.startswith("/")
        or value.startswith(("//", "/\\"))
        or any(ch in value for ch in "\\\r\n\t")
    ):
        return HOME
    return value


def stage_page(stage: SessionStage, next_url: str = HOME) -> str:
    """The page a session in `stage` belongs on."""
    if stage is SessionStage.CHALLENGE:
        return f"/auth/2fa?next={_quote(next_url)}"
    if stage is SessionStage.ENROL:
        return f"/auth/2fa/setup?next={_quote(next_url)}"
    return next_url


def _quote(value: str) -> str:
    return quote(value, safe="/")
