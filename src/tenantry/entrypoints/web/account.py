"""`/auth/account` (who is signed in, their accounts and roles) and the two-factor settings:
setting it up with a QR code, new recovery codes, turning it off."""

from __future__ import annotations

import segno
from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tenantry.domain.auth import SessionStage
from tenantry.domain.errors import Conflict, DomainError, InvalidInput
from tenantry.entrypoints.http.errors import http_status
from tenantry.entrypoints.web.pages import Flash, Pages, Web, safe_next, stage_page
from tenantry.entrypoints.web.sign_in import login_url
from tenantry.services import auth_account, auth_totp
from tenantry.services.auth import SignedIn
from tenantry.services.auth_totp import TotpEnrolment

ACCOUNT_PAGE = "/auth/account"


def qr_data_uri(text: str) -> str:
    """An SVG QR code as a data URI (no image library, and no request to another site)."""
    return segno.make(text, error="m").svg_data_uri(scale=5, border=4, dark="#000", light="#fff")


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it in by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def add_account_pages(router: APIRouter, web: Web) -> None:
    pages = AccountPages(web)
    router.get("/auth/")(pages.auth_home)
    router.get("/auth")(pages.auth_home)
    router.get(ACCOUNT_PAGE)(pages.account_page)
    router.get("/auth/2fa/setup")(pages.setup_page)
    router.post("/auth/2fa/setup")(pages.setup)
    router.post("/auth/2fa/recovery-codes")(pages.new_recovery_codes)
    router.post("/auth/2fa/disable")(pages.disable)


class AccountPages(Pages):
    async def auth_home(self, request: Request) -> Response:
        return self.web.redirect(request, ACCOUNT_PAGE)

    async def account_page(self, request: Request) -> Response:
        signed_in = await self.web.signed_in(request)
        if signed_in is None:
            return self.web.redirect(request, login_url(ACCOUNT_PAGE))
        if signed_in.stage is not SessionStage.COMPLETE:
            return self.web.redirect(request, stage_page(signed_in.stage))
        return await self._account(request, signed_in)

    async def setup_page(self, request: Request) -> Response:
        next_url = safe_next(request.query_params.get("next"))
        signed_in = await self.web.signed_in(request)
        if signed_in is None:
            return self.web.redirect(request, login_url("/auth/2fa/setup"))
        if signed_in.stage is SessionStage.CHALLENGE:
            return self.web.redirect(request, stage_page(signed_in.stage, next_url))
        try:
            enrolment = await run_in_threadpool(auth_totp.start_totp_enrolment, self.ctx, signed_in)
        except Conflict:
            flash = Flash("info", "Two-factor sign-in is already set up.")
            return self.web.redirect(request, ACCOUNT_PAGE, flash=flash)
        return self._setup(request, signed_in, enrolment, next_url)

    async def setup(self, request: Request) -> Response:
        form = await self.web.form(request)
        next_url = safe_next(form.get("next"))
        signed_in = await self.web.signed_in(request)
        if signed_in is None:
            return self.web.redirect(request, login_url("/auth/2fa/setup"))
        if not self.web.csrf.session_valid(request, form, signed_in):
            return self.web.forbidden(request)
        if signed_in.stage is SessionStage.CHALLENGE:
            return self.web.redirect(request, stage_page(signed_in.stage, next_url))
        code = form.get("code", "")[:64]
        origin = self.web.origin(request)
        try:
            enrolled = await run_in_threadpool(
                auth_totp.confirm_totp_enrolment, self.ctx, signed_in, code, origin
            )
        except InvalidInput as error:
            enrolment = await run_in_threadpool(auth_totp.start_totp_enrolment, self.ctx, signed_in)
            return self._setup(
                request, signed_in, enrolment, next_url, status=400, error=error.message
            )
        except Conflict:
            return self.web.redirect(request, "/auth/2fa/setup")
        response = self.web.render(
            request,
            "recovery_codes.html",
            signed_in=signed_in if enrolled.session is None else None,
            codes=enrolled.recovery_codes,
            heading="Two-factor sign-in is on",
            next=next_url,
        )
        if enrolled.session is not None:
            self.web.cookies.set_session(response, request, enrolled.session)
        return response

    async def new_recovery_codes(self, request: Request) -> Response:
        form = await self.web.form(request)
        signed_in = await self.web.signed_in(request)
        if signed_in is None or signed_in.stage is not SessionStage.COMPLETE:
            return self.web.redirect(request, login_url(ACCOUNT_PAGE))
        if not self.web.csrf.session_valid(request, form, signed_in):
            return self.web.forbidden(request)
        origin = self.web.origin(request)
        try:
            codes = await run_in_threadpool(
                auth_totp.regenerate_recovery_codes,
                self.ctx,
                signed_in,
                form.get("code", "")[:64],
                origin,
            )
        except DomainError as error:
            return await self._account(
                request, signed_in, status=http_status(error), error=error.message
            )
        return self.web.render(
            request,
            "recovery_codes.html",
            signed_in=signed_in,
            codes=codes,
            heading="New recovery codes",
            next=ACCOUNT_PAGE,
        )

    async def disable(self, request: Request) -> Response:
        form = await self.web.form(request)
        signed_in = await self.web.signed_in(request)
        if signed_in is None or signed_in.stage is not SessionStage.COMPLETE:
            return self.web.redirect(request, login_url(ACCOUNT_PAGE))
        if not self.web.csrf.session_valid(request, form, signed_in):
            return self.web.forbidden(request)
        origin = self.web.origin(request)
        try:
            await run_in_threadpool(
                auth_totp.disable_totp, self.ctx, signed_in, form.get("code", "")[:64], origin
            )
        except DomainError as error:
            return await self._account(
                request, signed_in, status=http_status(error), error=error.message
            )
        return self.web.redirect(
            request, ACCOUNT_PAGE, flash=Flash("success", "Two-factor sign-in is off.")
        )

    async def _account(
        self, request: Request, signed_in: SignedIn, *, status: int = 200, error: str | None = None
    ) -> Response:
        memberships = await run_in_threadpool(auth_account.my_memberships, self.ctx, signed_in)
        two_factor = await run_in_threadpool(auth_totp.two_factor_status, self.ctx, signed_in)
        return self.web.render(
            request,
            "account.html",
            status=status,
            signed_in=signed_in,
            user=signed_in.user,
            memberships=memberships,
            two_factor=two_factor,
            error=error,
        )

    def _setup(
        self,
        request: Request,
        signed_in: SignedIn,
        enrolment: TotpEnrolment,
        next_url: str,
        *,
        status: int = 200,
        error: str | None = None,
    ) -> Response:
        return self.web.render(
            request,
            "two_factor_setup.html",
            status=status,
            signed_in=signed_in,
            qr=qr_data_uri(enrolment.uri),
            secret=grouped(enrolment.secret),
            required=signed_in.stage is SessionStage.ENROL,
            next=next_url,
            error=error,
        )
