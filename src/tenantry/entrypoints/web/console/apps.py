"""Apps: the account's app catalogue, which users' access can be limited to; added and removed
by those who manage the account's settings."""

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
from tenantry.services import accounts

FIELDS = ("app_id", "name")


def add_app_pages(router: APIRouter, console: Console) -> None:
    pages = AppPages(console)
    base = "/hub/accounts/{account_id}/apps"
    router.get(base)(console.page(pages.apps_page))
    router.post(base)(console.action(pages.add_app))
    # An app id may hold a "/" (only spaces and commas are refused).
    router.post(base + "/{app_id:path}/remove")(console.action(pages.remove_app))


class AppPages(ConsolePages):
    section = "apps"

    async def apps_page(self, request: Request, viewer: Viewer) -> Response:
        here = await self.account(request, viewer)
        return await self._page(request, viewer, here)

    async def add_app(self, request: Request, viewer: Viewer, form: dict[str, str]) -> Response:
        here = await self.account(request, viewer, Need.MANAGE_SETTINGS)
        app_id = form.get("app_id", "").strip()
        try:
            await self.console.call(
                accounts.add_app,
                self.ctx,
                viewer.actor,
                here.account.id,
                app_id,
                form.get("name", ""),
            )
        except DomainError as error:
            failed = FormState.failed(form, error, FIELDS)
            return await self._page(request, viewer, here, form=failed, status=http_status(error))
        return self.console.done(
            request, account_url(here.account.id, "apps"), f"The app {app_id} was added."
        )

    async def remove_app(self, request: Request, viewer: Viewer, form: dict[str, str]) -> Response:
        here = await self.account(request, viewer, Need.MANAGE_SETTINGS)
        app_id = request.path_params["app_id"]
        back = account_url(here.account.id, "apps")
        if not confirmed(form):
            return self.confirm(
                request,
                viewer,
                here,
                form,
                title="Remove app",
                message=f"Remove the app {app_id} from this account's catalogue?",
                button="Remove",
                cancel_url=back,
            )
        try:
            await self.console.call(
                accounts.remove_app, self.ctx, viewer.actor, here.account.id, app_id
            )
        except DomainError as error:
            return await self._page(
                request, viewer, here, refused=(app_id, error.message), status=http_status(error)
            )
        return self.console.done(request, back, f"The app {app_id} was removed.")

    async def _page(
        self,
        request: Request,
        viewer: Viewer,
        here: AccountView,
        *,
        form: FormState | None = None,
        refused: tuple[str, str] | None = None,
        status: int = 200,
    ) -> Response:
        apps = await self.console.call(accounts.list_apps, self.ctx, viewer.actor, here.account.id)
        return self.console.render(
            request,
            viewer,
            "console/apps.html",
            account=here,
            section=self.section,
            status=status,
            apps=sorted(apps.items()),
            form=form or FormState(),
            refused=refused,
        )
