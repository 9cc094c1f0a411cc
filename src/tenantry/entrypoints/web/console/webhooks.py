"""Settings → Webhooks: the accounts whose webhooks the person manages, each account's
endpoints (added here, the signing secret shown once), and each endpoint's delivery log with
"Send again". The services ask the policy on every call; these pages only offer."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tenantry.domain.errors import DomainError, ErrorCode, NotFound
from tenantry.domain.ids import is_account_id
from tenantry.domain.webhooks import EventType, WebhookEndpoint
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
from tenantry.services import auth_account, webhooks
from tenantry.services.webhooks import EndpointChanges

SECTION = "webhooks"
FIELDS = ("url", "event_types", "description", "include_children")
SETTINGS_URL = "/hub/settings/webhooks"


def add_webhook_pages(router: APIRouter, console: Console) -> None:
    pages = WebhookPages(console)
    base = "/hub/accounts/{account_id}/webhooks"
    endpoint = base + "/{endpoint_id}"
    router.get(SETTINGS_URL)(console.page(pages.overview_page))
    router.get(base)(console.page(pages.endpoints_page))
    router.post(base)(console.action(pages.add_endpoint))
    router.get(endpoint)(console.page(pages.endpoint_page))
    router.post(endpoint + "/switch")(console.action(pages.switch_endpoint))
    router.post(endpoint + "/rotate")(console.action(pages.rotate_secret))
    router.post(endpoint + "/remove")(console.action(pages.remove_endpoint))
    router.post(endpoint + "/deliveries/{delivery_id}/resend")(console.action(pages.resend))


class WebhookPages(ConsolePages):
    section = SECTION

    async def overview_page(self, request: Request, viewer: Viewer) -> Response:
        """The person's own accounts whose webhooks they manage; another account (a child
        account, say) by its id."""
        wanted = request.query_params.get("account", "").strip()
        if is_account_id(wanted):
            return self.web.redirect(request, account_url(wanted, "webhooks"))
        mine = await self.console.call(auth_account.my_memberships, self.ctx, viewer.signed_in)
        managed = await self.console.call(
            webhooks.accounts_managed, self.ctx, viewer.actor, [m.account_id for m in mine]
        )
        return self.console.render(
            request,
            viewer,
            "console/webhooks.html",
            section=SECTION,
            managed=managed,
            wanted=wanted,
        )

    async def endpoints_page(self, request: Request, viewer: Viewer) -> Response:
        here = await self.account(request, viewer)
        return await self._endpoints(request, viewer, here)

    async def add_endpoint(
        self, request: Request, viewer: Viewer, form: dict[str, str]
    ) -> Response:
        here = await self.account(request, viewer)
        try:
            endpoint, secret = await self.console.call(
                webhooks.create_endpoint,
                self.ctx,
                viewer.actor,
                here.account.id,
                form.get("url", ""),
                event_types=_chosen_types(form),
                include_children=form.get("include_children") == "yes",
                description=form.get("description", ""),
            )
        except DomainError as error:
            state = FormState.failed(form, error, fields=FIELDS)
            return await self._endpoints(request, viewer, here, state, status=http_status(error))
        return self._shown_once(request, viewer, here, endpoint, secret, "Webhook endpoint added")

    async def endpoint_page(self, request: Request, viewer: Viewer) -> Response:
        here = await self.account(request, viewer)
        endpoint = await self._endpoint(request, viewer, here)
        before = request.query_params.get("before", "")
        deliveries = await self.console.call(
            webhooks.list_deliveries,
            self.ctx,
            viewer.actor,
            endpoint.id,
            limit=PAGE + 1,
            before_id=int(before) if before.isdigit() else None,
        )
        url = _endpoint_url(endpoint)
        more = len(deliveries) > PAGE
        return self.console.render(
            request,
            viewer,
            "console/webhook_endpoint.html",
            account=here,
            section=SECTION,
            endpoint=endpoint,
            deliveries=deliveries[:PAGE],
            endpoint_url=url,
            next_url=f"{url}?before={deliveries[PAGE - 1].id}" if more else None,
        )

    async def switch_endpoint(
        self, request: Request, viewer: Viewer, form: dict[str, str]
    ) -> Response:
        here = await self.account(request, viewer)
        endpoint = await self._endpoint(request, viewer, here)
        on = form.get("enabled") == "yes"
        await self.console.call(
            webhooks.update_endpoint,
            self.ctx,
            viewer.actor,
            endpoint.id,
            EndpointChanges(enabled=on),
        )
        said = "switched on" if on else "switched off: it hears nothing until switched on"
        return self.console.done(request, _endpoint_url(endpoint), f"The endpoint was {said}.")

    async def rotate_secret(
        self, request: Request, viewer: Viewer, form: dict[str, str]
    ) -> Response:
        here = await self.account(request, viewer)
        endpoint = await self._endpoint(request, viewer, here)
        if not confirmed(form):
            return self.confirm(
                request,
                viewer,
                here,
                form,
                title="Make a new signing secret?",
                message=(
                    f"Deliveries to {endpoint.url} are signed with the new secret from now on; "
                    "a receiver still checking with the old one refuses them until it has the "
                    "new one."
                ),
                button="Make a new secret",
                cancel_url=_endpoint_url(endpoint),
            )
        endpoint, secret = await self.console.call(
            webhooks.rotate_secret, self.ctx, viewer.actor, endpoint.id
        )
        return self._shown_once(request, viewer, here, endpoint, secret, "New signing secret")

    async def remove_endpoint(
        self, request: Request, viewer: Viewer, form: dict[str, str]
    ) -> Response:
        here = await self.account(request, viewer)
        endpoint = await self._endpoint(request, viewer, here)
        back = account_url(here.account.id, "webhooks")
        if not confirmed(form):
            return self.confirm(
                request,
                viewer,
                here,
                form,
                title="Remove this webhook endpoint?",
                message=(
                    f"Nothing more is sent to {endpoint.url}, and its delivery log goes with it. "
                    "This cannot be undone."
                ),
                button="Remove",
                cancel_url=_endpoint_url(endpoint),
            )
        await self.console.call(webhooks.delete_endpoint, self.ctx, viewer.actor, endpoint.id)
        return self.console.done(request, back, "The webhook endpoint was removed.")

    async def resend(self, request: Request, viewer: Viewer, form: dict[str, str]) -> Response:
        here = await self.account(request, viewer)
        endpoint = await self._endpoint(request, viewer, here)
        delivery_id = request.path_params["delivery_id"]
        if not delivery_id.isdigit():
            raise NotFound(ErrorCode.NOT_FOUND, "No such webhook delivery.")
        delivery = await self.console.call(
            webhooks.resend_delivery,
            self.ctx,
            viewer.actor,
            int(delivery_id),
            endpoint_id=endpoint.id,
        )
        return self.console.done(
            request, _endpoint_url(endpoint), f"The {delivery.event_type} event is sent again."
        )

    # -- helpers

    async def _endpoint(
        self, request: Request, viewer: Viewer, here: AccountView
    ) -> WebhookEndpoint:
        """The endpoint of the URL, which must be the URL's account's."""
        endpoint = await self.console.call(
            webhooks.get_endpoint, self.ctx, viewer.actor, request.path_params["endpoint_id"]
        )
        if endpoint.account_id != here.account.id:
            raise NotFound(ErrorCode.NOT_FOUND, "No such webhook endpoint.")
        return endpoint

    async def _endpoints(
        self,
        request: Request,
        viewer: Viewer,
        here: AccountView,
        form: FormState | None = None,
        *,
        status: int = 200,
    ) -> Response:
        endpoints = await self.console.call(
            webhooks.list_endpoints, self.ctx, viewer.actor, here.account.id
        )
        return self.console.render(
            request,
            viewer,
            "console/webhook_endpoints.html",
            account=here,
            section=SECTION,
            status=status,
            endpoints=endpoints,
            form=form,
            event_types=[t.value for t in EventType],
            chosen=set(_chosen_types(form.values)) if form else set(),
            base_url=account_url(here.account.id, "webhooks"),
        )

    def _shown_once(
        self,
        request: Request,
        viewer: Viewer,
        here: AccountView,
        endpoint: WebhookEndpoint,
        secret: str,
        title: str,
    ) -> Response:
        """The page that shows a signing secret, the only time it is ever shown."""
        return self.console.render(
            request,
            viewer,
            "console/secret.html",
            account=here,
            section=SECTION,
            title=title,
            value_label="Signing secret",
            secret=secret,
            facts=[
                ("Endpoint", endpoint.id),
                ("URL", endpoint.url),
                ("Events", ", ".join(endpoint.event_types) or "All"),
            ],
            usage=(
                "Receivers check each delivery's webhook-signature header with it, as the "
                "Standard Webhooks specification says (its libraries take this whsec_ secret)."
            ),
            back_url=_endpoint_url(endpoint),
            back_label="Back to the endpoint",
        )


PAGE = 50


def _chosen_types(form: dict[str, str]) -> list[str]:
    """The event types ticked (each checkbox posts `event:<type>`); none: every event."""
    return [
        name[len("event:") :] for name, value in form.items() if name.startswith("event:") and value
    ]


def _endpoint_url(endpoint: WebhookEndpoint) -> str:
    return account_url(endpoint.account_id, "webhooks", endpoint.id)
