"""API access: an account's API accounts (client credentials) and API tokens.

Secrets are shown once, on the page that answers the creating form, and never in a listing.
Only people who manage the account's API access get these pages; the services refuse the others.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tenantry.domain.errors import DomainError, ErrorCode, InvalidInput, NotFound
from tenantry.domain.roles import Role
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
from tenantry.services import credentials, member_browsing
from tenantry.services.policy import may_grant

SECTION = "api"
ACCOUNT_FIELDS = ("client_id", "role")
TOKEN_FIELDS = ("name", "user_email", "role", "expires_days")
MAX_EXPIRES_DAYS = 3650


def expires_in_days(value: str) -> timedelta | None:
    """The lifetime typed in the token form: None (never expires) when left empty."""
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= MAX_EXPIRES_DAYS:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            f"Enter a whole number of days from 1 to {MAX_EXPIRES_DAYS}, or leave it empty.",
            field="expires_days",
        )
    return timedelta(days=int(value))


def credential_roles(roles: list[Role], here: AccountView) -> list[Role]:
    """The roles a credential made by the viewer may have: none above the viewer's own, admin
    or not (the core refuses the others; offering them would only lead to a refusal)."""
    mine = here.role
    return [] if mine is None else [role for role in roles if may_grant(mine, role)]


def role_options(roles: list[Role], here: AccountView, default: str) -> list[tuple[str, str]]:
    """The role select's choices: first the default (sent as no role, so the core picks it),
    then the roles the viewer may give."""
    return [("", default), *((r.key, r.display_name) for r in credential_roles(roles, here))]


def role_names(roles: list[Role]) -> dict[str, str]:
    return {role.key: role.display_name for role in roles}


def token_form_failed(form: dict[str, str], error: DomainError) -> FormState:
    # The service names the token's user "user"; the form calls that field `user_email`.
    state = FormState.failed(form, error, fields=(*TOKEN_FIELDS, "user"))
    if "user" in state.errors:
        state.errors["user_email"] = state.errors.pop("user")
    return state


def add_credential_pages(router: APIRouter, console: Console) -> None:
    pages = CredentialPages(console)
    base = "/hub/accounts/{account_id}/api-access"
    router.get(base)(console.page(pages.api_access_page))
    router.post(f"{base}/accounts")(console.action(pages.create_account))
    router.post(base + "/accounts/{client_id}/revoke")(console.action(pages.revoke_account))
    router.post(f"{base}/tokens")(console.action(pages.create_token))
    router.post(base + "/tokens/{key}/revoke")(console.action(pages.revoke_token))


class CredentialPages(ConsolePages):
    section = SECTION

    async def api_access_page(self, request: Request, viewer: Viewer) -> Response:
        here = await self.account(request, viewer)
        return await self._listing(request, viewer, here)

    async def create_account(
        self, request: Request, viewer: Viewer, form: dict[str, str]
    ) -> Response:
        here = await self.account(request, viewer)
        client_id = form.get("client_id", "").strip()
        try:
            api_account, secret = await self.console.call(
                credentials.create_api_account,
                self.ctx,
                viewer.actor,
                here.account.id,
                client_id,
                role_key=form.get("role", "").strip() or None,
            )
        except DomainError as error:
            state = FormState.failed(form, error, fields=ACCOUNT_FIELDS)
            return await self._listing(
                request, viewer, here, account_form=state, status=http_status(error)
            )
        return self._shown_once(
            request,
            viewer,
            here,
            title="API account created",
            value_label="Client secret",
            secret=secret,
            facts=[("Client id", api_account.client_id), ("Role", api_account.role_key)],
            usage=(
                "Exchange the client id and this secret for a bearer token at /clients/token "
                "(grant type client_credentials)."
            ),
        )

    async def revoke_account(
        self, request: Request, viewer: Viewer, form: dict[str, str]
    ) -> Response:
        here = await self.account(request, viewer)
        client_id = request.path_params["client_id"]
        back = account_url(here.account.id, "api-access")
        if not confirmed(form):
            # The listing is the service's own check that the viewer manages API access.
            found = await self.console.call(
                credentials.list_api_accounts, self.ctx, viewer.actor, here.account.id
            )
            if not any(a.client_id == client_id for a in found):
                raise NotFound(ErrorCode.NOT_FOUND, "No such API account.")
            return self.confirm(
                request,
                viewer,
                here,
                form,
                title=f"Revoke the API account {client_id}?",
                message=(
                    f"Scripts that sign in as {client_id} stop working at once, and its access "
                    "tokens with them. This cannot be undone."
                ),
                button="Revoke",
                cancel_url=back,
            )
        await self.console.call(
            credentials.revoke_api_account, self.ctx, viewer.actor, here.account.id, client_id
        )
        return self.console.done(request, back, f"The API account {client_id} was revoked.")

    async def create_token(
        self, request: Request, viewer: Viewer, form: dict[str, str]
    ) -> Response:
        here = await self.account(request, viewer)
        try:
            lifetime = expires_in_days(form.get("expires_days", ""))
            api_token, token, user = await self.console.call(
                credentials.create_api_token,
                self.ctx,
                viewer.actor,
                here.account.id,
                user_email=form.get("user_email", "").strip() or None,
                name=form.get("name", ""),
                expires_at=None if lifetime is None else self.ctx.now() + lifetime,
                role_key=form.get("role", "").strip() or None,
            )
        except DomainError as error:
            state = token_form_failed(form, error)
            return await self._listing(
                request, viewer, here, token_form=state, status=http_status(error)
            )
        expires = api_token.expires_at
        return self._shown_once(
            request,
            viewer,
            here,
            title="API token created",
            value_label="API token",
            secret=token,
            facts=[
                ("Name", api_token.name),
                ("Acts as", user.email),
                ("Role", api_token.role_key),
                ("Key", api_token.key),
                ("Expires", expires.strftime("%d %b %Y, %H:%M UTC") if expires else "Never"),
            ],
            usage=(
                "Send it in the Authorization header as Bearer <token>; it acts as its user, "
                "with its role at most, in this account only."
            ),
        )

    async def revoke_token(
        self, request: Request, viewer: Viewer, form: dict[str, str]
    ) -> Response:
        here = await self.account(request, viewer)
        key = request.path_params["key"]
        back = account_url(here.account.id, "api-access")
        if not confirmed(form):
            found = await self.console.call(
                credentials.list_api_tokens_with_users, self.ctx, viewer.actor, here.account.id
            )
            listed = next((t for t in found if t.token.key == key), None)
            if listed is None:
                raise NotFound(ErrorCode.NOT_FOUND, "No such API token.")
            who = f" (acting as {listed.user_email})" if listed.user_email else ""
            return self.confirm(
                request,
                viewer,
                here,
                form,
                title=f"Revoke the API token {listed.token.name}?",
                message=(
                    f"Scripts that use this token{who} stop working at once. This cannot be undone."
                ),
                button="Revoke",
                cancel_url=back,
            )
        await self.console.call(
            credentials.revoke_api_token, self.ctx, viewer.actor, here.account.id, key
        )
        return self.console.done(request, back, "The API token was revoked.")

    async def _listing(
        self,
        request: Request,
        viewer: Viewer,
        here: AccountView,
        *,
        account_form: FormState | None = None,
        token_form: FormState | None = None,
        status: int = 200,
    ) -> Response:
        account_id = here.account.id
        api_accounts = await self.console.call(
            credentials.list_api_accounts, self.ctx, viewer.actor, account_id
        )
        tokens = await self.console.call(
            credentials.list_api_tokens_with_users, self.ctx, viewer.actor, account_id
        )
        roles = await self.console.call(
            member_browsing.account_roles, self.ctx, viewer.actor, account_id
        )
        mine = here.role.display_name if here.role is not None else "none"
        return self.console.render(
            request,
            viewer,
            "console/api_access.html",
            account=here,
            section=self.section,
            status=status,
            api_accounts=api_accounts,
            tokens=tokens,
            now=self.ctx.now(),
            account_form=account_form,
            token_form=token_form,
            role_names=role_names(roles),
            account_role_options=role_options(roles, here, f"Your own role ({mine})"),
            token_role_options=role_options(roles, here, "The member's own role"),
            base_url=account_url(account_id, "api-access"),
        )

    def _shown_once(
        self,
        request: Request,
        viewer: Viewer,
        here: AccountView,
        *,
        title: str,
        value_label: str,
        secret: str,
        facts: list[tuple[str, str]],
        usage: str,
    ) -> Response:
        """The page that shows a new secret, the only time it is ever shown."""
        return self.console.render(
            request,
            viewer,
            "console/secret.html",
            account=here,
            section=self.section,
            title=title,
            value_label=value_label,
            secret=secret,
            facts=facts,
            usage=usage,
            back_url=account_url(here.account.id, "api-access"),
        )
