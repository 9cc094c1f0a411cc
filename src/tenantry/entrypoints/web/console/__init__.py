"""The console at `/hub/`: the pages people use to manage accounts, users, roles, invitations,
API access, usage and the audit trail, over the same services as every other face.

Each module adds the pages of one part, their handlers the methods of a `base.ConsolePages`;
`base.Console` is what they stand on. (`/hub/graphql/` belongs to the GraphQL face; no console
page lives under it.)
"""

from __future__ import annotations

from fastapi import APIRouter

from tenantry.entrypoints.web.console.accounts import add_account_pages
from tenantry.entrypoints.web.console.apps import add_app_pages
from tenantry.entrypoints.web.console.audit import add_audit_pages
from tenantry.entrypoints.web.console.base import Console
from tenantry.entrypoints.web.console.bulk import add_bulk_pages
from tenantry.entrypoints.web.console.credentials import add_credential_pages
from tenantry.entrypoints.web.console.invitations import add_invitation_pages
from tenantry.entrypoints.web.console.roles import add_role_pages
from tenantry.entrypoints.web.console.settings import add_settings_pages
from tenantry.entrypoints.web.console.sso import add_sso_pages
from tenantry.entrypoints.web.console.usage import add_usage_pages
from tenantry.entrypoints.web.console.users import add_user_pages
from tenantry.entrypoints.web.console.webhooks import add_webhook_pages
from tenantry.entrypoints.web.pages import Web


def add_console_pages(router: APIRouter, web: Web) -> None:
    console = Console(web)
    for add in (
        add_account_pages,
        add_user_pages,
        add_invitation_pages,
        add_bulk_pages,
        add_role_pages,
        add_app_pages,
        add_credential_pages,
        add_usage_pages,
        add_audit_pages,
        add_settings_pages,
        add_webhook_pages,
        add_sso_pages,
    ):
        add(router, console)
