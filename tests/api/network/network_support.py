"""A network (the host partner) with an API account's token, an advertiser under it, and
helpers to call the network integration API."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tenantry.app import Composition
from tenantry.domain.accounts import Account
from tenantry.domain.audit import AuditEvent
from tenantry.entrypoints.network_rest import parsing
from tenantry.entrypoints.server import create_http_app
from tenantry.services import managed_accounts, setup
from tenantry.services.context import ServiceContext

from factories import OPERATOR
from httpclient import HttpClient

VERSION = "2019-05-01"
_numbers = itertools.count(1)


def with_network_rest(composition: Composition) -> FastAPI:
    """The server's app, which serves this face."""
    return create_http_app(composition.context, readiness=composition.check_database)


@pytest.fixture
def app(composition: Composition) -> FastAPI:
    return with_network_rest(composition)


def bearer_for(client: HttpClient, client_id: str, secret: str) -> str:
    response = client.post(
        "/clients/token",
        data={"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"},
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def user_body(id_from_network: str | None = None, **fields: Any) -> dict[str, Any]:
    """A valid user object; `fields` override or add (None removes a field)."""
    n = next(_numbers)
    user: dict[str, Any] = {
        "id_from_network": id_from_network or f"user-{n}",
        "email_settings": [
            {"email_address": f"person{n}@example.com", "use_for_notifications": True}
        ],
        "first_name": "Pat",
        "last_name": f"Person{n}",
        "role": "Member",
    }
    user.update(fields)
    return {k: v for k, v in user.items() if v is not None}


def advertiser_body(id_from_network: str | None = None, **fields: Any) -> dict[str, Any]:
    n = next(_numbers)
    advertiser: dict[str, Any] = {
        "id_from_network": id_from_network or f"adv-{n}",
        "name": f"Advertiser {n}",
        "sites": [{"id_from_network": f"{n}", "name": f"{n}.blog.example"}],
    }
    advertiser.update(fields)
    return {k: v for k, v in advertiser.items() if v is not None}


@dataclass
class Net:
    client: HttpClient
    ctx: ServiceContext
    network: Account
    token: str
    version: str = VERSION
    headers: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"/api/{self.version}/{self.network.id}{path}"

    def request(
        self, method: str, path: str, *, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = {"Authorization": token or self.token, **kwargs.pop("headers", {})}
        return self.client.request(method, self.url(path), headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def advertiser(self, id_from_network: str, **fields: Any) -> Account:
        """An advertiser of the network, made through the service as the operator."""
        body = advertiser_body(id_from_network, **fields)
        spec = parsing.advertiser(body, self.ctx.roles, None)
        result = managed_accounts.upsert_advertiser(self.ctx, OPERATOR, self.network.id, spec)
        return result.advertiser.account

    def audit(self) -> list[AuditEvent]:
        with self.ctx.uow(readonly=True) as uow:
            return uow.audit.query(account_ids=None, limit=10_000)


@pytest.fixture
def net(client: HttpClient, ctx: ServiceContext) -> Net:
    init = setup.initialize(ctx)
    assert init.client_id is not None
    assert init.client_secret is not None
    with ctx.uow(readonly=True) as uow:
        network = uow.accounts.get(init.account_id)
    return Net(client, ctx, network, bearer_for(client, init.client_id, init.client_secret))
