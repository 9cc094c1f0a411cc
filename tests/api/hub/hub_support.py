"""A host with an API account and a bearer token, and helpers to call /hub/graphql/."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tenantry.domain.accounts import Account
from tenantry.services import setup
from tenantry.services.context import ServiceContext

from httpclient import HttpClient


@dataclass
class Hub:
    client: HttpClient
    token: str
    host: Account

    def call(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        response = self.client.post(
            "/hub/graphql/",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token or self.token}"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def bearer_for(client: HttpClient, client_id: str, secret: str) -> str:
    response = client.post(
        "/clients/token",
        data={"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"},
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.fixture
def hub(client: HttpClient, ctx: ServiceContext) -> Hub:
    init = setup.initialize(ctx)
    assert init.client_id is not None
    assert init.client_secret is not None
    with ctx.uow(readonly=True) as uow:
        host = uow.accounts.get(init.account_id)
    return Hub(client, bearer_for(client, init.client_id, init.client_secret), host)


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" in body, body
    assert len(body["errors"]) == 1, body
    error: dict[str, Any] = body["errors"][0]
    return error
