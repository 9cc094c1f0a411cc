"""Roles: every role usable in an account, with what it allows and who holds it; and the
account's own (custom) roles, created and deleted by those who manage its settings."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tenantry.domain.errors import DomainError
from tenantry.domain.roles import AccessLevel, Need
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


EDITING_ROLES = (Need.MANAGE_SETTINGS, Need.MANAGE_ADMINS)
"""What creating and deleting custom roles needs: both capabilities the service asks for."""


def may_edit_roles(here: AccountView) -> bool:
    return all(here.may(need) for need in EDITING_ROLES)


def add_role_pages(router: APIRouter, console: Console) -> None:
    pages = RolePages(console)
    base = "/hub/accounts/{account_id}/roles"
    router.get(base)(console.page(pages.roles_page))
    router.post(base)(console.action(pages.create_role))
    router.post(base + "/{key}/delete")(console.action(pages.delete_role))


class RolePages(ConsolePages):
    section = "roles"

    async def roles_page(self, request: Request, viewer: Viewer) -> Response:
        here = await self.account(request, viewer)
        return await self._page(request, viewer, here)

    async def create_role(self, request: Request, viewer: Viewer, form: dict[str, str]) -> Response:
        here = await self.account(request, viewer, *EDITING_ROLES)
        key = form.get("key", "").strip()
        try:
            role = await self.console.call(
                roles.create_custom_role,
                self.ctx,
                viewer.actor,
                here.account.id,
                key=key,
                display_name=form.get("display_name", ""),
                capabilities=self._capabilities(form),
                unrestricted_scope=form.get(UNRESTRICTED) == "yes",
            )
        except DomainError as error:
            failed = FormState.failed(form, error, FIELDS)
            return await self._page(request, viewer, here, form=failed, status=http_status(error))
        return self.console.done(
            request,
            account_url(here.account.id, "roles") + f"#role-{role.key}",
            f"The role {role.display_name} was created.",
        )

    async def delete_role(self, request: Request, viewer: Viewer, form: dict[str, str]) -> Response:
        here = await self.account(request, viewer, *EDITING_ROLES)
        key = request.path_params["key"]
        back = account_url(here.account.id, "roles")
        if not confirmed(form):
            return self.confirm(
                request,
                viewer,
                here,
                form,
                title="Delete role",
                message=f"Delete the custom role {key}? This can't be undone.",
                button="Delete role",
                cancel_url=back,
            )
        try:
            await self.console.call(
                roles.delete_custom_role, self.ctx, viewer.actor, here.account.id, key
            )
        except DomainError as error:
            return await self._page(
                request, viewer, here, refused=(key, error.message), status=http_status(error)
            )
        return self.console.done(request, back, f"The role {key} was deleted.")

    def _capabilities(self, form: dict[str, str]) -> dict[str, dict[str, str]]:
        """The level chosen for each capability of the catalogue; blocked where none was."""
        return {
            section: {
                capability: form.get(
                    CAPABILITY_FIELD.format(section=section, capability=capability)
                )
                or AccessLevel.BLOCKED.label
                for capability in capabilities
            }
            for section, capabilities in self.ctx.roles.sections.items()
        }

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
        held = await self.console.call(roles.list_roles, self.ctx, viewer.actor, here.account.id)
        return self.console.render(
            request,
            viewer,
            "console/roles.html",
            account=here,
            section=self.section,
            status=status,
            roles=held,
            sections=self.ctx.roles.sections,
            levels=LEVELS,
            label=label,
            may_edit=may_edit_roles(here),
            form=form or FormState(),
            refused=refused,
        )
