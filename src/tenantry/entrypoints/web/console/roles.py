"""Roles: every role usable in an account, with what it allows and who holds it; and the
account's own (custom) roles, created and deleted by those who manage its settings."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tenantry.domain.errors import DomainError, ErrorCode, Forbidden
from tenantry.domain.roles import AccessLevel, Need
from tenantry.entrypoints.http.errors import http_status
from tenantry.entrypoints.web.console.base import (
    AccountView,
    Console,
    FormState,
    Viewer,
    account_url,
    confirmed,
)
from tenantry.services import roles

FIELDS = ("key", "display_name")
CAPABILITY_FIELD = "cap:{section}:{capability}"
LEVELS = [(level.label, level.label) for level in AccessLevel]
UNRESTRICTED = "unrestricted_scope"


def label(name: str) -> str:
    """How the page names a section or capability key: "api_access" → "API access"."""
    words = ["API" if word == "api" else word for word in name.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def may_edit_roles(here: AccountView) -> bool:
    """Creating and deleting custom roles needs both capabilities the service asks for."""
    return here.may_manage_settings and here.may(Need.MANAGE_ADMINS)


def add_role_pages(router: APIRouter, console: Console) -> None:
    ctx = console.ctx
    sections = ctx.roles.sections

    async def page(
        request: Request,
        viewer: Viewer,
        here: AccountView,
        *,
        form: FormState | None = None,
        refused: tuple[str, str] | None = None,
        status: int = 200,
    ) -> Response:
        held = await console.call(roles.list_roles, ctx, viewer.actor, here.account.id)
        return console.render(
            request,
            viewer,
            "console/roles.html",
            account=here,
            section="roles",
            status=status,
            roles=held,
            sections=sections,
            levels=LEVELS,
            label=label,
            may_edit=may_edit_roles(here),
            form=form or FormState(),
            refused=refused,
        )

    async def roles_page(request: Request, viewer: Viewer) -> Response:
        here = await console.account(viewer, request.path_params["account_id"])
        return await page(request, viewer, here)

    async def create_role(request: Request, viewer: Viewer, form: dict[str, str]) -> Response:
        here = await console.account(viewer, request.path_params["account_id"])
        if not may_edit_roles(here):
            raise Forbidden(ErrorCode.FORBIDDEN)
        key = form.get("key", "").strip()
        capabilities = {
            section: {
                capability: form.get(
                    CAPABILITY_FIELD.format(section=section, capability=capability)
                )
                or AccessLevel.BLOCKED.label
                for capability in capabilities
            }
            for section, capabilities in sections.items()
        }
        try:
            role = await console.call(
                roles.create_custom_role,
                ctx,
                viewer.actor,
                here.account.id,
                key=key,
                display_name=form.get("display_name", ""),
                capabilities=capabilities,
                unrestricted_scope=form.get(UNRESTRICTED) == "yes",
            )
        except DomainError as error:
            failed = FormState.failed(form, error, FIELDS)
            return await page(request, viewer, here, form=failed, status=http_status(error))
        return console.done(
            request,
            account_url(here.account.id, "roles") + f"#role-{role.key}",
            f"The role {role.display_name} was created.",
        )

    async def delete_role(request: Request, viewer: Viewer, form: dict[str, str]) -> Response:
        here = await console.account(viewer, request.path_params["account_id"])
        if not may_edit_roles(here):
            raise Forbidden(ErrorCode.FORBIDDEN)
        key = request.path_params["key"]
        back = account_url(here.account.id, "roles")
        if not confirmed(form):
            return console.confirm(
                request,
                viewer,
                account=here,
                section="roles",
                title="Delete role",
                message=f"Delete the custom role {key}? This can't be undone.",
                button="Delete role",
                fields=form,
                cancel_url=back,
            )
        try:
            await console.call(roles.delete_custom_role, ctx, viewer.actor, here.account.id, key)
        except DomainError as error:
            return await page(
                request, viewer, here, refused=(key, error.message), status=http_status(error)
            )
        return console.done(request, back, f"The role {key} was deleted.")

    base = "/hub/accounts/{account_id}/roles"
    router.get(base)(console.page(roles_page))
    router.post(base)(console.action(create_role))
    router.post(base + "/{key}/delete")(console.action(delete_role))
