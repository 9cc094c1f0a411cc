"""A change made through each API face reaches a real receiver on 127.0.0.1 once, verified with
the endpoint's secret, naming the face, the request and the actor: a bulk add (the AppsFlyer
user management API), a SCIM PATCH, and a network's replacement of its users (Invoca). (The
console's role change is in tests/api/web/console/test_console_webhooks.py, GraphQL's in
tests/api/hub/test_webhooks.py.)"""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from tenantry.services import credentials, setup, webhooks
from tenantry.services.context import ServiceContext

from factories import OPERATOR, World, build_world, unique_email
from httpclient import HttpClient
from webhook_receiver import Receiver, allow_private, receiver, send_all

__all__ = ["allow_private", "receiver"]  # fixtures, used by name

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SCIM_USER = "urn:ietf:params:scim:schemas:core:2.0:User"


@pytest.fixture
def world(allow_private: ServiceContext) -> World:
    return build_world(allow_private)


def _token_of_a_admin(ctx: ServiceContext, world: World) -> str:
    _, token, _ = credentials.create_api_token(
        ctx, OPERATOR, world.a.id, user_email=world.a_admin.email
    )
    return token


def _hooked(ctx: ServiceContext, account_id: str, receiver: Receiver) -> str:
    _, secret = webhooks.create_endpoint(ctx, OPERATOR, account_id, receiver.url)
    return secret


def _once_each(receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    events = receiver.events(secret)
    ids = Counter(e["data"]["id"] for e in events)
    assert set(ids.values()) == {1}, ids
    return events


def _request_id(response: httpx.Response) -> str:
    request_id: str = response.headers["x-request-id"]
    return request_id


def test_a_bulk_add_arrives_once(
    client: HttpClient, allow_private: ServiceContext, world: World, receiver: Receiver
) -> None:
    ctx = allow_private
    token = _token_of_a_admin(ctx, world)
    secret = _hooked(ctx, world.a.id, receiver)
    email = unique_email("bulk")
    response = client.post(
        "/api/user-management/v1.0/users",
        json=[
            {
                "username": "Ada Lovelace",
                "email": email,
                "role": "admin",
                "allow_access_to_all_future_apps": True,
            }
        ],
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text

    send_all(ctx)
    events = _once_each(receiver, secret)
    assert [e["type"] for e in events] == [
        "user.created",
        "membership.created",
        "invitation.created",
    ]
    for event in events:
        data = event["data"]
        assert (data["account_id"], data["face"]) == (world.a.id, "bulk_rest")
        assert data["request_id"] == _request_id(response)
        assert data["actor"]["kind"] == "api_token"
        assert data["actor"]["user_id"] == world.a_admin.id
        assert data["actor"]["minted_by"] == "operator"
    assert events[0]["data"]["after"]["email"] == email
    assert send_all(ctx).claimed == 0


def test_a_scim_patch_arrives_once(
    client: HttpClient, allow_private: ServiceContext, world: World, receiver: Receiver
) -> None:
    ctx = allow_private
    token = _token_of_a_admin(ctx, world)
    headers = {"Authorization": f"Bearer {token}"}
    address = unique_email("scim")
    created = client.post(
        "/scim/v2/Users",
        json={
            "schemas": [SCIM_USER],
            "userName": address,
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"primary": True, "value": address, "type": "work"}],
            "active": True,
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    secret = _hooked(ctx, world.a.id, receiver)  # hears the PATCH only

    patched = client.request(
        "PATCH",
        f"/scim/v2/Users/{created.json()['id']}",
        json={"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]},
        headers=headers,
    )
    assert patched.status_code == 200, patched.text

    send_all(ctx)
    [event] = _once_each(receiver, secret)
    assert event["type"] == "user.updated"
    data = event["data"]
    assert (data["action"], data["face"], data["request_id"]) == (
        "user.deactivate",
        "scim",
        _request_id(patched),
    )
    assert data["target"] == {"type": "user", "id": created.json()["id"]}


def test_a_network_replace_arrives_once(
    client: HttpClient, allow_private: ServiceContext, receiver: Receiver
) -> None:
    ctx = allow_private
    init = setup.initialize(ctx)
    assert init.client_id is not None
    assert init.client_secret is not None
    token = client.post(
        "/clients/token",
        data={
            "client_id": init.client_id,
            "client_secret": init.client_secret,
            "grant_type": "client_credentials",
        },
    ).json()["access_token"]
    secret = _hooked(ctx, init.account_id, receiver)

    def user(key: str, role: str) -> dict[str, Any]:
        return {
            "id_from_network": key,
            "email_settings": [{"email_address": unique_email(key), "use_for_notifications": True}],
            "first_name": "Pat",
            "last_name": key,
            "role": role,
        }

    url = f"/api/2019-05-01/{init.account_id}/network.json"
    auth = {"Authorization": token}
    first = client.put(
        url, json={"users": [user("u1", "Member"), user("u2", "Member")]}, headers=auth
    )
    assert first.status_code == 200, first.text
    send_all(ctx)
    assert [e["type"] for e in _once_each(receiver, secret)] == ["membership.created"] * 2

    replaced = client.put(url, json={"users": [user("u1", "Manager")]}, headers=auth)
    assert replaced.status_code == 200, replaced.text
    send_all(ctx)
    events = _once_each(receiver, secret)[2:]
    by_key = {e["data"]["target"]["id_from_network"]: e for e in events}
    assert by_key["u1"]["type"] == "membership.updated"
    assert (by_key["u1"]["data"]["before"]["role"], by_key["u1"]["data"]["after"]["role"]) == (
        "member",
        "manage",
    )
    assert by_key["u2"]["type"] == "membership.deleted"
    for event in events:
        data = event["data"]
        assert (data["face"], data["request_id"]) == ("network_rest", _request_id(replaced))
        assert data["actor"]["kind"] == "api_account"
