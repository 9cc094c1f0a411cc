"""Webhooks over /hub/graphql/: endpoints made, listed, changed, rotated and removed, their
delivery logs read and a delivery sent again; a change made through GraphQL arrives at a real
receiver, signed, naming the face and the request; another account's admin is refused."""

from __future__ import annotations

from typing import Any

import pytest

from tenantry.domain.accounts import Account
from tenantry.services import credentials
from tenantry.services.context import ServiceContext

from factories import OPERATOR, make_account, make_member, unique_email
from hub_support import Hub, only_error
from webhook_receiver import Receiver, allow_private, receiver, send_all

__all__ = ["allow_private", "receiver"]  # fixtures, used by name

ENDPOINT = "id tenantId url eventTypes enabled includeChildTenants description createdAt"
CREATE = f"""mutation ($input: CreateWebhookEndpointInput!) {{
  webhookMutations {{ createWebhookEndpoint(input: $input) {{ secret endpoint {{ {ENDPOINT} }} }} }}
}}"""
LIST = f"query ($t: String) {{ webhookEndpoints(tenantId: $t) {{ {ENDPOINT} }} }}"
DELIVERIES = """query ($e: String!) { webhookDeliveries(endpointId: $e) {
  id endpointId eventId eventType tenantId status attempts lastStatusCode lastError
} }"""


def _create(hub: Hub, **values: Any) -> dict[str, Any]:
    body = hub.call(CREATE, {"input": values})
    assert "errors" not in body, body
    created: dict[str, Any] = body["data"]["webhookMutations"]["createWebhookEndpoint"]
    return created


@pytest.fixture
def tenant(hub: Hub, ctx: ServiceContext) -> Account:
    return make_account(ctx, parent=hub.host)


def test_an_endpoint_made_over_graphql_hears_a_graphql_change(
    hub: Hub, allow_private: ServiceContext, receiver: Receiver, tenant: Account
) -> None:
    ctx = allow_private
    created = _create(
        hub,
        url=receiver.url,
        eventTypes=["membership.created"],
        includeChildTenants=True,
        description="provisioning",
    )
    secret, endpoint = created["secret"], created["endpoint"]
    assert secret.startswith("whsec_")
    assert endpoint["tenantId"] == hub.host.id
    assert endpoint["eventTypes"] == ["membership.created"]
    assert endpoint["includeChildTenants"] is True

    listed = hub.call(LIST)["data"]["webhookEndpoints"]
    assert [e["id"] for e in listed] == [endpoint["id"]]
    assert secret not in str(listed)

    response = hub.client.post(
        "/hub/graphql/",
        json={
            "query": """mutation ($input: AddUserWithRoleInput!) {
              userMutations { addUserWithRole(input: $input) { user { id } } } }""",
            "variables": {
                "input": {"email": unique_email("gql"), "roleName": f"advertiser-view-{tenant.id}"}
            },
        },
        headers={"Authorization": f"Bearer {hub.token}", "X-Request-ID": "hub-req-1"},
    )
    assert "errors" not in response.json(), response.text
    send_all(ctx)

    [event] = receiver.events(secret)
    assert event["type"] == "membership.created"
    data = event["data"]
    assert (data["account_id"], data["face"], data["request_id"]) == (
        tenant.id,
        "graphql",
        "hub-req-1",
    )
    assert data["actor"]["kind"] == "api_account"

    log = hub.call(DELIVERIES, {"e": endpoint["id"]})["data"]["webhookDeliveries"]
    assert [(d["eventType"], d["status"], d["attempts"], d["lastStatusCode"]) for d in log] == [
        ("membership.created", "SENT", 1, 204)
    ]
    assert log[0]["eventId"] == data["id"]

    again = hub.call(
        "mutation ($d: Long!) { webhookMutations { resendWebhookDelivery(deliveryId: $d) "
        "{ status eventId } } }",
        {"d": log[0]["id"]},
    )["data"]["webhookMutations"]["resendWebhookDelivery"]
    assert again == {"status": "PENDING", "eventId": data["id"]}
    send_all(ctx)
    assert [a.headers["webhook-id"] for a in receiver.arrivals] == [data["id"]] * 2


def test_changing_rotating_and_removing_an_endpoint(
    hub: Hub, allow_private: ServiceContext, receiver: Receiver
) -> None:
    endpoint = _create(hub, url=receiver.url)["endpoint"]
    assert endpoint["eventTypes"] == []  # every event

    changed = hub.call(
        """mutation ($input: UpdateWebhookEndpointInput!) { webhookMutations {
          updateWebhookEndpoint(input: $input) { enabled eventTypes description url } } }""",
        {
            "input": {
                "endpointId": endpoint["id"],
                "enabled": False,
                "eventTypes": ["user.created", "role.deleted"],
                "description": "off for now",
            }
        },
    )["data"]["webhookMutations"]["updateWebhookEndpoint"]
    assert changed == {
        "enabled": False,
        "eventTypes": ["user.created", "role.deleted"],
        "description": "off for now",
        "url": receiver.url,
    }

    rotated = hub.call(
        "mutation ($e: String!) { webhookMutations { rotateWebhookSecret(endpointId: $e) "
        "{ secret endpoint { id } } } }",
        {"e": endpoint["id"]},
    )["data"]["webhookMutations"]["rotateWebhookSecret"]
    assert rotated["secret"].startswith("whsec_")

    removed = hub.call(
        "mutation ($e: String!) { webhookMutations { deleteWebhookEndpoint(endpointId: $e) } }",
        {"e": endpoint["id"]},
    )
    assert removed["data"]["webhookMutations"]["deleteWebhookEndpoint"] is True
    assert hub.call(LIST)["data"]["webhookEndpoints"] == []


def test_bad_endpoints_are_refused_with_400(hub: Hub, ctx: ServiceContext) -> None:
    for values in (
        {"url": "http://127.0.0.1:8080/hooks"},  # private receivers are not allowed here
        {"url": "ftp://example.com/x"},
        {"url": "https://receiver.invalid/x", "eventTypes": ["user.exploded"]},
    ):
        error = only_error(hub.call(CREATE, {"input": values}))
        assert error["extensions"]["code"] == 400, error
    assert hub.call(LIST)["data"]["webhookEndpoints"] == []


def test_another_accounts_admin_is_refused(
    hub: Hub, ctx: ServiceContext, allow_private: ServiceContext, receiver: Receiver
) -> None:
    a = make_account(ctx, parent=hub.host)
    b = make_account(ctx, parent=hub.host)
    b_endpoint = _create(hub, tenantId=b.id, url=receiver.url)["endpoint"]
    a_admin = make_member(ctx, a, role="admin")
    _, a_token, _ = credentials.create_api_token(ctx, OPERATOR, a.id, user_email=a_admin.email)

    attempts = [
        (LIST, {"t": b.id}),
        (CREATE, {"input": {"tenantId": b.id, "url": receiver.url}}),
        (DELIVERIES, {"e": b_endpoint["id"]}),
        (
            "mutation ($e: String!) { webhookMutations { rotateWebhookSecret(endpointId: $e) "
            "{ secret } } }",
            {"e": b_endpoint["id"]},
        ),
        (
            "mutation ($e: String!) { webhookMutations { deleteWebhookEndpoint(endpointId: $e) } }",
            {"e": b_endpoint["id"]},
        ),
    ]
    for query, variables in attempts:
        body = hub.call(query, variables, token=a_token)
        error = only_error(body)
        assert error["extensions"]["code"] == 401, body
        assert "whsec_" not in str(body)
    # B's endpoint is as it was; A's admin manages A's own.
    assert [e["id"] for e in hub.call(LIST, {"t": b.id})["data"]["webhookEndpoints"]] == [
        b_endpoint["id"]
    ]
    own = hub.call(CREATE, {"input": {"tenantId": a.id, "url": receiver.url}}, token=a_token)
    assert "errors" not in own, own
