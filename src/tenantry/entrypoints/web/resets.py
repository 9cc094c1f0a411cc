"""`/auth/reset` (ask for a link by e-mail) and `/auth/reset/<token>` (set a new password)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tenantry.domain.errors import ErrorCode, InvalidInput
from tenantry.entrypoints.web.pages import Flash, Web
from tenantry.entrypoints.web.sign_in import MAX_PASSWORD_CHARS
from tenantry.services import auth_resets, passwords

PASSWORD_RULES = (
    f"At least {passwords.MIN_LENGTH} characters",
    "Three of: lower-case letters, upper-case letters, digits, symbols",
    "Not your e-mail address",
)


def add_reset_pages(router: APIRouter, web: Web) -> None:
    ctx = web.ctx

    @router.get("/auth/reset")
    async def request_page(request: Request) -> Response:
        return web.render(request, "reset_request.html", email="")

    @router.post("/auth/reset")
    async def request_reset(request: Request) -> Response:
        form = await web.form(request)
        if not web.csrf.pre_session_valid(request, form):
            return web.forbidden(request)
        email = form.get("email", "")[:254]
        await run_in_threadpool(auth_resets.request_password_reset, ctx, email, web.origin(request))
        # The same page whether or not a mail goes out; the outbox sends it after the answer,
        # so the time the answer takes tells nothing either.
        return web.render(request, "reset_sent.html", email=email)

    @router.get("/auth/reset/{token}")
    async def new_password_page(request: Request, token: str) -> Response:
        try:
            email = await run_in_threadpool(auth_resets.check_password_reset, ctx, token)
        except InvalidInput as error:
            return _invalid(request, error)
        return web.render(
            request,
            "reset_password.html",
            token=token,
            email=email,
            rules=PASSWORD_RULES,
            error=None,
        )

    @router.post("/auth/reset/{token}")
    async def new_password(request: Request, token: str) -> Response:
        form = await web.form(request)
        if not web.csrf.pre_session_valid(request, form):
            return web.forbidden(request)
        password = form.get("password", "")[:MAX_PASSWORD_CHARS]
        try:
            await run_in_threadpool(
                auth_resets.complete_password_reset, ctx, token, password, web.origin(request)
            )
        except InvalidInput as error:
            if error.code is not ErrorCode.WEAK_PASSWORD:
                return _invalid(request, error)
            email = await run_in_threadpool(auth_resets.check_password_reset, ctx, token)
            return web.render(
                request,
                "reset_password.html",
                status=400,
                token=token,
                email=email,
                rules=PASSWORD_RULES,
                error=error.message,
            )
        flash = Flash("success", "Your password is changed. Sign in with it.")
        return web.redirect(request, "/auth/login", flash=flash)

    def _invalid(request: Request, error: InvalidInput) -> Response:
        return web.render(
            request,
            "message.html",
            status=400,
            title="This link does not work",
            message=error.message,
            link=("/auth/reset", "Ask for a new link"),
        )
