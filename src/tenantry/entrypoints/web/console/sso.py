"""Single sign-on: an account's identity provider (OpenID Connect), set and removed by those
who manage its settings. The client secret is never shown; left empty on a change, it is kept."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tenantry.domain.errors import DomainError
from tenantry.domain.roles import Need
from tenantry.entrypoints.http.errors import http_status
from tenantry.entrypoints.web.console.base import (
    AccountView,
    Console,
    ConsolePages,
    FormState,
    Viewer,
    account_url,
    confirmed,
)
from tenantry.services import sso_config
from tenantry.services.sso_config import ProviderSettings, ProviderView

# The core names fields as the API does; the form's names, by the core's.
FIELDS = {
    "issuer": "issuer",
    "clientId": "client_id",
    "clientSecret": "client_secret",
    "domains": "domains",
    "scopes": "scopes",
    "jitRole": "jit_role",
}


def add_sso_pages(router: APIRouter, console: Console) -> None:
    pages = SingleSignOnPages(console)
    base = "/hub/accounts/{account_id}/sso"
    router.get(base)(console.page(pages.sso_page))
    router.post(base)(console.action(pages.set_provider))
    router.post(base + "/remove")(console.action(pages.remove_provider))


def _form_of(view: ProviderView | None) -> FormState:
    if view is None:
        return FormState({"require_verified_email": "yes", "scopes": "openid email profile"})
    return FormState(
        {
            "issuer": view.issuer,
            "client_id": view.client_id,
            "domains": ", ".join(view.domains),
            "scopes": " ".join(view.scopes),
            "jit_role": view.jit_role_key or "",
            "require_verified_email": "yes" if view.require_verified_email else "",
        }
    )


class SingleSignOnPages(ConsolePages):
    section = "sso"

    async def sso_page(self, request: Request, viewer: Viewer) -> Response:
        here = await self.account(request, viewer, Need.MANAGE_SETTINGS)
        return await self._page(request, viewer, here)

    async def set_provider(
        self, request: Request, viewer: Viewer, form: dict[str, str]
    ) -> Response:
        here = await self.account(request, viewer, Need.MANAGE_SETTINGS)
        wanted = ProviderSettings(
            issuer=form.get("issuer", ""),
            client_id=form.get("client_id", ""),
            client_secret=form.get("client_secret") or None,
            domains=form.get("domains", "").replace(",", " ").split(),
            scopes=form.get("scopes", "").replace(",", " ").split() or None,
            jit_role_key=form.get("jit_role") or None,
            require_verified_email=form.get("require_verified_email") == "yes",
        )
        try:
            await self.console.call(
                sso_config.set_identity_provider, self.ctx, viewer.actor, here.account.id, wanted
            )
        except DomainError as error:
            shown = {k: v for k, v in form.items() if k != "client_secret"}
            failed = FormState.failed(shown, error, FIELDS)
            if error.field in FIELDS:
                failed.errors[FIELDS[error.field]] = failed.errors.pop(error.field)
            return await self._page(request, viewer, here, form=failed, status=http_status(error))
        return self.console.done(
            request, account_url(here.account.id, "sso"), "The identity provider was saved."
        )

    async def remove_provider(
        self, request: Request, viewer: Viewer, form: dict[str, str]
    ) -> Response:
        here = await self.account(request, viewer, Need.MANAGE_SETTINGS)
        back = account_url(here.account.id, "sso")
        if not confirmed(form):
            return self.confirm(
                request,
                viewer,
                here,
                form,
                title="Remove the identity provider",
                message="Its domains will sign in with passwords again. Remove it?",
                button="Remove",
                cancel_url=back,
            )
        await self.console.call(
            sso_config.remove_identity_provider, self.ctx, viewer.actor, here.account.id
        )
        return self.console.done(request, back, "The identity provider was removed.")

    async def _page(
        self,
        request: Request,
        viewer: Viewer,
        here: AccountView,
        *,
        form: FormState | None = None,
        status: int = 200,
    ) -> Response:
        view, roles = await self.console.call(
            sso_config.identity_provider_form, self.ctx, viewer.actor, here.account.id
        )
        return self.console.render(
            request,
            viewer,
            "console/sso.html",
            account=here,
            section=self.section,
            status=status,
            provider=view,
            form=form or _form_of(view),
            role_options=[("", "None: they are refused")]
            + [(role.key, role.display_name) for role in roles],
            callback=self.ctx.settings.base_url.rstrip("/") + "/auth/sso/callback",
        )
