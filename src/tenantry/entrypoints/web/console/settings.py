"""Settings: where the API reference lives (the GraphQL explorers and the REST faces'
documentation pages), and the person's own sign-in settings."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tenantry.entrypoints.web.console.base import Console, ConsolePages, Viewer
from tenantry.services import outbox


@dataclass(frozen=True, slots=True)
class Reference:
    title: str
    url: str
    what: str


def api_references(base_url: str) -> list[Reference]:
    """The API reference links of Settings, as absolute URLs of this deployment."""
    base = base_url.rstrip("/")
    return [
        Reference(
            "GraphQL control plane",
            f"{base}/hub/graphql/",
            "Accounts (tenants), users, roles, invitations and data routing; opens an explorer.",
        ),
        Reference(
            "GraphQL gateway",
            f"{base}/capig/graphql/",
            "Pixels (signal configs), filters and event metrics; opens an explorer.",
        ),
        Reference(
            "User management REST API",
            f"{base}/api/user-management/v1.0/docs",
            "Bulk add, list and delete users, and read roles, with an account's API token "
            "(the OpenAPI document is openapi.json beside the page).",
        ),
        Reference(
            "Network integration REST API",
            f"{base}/api/network-integration/docs",
            "Advertisers, their users and network users, for a network's integration (the "
            "OpenAPI document is openapi.json beside the page).",
        ),
        Reference(
            "SCIM 2.0 (discovery)",
            f"{base}/scim/v2/ServiceProviderConfig",
            "Provisioning from an identity provider; needs an account's API token.",
        ),
        Reference(
            "Access tokens",
            f"{base}/clients/token",
            "Exchange an API account's client id and secret for a bearer token.",
        ),
    ]


def add_settings_pages(router: APIRouter, console: Console) -> None:
    pages = SettingsPages(console)
    router.get("/hub/settings")(console.page(pages.settings_page))


class SettingsPages(ConsolePages):
    section = "settings"

    async def settings_page(self, request: Request, viewer: Viewer) -> Response:
        mail = await self.console.call(outbox.delivery_status, self.ctx, viewer.actor)
        return self.console.render(
            request,
            viewer,
            "console/settings.html",
            section=self.section,
            references=api_references(self.ctx.settings.base_url),
            mail=mail,
        )
