"""`/auth/reset` (ask for a link by e-mail) and `/auth/reset/<token>` (set a new password)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tenantry.domain.errors import ErrorCode, InvalidInput
from tenantry.entrypoints.web.pages import Flash, Pages, Web
from tenantry.entrypoints.web.sign_in import MAX_PASSWORD_CHARS
from tenantry.services import auth_resets, passwords

PASSWORD_RULES = (
    f"At least {passwords.MIN_LENGTH} characters",
    "Three of: lower-case letters, upper-case letters, digits, symbols",
    "Not your e-mail address",
)


def add_reset_pages(router: APIRouter, web: Web) -> None:
    pages = ResetPages(web)
    router.get("/auth/reset")(pages.request_page)
    router.post("/auth/reset")(pages.request_reset)
    router.get("/auth/reset/{token}")(pages.new_password_page)
    router.post("/auth/reset/{token}")(pages.new_password)


class ResetPages(Pages):
    async def request_page(self, request: Request) -> Response:
        return self.web.render(request, "reset_request.html", email="")

    async def request_reset(self, request: Request) -> Response:
        form = await self.web.form(request)
        if not self.web.csrf.pre_session_valid(request, form):
            return self.web.forbidden(request)
        email = form.get("email", "")[:254]
        await run_in_threadpool(
            auth_resets.request_password_reset, self.ctx, email, self.web.origin(request)
        )
        # The same page whether or not a mail goes out; the outbox sends it after the answer,
        # so the time the answer takes tells nothing either.
        return self.web.render(request, "reset_sent.html", email=email)

    async def new_password_page(self, request: Request, token: str) -> Response:
        try:
            email = await run_in_threadpool(auth_resets.check_password_reset, self.ctx, token)
        except InvalidInput as error:
            return self._invalid(request, error)
        return self._form(request, token, email)

    async def new_password(self, request: Request, token: str) -> Response:
        form = await self.web.form(request)
        if not self.web.csrf.pre_session_valid(request, form):
            return self.web.forbidden(request)
        password = form.get("password", "")[:MAX_PASSWORD_CHARS]
        try:
            await run_in_threadpool(
                auth_resets.complete_password_reset,
                self.ctx,
                token,
                password,
                self.web.origin(request),
            )
        except InvalidInput as error:
            if error.code is not ErrorCode.WEAK_PASSWORD:
                return self._invalid(request, error)
            email = await run_in_threadpool(auth_resets.check_password_reset, self.ctx, token)
            return self._form(request, token, email, status=400, error=error.message)
        flash = Flash("success", "Your password is changed. Sign in with it.")
        return self.web.redirect(request, "/auth/login", flash=flash)

    def _form(
        self,
        request: Request,
        token: str,
        email: str,
        *,
        status: int = 200,
        error: str | None = None,
    ) -> Response:
        return self.web.render(
            request,
            "reset_password.html",
            status=status,
            token=token,
            email=email,
            rules=PASSWORD_RULES,
            error=error,
        )

    def _invalid(self, request: Request, error: InvalidInput) -> Response:
        return self.web.render(
            request,
            "message.html",
            status=400,
            title="This link does not work",
            message=error.message,
            link=("/auth/reset", "Ask for a new link"),
        )
