"""Helpers for the SCIM face's tests: calls as an account's admin, payloads as identity providers
send them, and checks of SCIM errors. The fixtures are in conftest.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from tenantry.app import Composition
from tenantry.domain.accounts import Account
from tenantry.domain.users import User
from tenantry.entrypoints.scim import PREFIX
from tenantry.entrypoints.server import create_http_app
from tenantry.services import credentials, members
from tenantry.services.audit import list_audit_events
from tenantry.services.context import ServiceContext

from factories import OPERATOR, World, make_member, unique_email
from httpclient import HttpClient

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


def with_scim(composition: Composition) -> FastAPI:
    """The server's app, which serves this face."""
    return create_http_app(composition.context, readiness=composition.check_database)


@dataclass
class Scim:
    """Calls the SCIM face as an account's admin (by default)."""

    client: HttpClient
    ctx: ServiceContext
    world: World
    account: Account
    admin: User
    token: str

    def request(
        self, method: str, path: str, *, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        headers.setdefault("Authorization", f"Bearer {token or self.token}")
        return self.client.request(method, PREFIX + path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, json=body, **kwargs)

    def put(self, path: str, body: Any, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, json=body, **kwargs)

    def patch(self, path: str, *operations: dict[str, Any], **kwargs: Any) -> httpx.Response:
        body = {"schemas": [PATCH_OP], "Operations": list(operations)}
        return self.request("PATCH", path, json=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def create_user(self, email: str | None = None, **fields: Any) -> dict[str, Any]:
        response = self.post("/Users", new_user(email, **fields))
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def find(self, scim_filter: str, path: str = "/Users") -> list[dict[str, Any]]:
        response = self.get(path, params={"filter": scim_filter})
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()["Resources"]
        return found

    def token_for(self, account: Account, *, role: str = "admin") -> str:
        """An API token acting as a new active member of `account` with `role`."""
        user = make_member(self.ctx, account, role=role)
        _, token, _ = credentials.create_api_token(
            self.ctx, OPERATOR, account.id, user_email=user.email
        )
        return token

    def role_of(self, user_id: str, account: Account | None = None) -> str | None:
        everyone = members.list_all_members(self.ctx, OPERATOR, (account or self.account).id)
        return next((m.role.key for m in everyone if m.user.id == user_id), None)

    def faces(self, user_id: str) -> set[str]:
        events = list_audit_events(self.ctx, OPERATOR, self.account.id, target_id=user_id)
        return {e.face for e in events}


def new_user(email: str | None = None, **fields: Any) -> dict[str, Any]:
    """A User as Okta sends one on creation."""
    address = email or unique_email("scim")
    user: dict[str, Any] = {
        "schemas": [USER],
        "userName": address,
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"primary": True, "value": address, "type": "work"}],
        "displayName": "Barbara Jensen",
        "active": True,
    }
    user.update(fields)
    return user


def error_of(response: httpx.Response, status: int, scim_type: str | None = None) -> str:
    """The detail of a SCIM Error answer, after checking its shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/scim+json")
    body = response.json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)
    assert body.get("scimType") == scim_type, body
    detail: str = body.get("detail", "")
    return detail
