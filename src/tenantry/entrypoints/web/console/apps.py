"""Apps: the account's app catalogue, which users' access can be limited to; added and removed
by those who manage the account's settings."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tenantry.domain.errors import DomainError, ErrorCode, Forbidden
from tenantry.entrypoints.http.errors import http_status
from tenantry.entrypoints.web.console.base import (
    AccountView,
    Console,
    FormState,
    Viewer,
    account_url,
    confirmed,
)
from tenantry.services import accounts

FIELDS = ("app_id", "name")


def add_app_pages(router: APIRouter, console: Console) -> None:
    ctx = console.ctx

    async def page(
        request: Request,
        viewer: Viewer,
        here: AccountView,
        *,
        form: FormState | None = None,
        refused: tuple[str, str] | None = None,
        status: int = 200,
    ) -> Response:
        apps = await console.call(accounts.list_apps, ctx, viewer.actor, here.account.id)
        return console.render(
            request,
            viewer,
            "console/apps.html",
            account=here,
            section="apps",
            status=status,
            apps=sorted(apps.items()),
            form=form or FormState(),
            refused=refused,
        )

    async def apps_page(request: Request, viewer: Viewer) -> Response:
        here = await console.account(viewer, request.path_params["account_id"])
        return await page(request, viewer, here)

    async def add_app(request: Request, viewer: Viewer, form: dict[str, str]) -> Response:
        here = await console.account(viewer, request.path_params["account_id"])
        if not here.may_manage_settings:
            raise Forbidden(ErrorCode.FORBIDDEN)
        app_id = form.get("app_id", "").strip()
        try:
            await console.call(
                accounts.add_app, ctx, viewer.actor, here.account.id, app_id, form.get("name", "")
            )
        except DomainError as error:
            failed = FormState.failed(form, error, FIELDS)
            return await page(request, viewer, here, form=failed, status=http_status(error))
        return console.done(
            request, account_url(here.account.id, "apps"), f"The app {app_id} was added."
        )

    async def remove_app(request: Request, viewer: Viewer, form: dict[str, str]) -> Response:
        here = await console.account(viewer, request.path_params["account_id"])
        if not here.may_manage_settings:
            raise Forbidden(ErrorCode.FORBIDDEN)
        app_id = request.path_params["app_id"]
        back = account_url(here.account.id, "apps")
        if not confirmed(form):
            return console.confirm(
                request,
                viewer,
                account=here,
                section="apps",
                title="Remove app",
                message=f"Remove the app {app_id} from this account's catalogue?",
                button="Remove",
                fields=form,
                cancel_url=back,
            )
        try:
            await console.call(accounts.remove_app, ctx, viewer.actor, here.account.id, app_id)
        except DomainError as error:
            return await page(
                request, viewer, here, refused=(app_id, error.message), status=http_status(error)
            )
        return console.done(request, back, f"The app {app_id} was removed.")

    base = "/hub/accounts/{account_id}/apps"
    router.get(base)(console.page(apps_page))
    router.post(base)(console.action(add_app))
    # An app id may hold a "/" (only spaces and commas are refused).
    router.post(base + "/{app_id:path}/remove")(console.action(remove_app))
