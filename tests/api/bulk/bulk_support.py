"""An advertiser account with an admin and the admin's API token, and helpers to call the bulk
user-management API with it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tenantry.app import Composition
from tenantry.domain.accounts import Account, AccountKind
from tenantry.domain.users import User
from tenantry.entrypoints.bulk_rest import PREFIX
from tenantry.entrypoints.server import create_http_app
from tenantry.services import credentials, members, roles
from tenantry.services.context import ServiceContext

from factories import OPERATOR, World, make_account, make_member, set_policy, unique_email
from httpclient import HttpClient, http_client

RATE_LIMIT_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")


def with_bulk_rest(composition: Composition) -> FastAPI:
    """The server's app, which serves this face."""
    return create_http_app(composition.context, readiness=composition.check_database)


@pytest.fixture
def app(composition: Composition) -> FastAPI:
    return with_bulk_rest(composition)


@dataclass
class Bulk:
    """Calls as an account's admin (by default) through the HTTP face."""

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

    def add_analyst_role(self, capabilities: dict[str, dict[str, str]]) -> None:
        """A role of the account's own, `analyst` ("Analyst"), made by the operator."""
        roles.create_custom_role(
            self.ctx,
            OPERATOR,
            self.account.id,
            key="analyst",
            display_name="Analyst",
            capabilities=capabilities,
        )

    def get_users(self, **params: Any) -> httpx.Response:
        return self.request("GET", "/users", params=params)

    def add(self, users: Any, *, token: str | None = None) -> httpx.Response:
        return self.request("POST", "/users", json=users, token=token)

    def delete(self, emails: str, *, token: str | None = None) -> httpx.Response:
        return self.request("DELETE", f"/users/{emails}", token=token)

    def get_roles(self) -> httpx.Response:
        return self.request("GET", "/roles")

    def emails(self, account: Account | None = None) -> set[str]:
        """Who is in the account, read through the services (not this face)."""
        everyone = members.list_all_members(self.ctx, OPERATOR, (account or self.account).id)
        return {m.user.email for m in everyone}

    def token_for(self, account: Account, *, role: str = "admin") -> str:
        """An API token acting as a new active member of `account` with `role`."""
        user = make_member(self.ctx, account, role=role)
        _, token, _ = credentials.create_api_token(
            self.ctx, OPERATOR, account.id, user_email=user.email
        )
        return token

    def change(self, account: Account, **settings: Any) -> None:
        set_policy(self.ctx, account.id, **settings)


@pytest.fixture
def bulk(client: HttpClient, ctx: ServiceContext, world: World) -> Bulk:
    _, token, _ = credentials.create_api_token(
        ctx, OPERATOR, world.a.id, user_email=world.a_admin.email
    )
    return Bulk(client, ctx, world, world.a, world.a_admin, token)


@pytest.fixture
def client(app: FastAPI) -> Iterator[HttpClient]:
    with http_client(app) as test_client:
        yield test_client


def new_user(email: str | None = None, **fields: Any) -> dict[str, Any]:
    """A valid `POST /users` item: the AppsFlyer document's sample with a fresh address."""
    user: dict[str, Any] = {
        "email": unique_email("new") if email is None else email,
        "username": "Demi Smith",
        "department": "MC Marketing",
        "role": "marketing",
        "allow_access_to_all_future_apps": True,
        "media_sources": [],
        "geos": [],
    }
    user.update(fields)
    return user


def only_error(response: httpx.Response) -> dict[str, Any]:
    """The single per-user error of an add where nobody was added (422)."""
    assert response.status_code == 422, response.text
    body: dict[str, Any] = response.json()
    assert body["message"] == "No users were added.", body
    assert len(body["errors"]) == 1, body
    error: dict[str, Any] = body["errors"][0]
    return error


def add_message(bulk: Bulk, user: dict[str, Any], *, token: str | None = None) -> str:
    """Add one user that must be refused; the message it was refused with."""
    message: str = only_error(bulk.add([user], token=token))["message"]
    assert user["email"] not in bulk.emails()
    return message


def make_kind(bulk: Bulk, kind: AccountKind) -> Account:
    """A new account of `kind`: partners at the top, the others under the host partner."""
    parent = bulk.world.host if kind is not AccountKind.PARTNER else None
    return make_account(bulk.ctx, parent=parent, kind=kind)
