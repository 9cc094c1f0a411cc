"""Helpers for the /capig API tests: calling GraphQL and the traffic endpoint, tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from tenantry.domain.accounts import Account
from tenantry.entrypoints.graphql.traffic import PATH as TRAFFIC_PATH
from tenantry.services import credentials
from tenantry.services.context import ServiceContext

from factories import OPERATOR
from httpclient import HttpClient

SETUP_PIXEL = """
mutation SetupPixel($tenantId: String!, $input: SetupPixelSignalConfigInput!) {
  tenantMutations(tenantId: $tenantId) {
    signalMutations {
      setupPixelSignalConfig(input: $input) {
        id pixelID name businessID externalID apiVersion eventsStatus capiPublishEnabled
        connectionStatus {
          connected active eventBridgeActive publishingEnabled apiErrorCode pixelID
        }
      }
    }
  }
}
"""


@dataclass
class Capig:
    client: HttpClient
    token: str
    host: Account
    tenant: Account

    def call(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        response = self.client.post(
            "/capig/graphql/",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token or self.token}"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.call(query, variables)
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    def setup_pixel(self, pixel_id: str, **fields: Any) -> dict[str, Any]:
        spec = {
            "businessId": "987654321",
            "pixelId": pixel_id,
            "accessToken": "EAAB-secret",
            "externalId": f"ext-{pixel_id}",
            **fields,
        }
        data = self.data(SETUP_PIXEL, {"tenantId": self.tenant.id, "input": spec})
        config: dict[str, Any] = data["tenantMutations"]["signalMutations"][
            "setupPixelSignalConfig"
        ]
        return config

    def report(
        self, body: Any, *, token: str | None = None, raw: bytes | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        if raw is not None:
            headers["Content-Type"] = "application/json"
            return self.client.post(TRAFFIC_PATH, content=raw, headers=headers)
        return self.client.post(TRAFFIC_PATH, json=body, headers=headers)


def bearer_for(client: HttpClient, client_id: str, secret: str) -> str:
    response = client.post(
        "/clients/token",
        data={"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"},
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def api_token_of(ctx: ServiceContext, client: HttpClient, account: Account, name: str) -> str:
    """A bearer token of an API account belonging to `account`."""
    _, secret = credentials.create_api_account(ctx, OPERATOR, account.id, name)
    return bearer_for(client, name, secret)


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" in body, body
    assert len(body["errors"]) == 1, body
    error: dict[str, Any] = body["errors"][0]
    return error


def minute_now() -> str:
    return datetime.now(UTC).replace(second=0, microsecond=0).isoformat()
