"""The faces whose changes honour `Idempotency-Key`, each described the same way for the tests
of `test_idempotency.py`: a change it makes, a credential of the caller's account, the service
the change calls (made to fail), and how the face words a refusal."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from tenantry.services import (
    accounts,
    credentials,
    gateway_pixels,
    gateway_traffic,
    managed_accounts,
    provisioning,
    quotas,
)
from tenantry.services.context import ServiceContext
from tenantry.services.gateway_pixels import PixelSetup

from factories import OPERATOR, World, make_member, unique_email
from httpclient import HttpClient

KEY = "8e03978e-40d5-43e8-bc93-6894a57f9324"
_numbers = itertools.count(1)


# -- each face: a change it makes, a credential of the caller's account, its error format -------


@dataclass
class Face:
    client: HttpClient
    ctx: ServiceContext
    method: str
    path: str
    new_body: Callable[[], Any]
    """A body that makes a new change each time."""
    new_credential: Callable[[], Callable[[], str]]
    """A new credential of the caller's account, as a function giving a token of it valid now."""
    message: Callable[[httpx.Response], str]
    """The text of a refusal, after checking that it is in the face's format."""
    fails: tuple[object, str]
    """The service function the change calls, made to fail for a 5xx."""
    invalid_status: int = 400
    issue: Callable[[], str] = field(init=False)
    token: str = field(init=False)

    def __post_init__(self) -> None:
        self.issue = self.new_credential()
        self.token = self.issue()

    def renew(self) -> None:
        """A token of the same credential, valid now (access tokens last ten hours)."""
        self.token = self.issue()

    def call(self, body: Any, key: str | None = KEY, token: str | None = None) -> httpx.Response:
        headers = {
            "Authorization": f"Bearer {token or self.token}",
            "Content-Type": "application/json",
        }
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.client.request(
            self.method, self.path, content=orjson.dumps(body), headers=headers
        )


def api_account(ctx: ServiceContext, client: HttpClient, account_id: str) -> Callable[[], str]:
    """An API account of the account; each call exchanges its secret for a fresh token."""
    name = f"idem{next(_numbers)}"
    _, secret = credentials.create_api_account(ctx, OPERATOR, account_id, name)

    def token() -> str:
        form = {"client_id": name, "client_secret": secret, "grant_type": "client_credentials"}
        response = client.post("/clients/token", data=form)
        assert response.status_code == 200, response.text
        issued: str = response.json()["access_token"]
        return issued

    return token


def api_token(ctx: ServiceContext, world: World) -> Callable[[], str]:
    """An API token of a new admin of advertiser a (it does not expire)."""
    admin = make_member(ctx, world.a, role="admin")
    _, issued, _ = credentials.create_api_token(ctx, OPERATOR, world.a.id, user_email=admin.email)
    return lambda: issued


def _message(response: httpx.Response) -> str:
    text: str = response.json()["message"]
    return text


def _graphql_message(response: httpx.Response) -> str:
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == response.status_code, error
    text: str = error["message"]
    return text


def _network_message(response: httpx.Response) -> str:
    errors = response.json()["errors"]
    if response.status_code == 403:
        (text,) = errors["base"]
        return str(text)
    assert errors["class"] == {409: "Conflict", 422: "UnprocessableEntity"}[response.status_code]
    return str(errors["invalid_data"])


def _scim_message(response: httpx.Response) -> str:
    body = response.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"], body
    assert body["status"] == str(response.status_code)
    text: str = body["detail"]
    return text


def _scim_user() -> dict[str, Any]:
    address = unique_email("scim")
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": address,
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"primary": True, "value": address, "type": "work"}],
        "active": True,
    }


def _bulk(ctx: ServiceContext, client: HttpClient, world: World) -> Face:
    def body() -> Any:
        return [
            {"email": unique_email("bulk"), "username": "Demi Smith", "role": "marketing"}
            | {"allow_access_to_all_future_apps": True, "media_sources": [], "geos": []}
        ]

    return Face(
        client,
        ctx,
        "POST",
        "/api/user-management/v1.0/users",
        body,
        lambda: api_token(ctx, world),
        _message,
        (quotas, "admit_batch_call"),
    )


CREATE_TENANT = """mutation CreateTenant($input: CreateTenantInput!) {
  tenantMutations { createTenant(input: $input) { tenant { id name } } }
}"""

SETUP_PIXEL = """mutation SetupPixel($tenantId: String!, $input: SetupPixelSignalConfigInput!) {
  tenantMutations(tenantId: $tenantId) {
    signalMutations { setupPixelSignalConfig(input: $input) { id pixelID name } }
  }
}"""


def _hub(ctx: ServiceContext, client: HttpClient, world: World) -> Face:
    def body() -> Any:
        tenant = {"name": f"Shop {next(_numbers)}", "canPartnerManage": True}
        return {"query": CREATE_TENANT, "variables": {"input": tenant | {"eventEnrichment": False}}}

    return Face(
        client,
        ctx,
        "POST",
        "/hub/graphql/",
        body,
        lambda: api_account(ctx, client, world.host.id),
        _graphql_message,
        (accounts, "create_account"),
    )


def _capig(ctx: ServiceContext, client: HttpClient, world: World) -> Face:
    def body() -> Any:
        n = str(next(_numbers))
        spec = {"businessId": "987", "pixelId": n, "accessToken": "EAAB-x", "externalId": n}
        return {"query": SETUP_PIXEL, "variables": {"tenantId": world.a.id, "input": spec}}

    return Face(
        client,
        ctx,
        "POST",
        "/capig/graphql/",
        body,
        lambda: api_account(ctx, client, world.host.id),
        _graphql_message,
        (gateway_pixels, "setup_pixel"),
    )


def _traffic(ctx: ServiceContext, client: HttpClient, world: World) -> Face:
    setup = PixelSetup(business_id="987", pixel_id="4242", access_token="EAAB-x", external_id="e")
    gateway_pixels.setup_pixel(ctx, OPERATOR, world.a.id, setup)

    def body() -> Any:
        minute = datetime.now(UTC).replace(second=0, microsecond=0).isoformat()
        report = {"pixelId": "4242", "windowStart": minute, "eventsReceived": next(_numbers)}
        return {"tenantId": world.a.id, "reports": [report]}

    return Face(
        client,
        ctx,
        "POST",
        "/capig/traffic",
        body,
        lambda: api_account(ctx, client, world.host.id),
        _message,
        (gateway_traffic, "report_traffic"),
    )


def _network(ctx: ServiceContext, client: HttpClient, world: World) -> Face:
    def body() -> Any:
        n = next(_numbers)
        site = {"id_from_network": f"{n}", "name": f"{n}.blog.example"}
        return {"id_from_network": f"adv-{n}", "name": f"Advertiser {n}", "sites": [site]}

    return Face(
        client,
        ctx,
        "POST",
        f"/api/2019-05-01/{world.host.id}/advertisers",
        body,
        lambda: api_account(ctx, client, world.host.id),
        _network_message,
        (managed_accounts, "upsert_advertiser"),
        invalid_status=403,  # the dialect's answer to any invalid input
    )


def _scim(ctx: ServiceContext, client: HttpClient, world: World) -> Face:
    return Face(
        client,
        ctx,
        "POST",
        "/scim/v2/Users",
        _scim_user,
        lambda: api_token(ctx, world),
        _scim_message,
        (provisioning, "create_user"),
    )


def _scim_bulk(ctx: ServiceContext, client: HttpClient, world: World) -> Face:
    def body() -> Any:
        operation = {"method": "POST", "path": "/Users", "bulkId": "u1", "data": _scim_user()}
        return {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "Operations": [operation],
        }

    return Face(
        client,
        ctx,
        "POST",
        "/scim/v2/Bulk",
        body,
        lambda: api_token(ctx, world),
        _scim_message,
        (provisioning, "create_user"),
    )


FACES = {
    "bulk": _bulk,
    "hub": _hub,
    "capig": _capig,
    "traffic": _traffic,
    "network": _network,
    "scim": _scim,
    "scim-bulk": _scim_bulk,
}
