"""Settings: where the API reference lives (the GraphQL explorers and the REST faces'
documentation pages), and the person's own sign-in settings; and an account's settings page,
where its security policy is read and, by those who manage its settings, changed."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tenantry.domain.account_policy import PolicyChanges
from tenantry.domain.accounts import Account, SsoMode
from tenantry.domain.errors import DomainError, ErrorCode, InvalidInput
from tenantry.domain.roles import Need
from tenantry.entrypoints.http.errors import http_status
from tenantry.entrypoints.web.console.base import (
    AccountView,
    Console,
    ConsolePages,
    FormState,
    Viewer,
    account_url,
)
from tenantry.services import account_policy, outbox
from tenantry.services.account_policy import PolicyUpdate

POLICY_FIELDS = (
    "multi_account_users",
    "two_factor_required",
    "sso",
    "invitation_days",
    "allowed_email_domains",
    "session_minutes",
)
FLASH_ADDRESSES = 3
"""Addresses a flash names for each kind of affected member (it says how many there are)."""
FLASH_CHARS = 1500  # a flash travels in a cookie


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
    router.get("/hub/accounts/{account_id}/settings")(console.page(pages.account_settings_page))
    router.post("/hub/accounts/{account_id}/settings")(console.action(pages.change_policy))


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

    async def account_settings_page(self, request: Request, viewer: Viewer) -> Response:
        here = await self.account(request, viewer)
        return self._account_page(request, viewer, here, policy_form(here.account))

    async def change_policy(
        self, request: Request, viewer: Viewer, form: dict[str, str]
    ) -> Response:
        here = await self.account(request, viewer, Need.MANAGE_SETTINGS)
        try:
            update = await self.console.call(
                account_policy.update_account_policy,
                self.ctx,
                viewer.actor,
                here.account.id,
                parse_policy_form(form),
            )
        except DomainError as error:
            failed = FormState.failed(form, error, POLICY_FIELDS)
            return self._account_page(request, viewer, here, failed, status=http_status(error))
        url = account_url(here.account.id, "settings")
        return self.console.done(request, url, policy_flash(update))

    def _account_page(
        self,
        request: Request,
        viewer: Viewer,
        here: AccountView,
        form: FormState,
        *,
        status: int = 200,
    ) -> Response:
        return self.console.render(
            request,
            viewer,
            "console/account_settings.html",
            account=here,
            section="account-settings",
            status=status,
            form=form,
            sso_modes=[(m.value, m.value.capitalize()) for m in SsoMode],
        )


def policy_form(account: Account) -> FormState:
    """The policy form filled in with the account's settings."""
    yes_no = {True: "yes", False: "no"}
    return FormState(
        {
            "multi_account_users": yes_no[account.multi_account_users],
            "two_factor_required": yes_no[account.two_factor_required],
            "sso": account.sso_mode.value,
            "invitation_days": str(account.invitation_ttl_days or ""),
            "allowed_email_domains": ", ".join(account.allowed_email_domains),
            "session_minutes": str(account.session_lifetime_minutes or ""),
        }
    )


def parse_policy_form(form: dict[str, str]) -> PolicyChanges:
    """The form's fields as changes: every setting as the form shows it (a blank lifetime is
    the deployment's default, blank domains allow any)."""
    try:
        sso = SsoMode(form.get("sso", ""))
    except ValueError:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT, "Choose a single sign-on mode.", field="sso"
        ) from None
    return PolicyChanges(
        multi_account_users=_yes(form, "multi_account_users"),
        two_factor_required=_yes(form, "two_factor_required"),
        sso_mode=sso,
        invitation_ttl_days=_number(form, "invitation_days"),
        allowed_email_domains=form.get("allowed_email_domains", "").replace("\n", ",").split(","),
        session_lifetime_minutes=_number(form, "session_minutes"),
    )


def _yes(form: dict[str, str], name: str) -> bool:
    if form.get(name) not in ("yes", "no"):
        raise InvalidInput(ErrorCode.INVALID_INPUT, "Choose yes or no.", field=name)
    return form[name] == "yes"


def _number(form: dict[str, str], name: str) -> int | None:
    text = form.get(name, "").strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit():
        raise InvalidInput(
            ErrorCode.INVALID_INPUT, "Give a whole number, or leave it empty.", field=name
        )
    return int(text)


def policy_flash(update: PolicyUpdate) -> str:
    """What the change did, in a sentence per kind of affected member."""
    parts = ["The security policy was saved."]
    for affected in update.affected:
        shown = [m.email for m in affected.members[:FLASH_ADDRESSES]]
        more = affected.total - len(shown)
        names = ", ".join(shown) + (f" and {more} more" if more else "")
        noun = "member" if affected.total == 1 else "members"
        parts.append(f"{affected.total} {noun} ({names}): {affected.consequence}")
    if update.sessions_shortened:
        parts.append(f"{update.sessions_shortened} console sessions of members end sooner now.")
    text = " ".join(parts)
    return text if len(text) <= FLASH_CHARS else text[: FLASH_CHARS - 1] + "…"
