"""`/auth/login`, `/auth/logout` and `/auth/2fa` (the code asked for after the password; a
passkey may answer it instead: `passkeys`)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tenantry.domain.auth import SessionStage
from tenantry.domain.errors import Throttled, Unauthenticated
from tenantry.entrypoints.web.pages import HOME, Flash, Pages, Web, safe_next, stage_page
from tenantry.entrypoints.web.passkeys import answer_challenge, render_challenge
from tenantry.entrypoints.web.sso import SingleSignOnPages
from tenantry.services import auth, auth_totp

# Longer than any password the strength rules allow: a longer one cannot be right, and
# hashing megabytes of it would only cost time.
MAX_PASSWORD_CHARS = 1024


def login_url(next_url: str) -> str:
    return f"/auth/login?next={quote(next_url, safe='/')}"


def add_sign_in_pages(router: APIRouter, web: Web) -> None:
    pages = SignInPages(web)
    pages.single_sign_on.route(router)
    router.get("/auth/login")(pages.login_page)
    router.post("/auth/login")(pages.login)
    router.post("/auth/logout")(pages.logout)
    router.get("/auth/2fa")(pages.challenge_page)
    router.post("/auth/2fa")(pages.challenge)


class SignInPages(Pages):
    def __init__(self, web: Web) -> None:
        super().__init__(web)
        self.single_sign_on = SingleSignOnPages(web)

    async def login_page(self, request: Request) -> Response:
        next_url = safe_next(request.query_params.get("next"))
        signed_in = await self.web.signed_in(request)
        if signed_in is not None:
            return self.web.redirect(request, stage_page(signed_in.stage, next_url))
        return self.web.render(
            request, "login.html", next=next_url, home=HOME, email="", error=None
        )

    async def login(self, request: Request) -> Response:
        """The address first (its form has nothing else): it goes on to an identity provider
        or to the password step; then the password, with the address, as before."""
        form = await self.web.form(request)
        if not self.web.csrf.pre_session_valid(request, form):
            return self.web.forbidden(request)
        next_url = safe_next(form.get("next") or request.query_params.get("next"))
        email = form.get("email", "")[:254]
        if "password" not in form:
            return await self.single_sign_on.address_step(request, email, next_url)
        password = form.get("password", "")[:MAX_PASSWORD_CHARS]
        try:
            issued = await run_in_threadpool(
                auth.sign_in, self.ctx, email, password, self.web.origin(request)
            )
        except (Throttled, Unauthenticated) as error:
            return self.web.render(
                request,
                "login_password.html",
                status=429 if isinstance(error, Throttled) else 401,
                next=next_url,
                home=HOME,
                email=email,
                error=error.message,
            )
        response = self.web.redirect(request, stage_page(issued.stage, next_url))
        self.web.cookies.set_session(response, request, issued)
        return response

    async def logout(self, request: Request) -> Response:
        form = await self.web.form(request)
        signed_in = await self.web.signed_in(request)
        if signed_in is None:
            response = self.web.redirect(request, "/auth/login")
            self.web.cookies.clear_session(response, request)
            return response
        if not self.web.csrf.session_valid(request, form, signed_in):
            return self.web.forbidden(request)
        await run_in_threadpool(auth.sign_out, self.ctx, signed_in, self.web.origin(request))
        response = self.web.redirect(
            request, "/auth/login", flash=Flash("success", "You are signed out.")
        )
        self.web.cookies.clear_session(response, request)
        return response

    async def challenge_page(self, request: Request) -> Response:
        next_url = safe_next(request.query_params.get("next"))
        signed_in = await self.web.signed_in(request)
        if signed_in is None:
            return self.web.redirect(request, login_url(next_url))
        if signed_in.stage is not SessionStage.CHALLENGE:
            return self.web.redirect(request, stage_page(signed_in.stage, next_url))
        return await render_challenge(self.web, request, signed_in, next_url)

    async def challenge(self, request: Request) -> Response:
        return await answer_challenge(
            self.web,
            request,
            lambda signed_in, form, origin: auth_totp.verify_second_factor(
                self.ctx, signed_in, form.get("code", "")[:64], origin
            ),
        )
