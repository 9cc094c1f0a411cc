"""Signing in through an identity provider: the address step's way on (to the provider, or to
the password step), and `/auth/sso/callback`, where the provider sends the browser back.

The sign-in under way is kept server-side (`services.sso`); this browser holds the secret that
binds it, in a short-lived cookie only sent back to the callback, so an answer carried into
another browser signs nobody in there.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tenantry.domain.errors import NotFound, Unauthenticated
from tenantry.domain.sso import SIGN_IN_LIFETIME
from tenantry.entrypoints.web.pages import HOME, Pages, stage_page
from tenantry.services import sso

BINDING_COOKIE = "tenantry_sso"
_BINDING_PATH = "/auth/sso"


class SingleSignOnPages(Pages):
    def route(self, router: APIRouter) -> None:
        router.get(sso.CALLBACK_PATH)(self.callback)

    async def address_step(self, request: Request, email: str, next_url: str) -> Response:
        """To the identity provider that signs in this address, or on to the password step.
        Unknown addresses get the password step, as people who use a password do."""
        account_id = await run_in_threadpool(sso.route, self.ctx, email)
        if account_id is None:
            return self.web.render(
                request, "login_password.html", next=next_url, home=HOME, email=email, error=None
            )
        try:
            started = await run_in_threadpool(
                sso.start_sign_in, self.ctx, account_id, email, next_url
            )
        except (Unauthenticated, NotFound) as error:
            return self.web.render(
                request,
                "login.html",
                status=503,
                next=next_url,
                home=HOME,
                email=email,
                error=error.message,
            )
        # A page that moves on by itself, rather than a redirect: browsers hold a form's
        # redirect to the form's own policy (`form-action 'self'`).
        response = self.web.render(request, "sso_continue.html", url=started.url)
        response.set_cookie(
            BINDING_COOKIE,
            started.binding,
            max_age=int(SIGN_IN_LIFETIME.total_seconds()),
            path=_BINDING_PATH,
            secure=self.web.cookies.secure(request),
            httponly=True,
            # Lax: the provider's redirect back is a top-level navigation from its site.
            samesite="lax",
        )
        return response

    async def callback(self, request: Request) -> Response:
        params = request.query_params
        answer = sso.ProviderAnswer(
            state=params.get("state", "")[:256],
            code=params.get("code", "")[:2048],
            error=params.get("error", "")[:256],
            binding=request.cookies.get(BINDING_COOKIE, "")[:256],
        )
        try:
            finished = await run_in_threadpool(
                sso.finish_sign_in, self.ctx, answer, self.web.origin(request)
            )
        except Unauthenticated as error:
            response: Response = self.web.render(
                request,
                "message.html",
                status=401,
                title="You are not signed in",
                message=error.message,
                link=("/auth/login", "Go to the sign-in page"),
            )
        else:
            target = stage_page(finished.issued.stage, finished.next_url)
            response = self.web.redirect(request, target)
            self.web.cookies.set_session(response, request, finished.issued)
        response.delete_cookie(BINDING_COOKIE, path=_BINDING_PATH, httponly=True, samesite="lax")
        return response
