"""`/auth/verify/?token=…&et=inv&email=…`: the invitation link CAPIG documents.

Opening the link only reads the invitation; the form on the page accepts it (setting the
password where one is needed) and signs the person in. An address that already has a login
accepts only while signed in as it: the page then asks to sign in (and back here), or to ask
for a password reset by mail.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tenantry.domain.auth import SessionStage
from tenantry.domain.errors import Conflict, ErrorCode, Forbidden, InvalidInput
from tenantry.entrypoints.web.pages import HOME, Flash, Pages, Web, stage_page
from tenantry.entrypoints.web.resets import PASSWORD_RULES
from tenantry.entrypoints.web.sign_in import MAX_PASSWORD_CHARS, login_url
from tenantry.services import auth, invitations
from tenantry.services.auth import IssuedSession, SignedIn
from tenantry.services.invitations import InvitationCheck

INVITATION = "inv"
MAX_TOKEN_CHARS = 200


def add_invitation_pages(router: APIRouter, web: Web) -> None:
    pages = InvitationPages(web)
    router.get("/auth/verify/")(pages.verify_page)
    router.get("/auth/verify")(pages.verify_page)
    router.post("/auth/verify/decline")(pages.decline)
    router.post("/auth/verify/")(pages.accept)
    router.post("/auth/verify")(pages.accept)


class InvitationPages(Pages):
    async def verify_page(self, request: Request) -> Response:
        params = request.query_params
        link = _link(params.get("token", ""), params.get("email", ""), params.get("et", ""))
        if link is None:
            return self._invalid(request, invitations.INVALID_LINK, 400)
        try:
            check = await run_in_threadpool(invitations.check_invitation, self.ctx, *link)
        except InvalidInput as error:
            return self._refused(request, error)
        return self._form(request, check, *link, viewer=await self._viewer(request))

    async def decline(self, request: Request) -> Response:
        _, link = await self._posted_link(request)
        if isinstance(link, Response):
            return link
        try:
            await run_in_threadpool(invitations.decline_invitation, self.ctx, *link)
        except InvalidInput as error:
            return self._refused(request, error)
        return self.web.render(
            request,
            "message.html",
            title="Invitation declined",
            message="You declined the invitation. Nothing was added to your login.",
            link=("/auth/login", "Go to the sign-in page"),
        )

    async def accept(self, request: Request) -> Response:
        form, link = await self._posted_link(request)
        if isinstance(link, Response):
            return link
        token, email = link
        password = form.get("password")
        viewer = await self._viewer(request)
        try:
            issued = await run_in_threadpool(
                functools.partial(
                    auth.accept_invitation_and_sign_in,
                    signed_in_user_id=viewer.user.id if viewer else None,
                ),
                self.ctx,
                token,
                email,
                password[:MAX_PASSWORD_CHARS] if password is not None else None,
                self.web.origin(request),
            )
        except (Forbidden, Conflict) as refused:
            check = await run_in_threadpool(invitations.check_invitation, self.ctx, token, email)
            status = 403 if isinstance(refused, Forbidden) else 409
            return self._form(request, check, token, email, status=status, error=refused.message)
        except InvalidInput as error:
            if error.code is not ErrorCode.WEAK_PASSWORD:
                return self._refused(request, error)
            try:
                check = await run_in_threadpool(
                    invitations.check_invitation, self.ctx, token, email
                )
            except InvalidInput as gone:
                return self._invalid(request, gone.message, 410)
            return self._form(
                request, check, token, email, status=400, error=error.message, viewer=viewer
            )
        return self._accepted(request, viewer, issued)

    def _accepted(
        self, request: Request, viewer: SignedIn | None, issued: IssuedSession | None
    ) -> Response:
        """Where accepting leads: back to the console for someone signed in already, signed in
        for someone the invitation gave a login, else to the sign-in page."""
        if viewer is not None and issued is None:
            flash = Flash("success", "The invitation is accepted.")
            return self.web.redirect(request, HOME, flash=flash)
        if issued is not None:
            flash = Flash("success", "Welcome! Your invitation is accepted.")
            response = self.web.redirect(request, stage_page(issued.stage, HOME), flash=flash)
            self.web.cookies.set_session(response, request, issued)
            return response
        return self.web.render(
            request,
            "message.html",
            title="Your invitation is accepted",
            message=(
                "You can now use the accounts you were invited to. Sign in the way you usually do."
            ),
            link=("/auth/login", "Go to the sign-in page"),
        )

    def _form(
        self,
        request: Request,
        check: InvitationCheck,
        token: str,
        email: str,
        *,
        status: int = 200,
        error: str | None = None,
        viewer: SignedIn | None = None,
    ) -> Response:
        here = f"/auth/verify/?{urlencode({'token': token, 'et': INVITATION, 'email': email})}"
        context: dict[str, Any] = {
            "invitation": check,
            "token": token,
            "email": email,
            "et": INVITATION,
            "rules": PASSWORD_RULES,
            "error": error,
            "viewer_email": viewer.user.email if viewer else None,
            "signed_in_as_invited": viewer is not None and viewer.user.email == check.email,
            "sign_in_url": login_url(here),
        }
        return self.web.render(request, "verify.html", status=status, **context)

    async def _posted_link(
        self, request: Request
    ) -> tuple[dict[str, str], tuple[str, str] | Response]:
        """A posted form and the link it carries, or the answer that refuses it (a form
        without its CSRF token, or no link of the documented shape)."""
        form = await self.web.form(request)
        if not self.web.csrf.pre_session_valid(request, form):
            return form, self.web.forbidden(request)
        link = _link(form.get("token", ""), form.get("email", ""), form.get("et", ""))
        if link is None:
            return form, self._invalid(request, invitations.INVALID_LINK, 400)
        return form, link

    async def _viewer(self, request: Request) -> SignedIn | None:
        """The person signed in (second factor done), who may accept as themselves."""
        signed_in = await self.web.signed_in(request)
        return signed_in if signed_in and signed_in.stage is SessionStage.COMPLETE else None

    def _refused(self, request: Request, error: InvalidInput) -> Response:
        """A link the core refused: gone (410) when the invitation is no longer pending."""
        return self._invalid(request, error.message, 410 if "status" in error.details else 400)

    def _invalid(self, request: Request, message: str, status: int) -> Response:
        return self.web.render(
            request,
            "message.html",
            status=status,
            title="This invitation link does not work",
            message=message,
            link=("/auth/login", "Go to the sign-in page"),
        )


def _link(token: str, email: str, kind: str) -> tuple[str, str] | None:
    """(token, e-mail) of a link of the documented shape; None for anything else."""
    if kind != INVITATION or not token or len(token) > MAX_TOKEN_CHARS or not email:
        return None
    return token, email[:254]
