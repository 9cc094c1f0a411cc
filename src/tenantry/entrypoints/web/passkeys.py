"""Passkeys in the browser: adding one (`/auth/passkeys/new`), removing one, and using one at
the second-factor step (`/auth/2fa/passkey`), with the small script that hands the options to
`navigator.credentials` and its answer back to the form.

The options travel in the page (a `data-options` attribute) and the answer in an ordinary form
post with the session's CSRF token, so the pages need no inline script and no `fetch`: the
Content-Security-Policy allows this site's own script files and nothing else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from importlib import resources
from urllib.parse import quote

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tenantry.domain.auth import SessionStage
from tenantry.domain.errors import Conflict, DomainError, Throttled, Unauthenticated
from tenantry.entrypoints.http.errors import http_status
from tenantry.entrypoints.web.pages import Flash, Pages, Web, safe_next, stage_page
from tenantry.services import auth_passkeys, auth_totp
from tenantry.services.auth import IssuedSession, Origin, SignedIn

ACCOUNT_PAGE = "/auth/account"
NEW_PAGE = "/auth/passkeys/new"
SCRIPT_PATH = "/static/web/passkeys.js"
MAX_ANSWER_CHARS = 20_000
"""Form fields are cut here: more than any real answer (the service refuses past 16 KB)."""


def add_passkey_pages(router: APIRouter, web: Web) -> None:
    pages = PasskeyPages(web)
    router.get(NEW_PAGE)(pages.new_page)
    router.post("/auth/passkeys")(pages.add)
    router.post("/auth/passkeys/{passkey_id}/remove")(pages.remove)
    router.post("/auth/2fa/passkey")(pages.sign_in)
    router.get(SCRIPT_PATH)(pages.script)


async def render_challenge(
    web: Web,
    request: Request,
    signed_in: SignedIn,
    next_url: str,
    *,
    status: int = 200,
    error: str | None = None,
) -> Response:
    """The second-factor page: a code from the app, a passkey, or both, as the person has."""
    choices = await run_in_threadpool(auth_passkeys.start_passkey_sign_in, web.ctx, signed_in)
    return web.render(
        request,
        "two_factor.html",
        status=status,
        signed_in=signed_in,
        next=next_url,
        error=error,
        app=choices.app,
        passkey_options=choices.passkey_options,
    )


class PasskeyPages(Pages):
    def __init__(self, web: Web) -> None:
        super().__init__(web)
        source = resources.files("tenantry").joinpath("templates/web/static/passkeys.js")
        self._script = source.read_bytes()
        version = hashlib.sha256(self._script).hexdigest()[:12]
        web.templates.globals["passkeys_script_url"] = f"{SCRIPT_PATH}?v={version}"

    async def script(self) -> Response:
        # The URL carries the content's hash (`?v=`), so it may be cached for good.
        return Response(
            self._script,
            media_type="text/javascript",
            headers={
                "Cache-Control": "public, max-age=31536000, immutable",
                "X-Content-Type-Options": "nosniff",
            },
        )

    async def new_page(self, request: Request) -> Response:
        next_url = safe_next(request.query_params.get("next", ACCOUNT_PAGE))
        signed_in = await self.web.signed_in(request)
        if signed_in is None:
            return self.web.redirect(request, _login(NEW_PAGE))
        if signed_in.stage is SessionStage.CHALLENGE:
            return self.web.redirect(request, stage_page(signed_in.stage, next_url))
        return await self._new(request, signed_in, next_url)

    async def add(self, request: Request) -> Response:
        form = await self.web.form(request)
        next_url = safe_next(form.get("next", ACCOUNT_PAGE))
        signed_in = await self.web.signed_in(request)
        if signed_in is None:
            return self.web.redirect(request, _login(NEW_PAGE))
        if not self.web.csrf.session_valid(request, form, signed_in):
            return self.web.forbidden(request)
        name = form.get("name", "")[:200]
        try:
            added = await run_in_threadpool(
                auth_passkeys.add_passkey,
                self.ctx,
                signed_in,
                name,
                form.get("credential", "")[:MAX_ANSWER_CHARS],
                self.web.origin(request),
            )
        except DomainError as error:
            status = http_status(error)
            return await self._new(request, signed_in, next_url, name, status, error.message)
        flash = Flash("success", f"Passkey “{added.passkey.name}” added.")
        if added.session is None:
            return self.web.redirect(request, ACCOUNT_PAGE, flash=flash)
        response = self.web.redirect(request, next_url, flash=flash)
        self.web.cookies.set_session(response, request, added.session)
        return response

    async def remove(self, request: Request, passkey_id: str) -> Response:
        form = await self.web.form(request)
        signed_in = await self.web.signed_in(request)
        if signed_in is None or signed_in.stage is not SessionStage.COMPLETE:
            return self.web.redirect(request, _login(ACCOUNT_PAGE))
        if not self.web.csrf.session_valid(request, form, signed_in):
            return self.web.forbidden(request)
        number = int(passkey_id) if passkey_id.isascii() and passkey_id.isdigit() else 0
        number = number if number < 2**31 else 0
        if form.get("confirmed") != "yes":
            return await self._confirm_removal(request, signed_in, number)
        try:
            removed = await run_in_threadpool(
                auth_passkeys.remove_passkey,
                self.ctx,
                signed_in,
                number,
                self.web.origin(request),
            )
        except DomainError as error:
            return self.web.redirect(request, ACCOUNT_PAGE, flash=Flash("error", error.message))
        flash = Flash("success", f"Passkey “{removed.name}” removed.")
        return self.web.redirect(request, ACCOUNT_PAGE, flash=flash)

    async def sign_in(self, request: Request) -> Response:
        return await answer_challenge(
            self.web,
            request,
            lambda signed_in, form, origin: auth_passkeys.sign_in_with_passkey(
                self.ctx, signed_in, form.get("credential", "")[:MAX_ANSWER_CHARS], origin
            ),
        )

    async def _confirm_removal(
        self, request: Request, signed_in: SignedIn, number: int
    ) -> Response:
        """Removing asks first, naming the passkey, as every destructive action does."""
        status = await run_in_threadpool(auth_totp.two_factor_status, self.ctx, signed_in)
        passkey = next((p for p in status.passkeys if p.id == number), None)
        if passkey is None:
            flash = Flash("error", "You have no such passkey.")
            return self.web.redirect(request, ACCOUNT_PAGE, flash=flash)
        return self.web.render(request, "passkey_remove.html", signed_in=signed_in, passkey=passkey)

    async def _new(
        self,
        request: Request,
        signed_in: SignedIn,
        next_url: str,
        name: str = "",
        status: int = 200,
        error: str | None = None,
    ) -> Response:
        try:
            options = await run_in_threadpool(
                auth_passkeys.start_passkey_registration, self.ctx, signed_in
            )
        except DomainError as refused:
            options, status, error = None, http_status(refused), refused.message
        return self.web.render(
            request,
            "passkey_new.html",
            status=status,
            signed_in=signed_in,
            options=options,
            required=signed_in.stage is SessionStage.ENROL,
            name=name,
            next=next_url,
            error=error,
        )


async def answer_challenge(
    web: Web,
    request: Request,
    check: Callable[[SignedIn, Mapping[str, str], Origin], IssuedSession],
) -> Response:
    """The second-factor step's answer, whichever factor `check` verifies (the app's code or a
    passkey): the session it completes, or the challenge again with why it failed."""
    form = await web.form(request)
    next_url = safe_next(form.get("next"))
    signed_in = await web.signed_in(request)
    if signed_in is None:
        flash = Flash("error", "Signing in took too long. Start again.")
        return web.redirect(request, _login(next_url), flash=flash)
    if not web.csrf.session_valid(request, form, signed_in):
        return web.forbidden(request)
    try:
        issued = await run_in_threadpool(check, signed_in, form, web.origin(request))
    except Conflict:
        return web.redirect(request, stage_page(signed_in.stage, next_url))
    except (Throttled, Unauthenticated) as error:
        status = 429 if isinstance(error, Throttled) else 401
        return await render_challenge(
            web, request, signed_in, next_url, status=status, error=error.message
        )
    response = web.redirect(request, next_url)
    web.cookies.set_session(response, request, issued)
    return response


def _login(next_url: str) -> str:
    # As `sign_in.login_url`, which imports this module for the second-factor page.
    return f"/auth/login?next={quote(next_url, safe='/')}"
