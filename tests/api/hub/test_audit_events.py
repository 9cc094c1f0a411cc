"""`auditEvents` on /hub/graphql/: an account's trail with its filters and cursor paging, for
exactly those who may read the account's audit log (the console's rule)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tenantry.services import accounts, credentials
from tenantry.services.accounts import AccountChanges
from tenantry.services.context import ServiceContext

from factories import OPERATOR, make_account, make_member
from hub_support import Hub, bearer_for, only_error

EVENTS = """query ($tenantId: String, $filter: AuditEventFilter, $first: Int, $after: String) {
  auditEvents(tenantId: $tenantId, filter: $filter, first: $first, after: $after) {
    nodes {
      id at tenantId action face requestId targetType targetId before after
      actor { kind id label userId mintedBy }
    }
    endCursor
    hasNextPage
  }
}"""


def events(hub: Hub, token: str | None = None, **variables: Any) -> dict[str, Any]:
    body = hub.call(EVENTS, variables, token=token)
    assert "errors" not in body, body
    page: dict[str, Any] = body["data"]["auditEvents"]
    return page


def token_for(hub: Hub, ctx: ServiceContext, account_id: str, client_id: str, role: str) -> str:
    _, secret = credentials.create_api_account(ctx, OPERATOR, account_id, client_id, role_key=role)
    return bearer_for(hub.client, client_id, secret)


def test_a_change_made_over_graphql_reads_back_with_its_actor_face_and_states(
    hub: Hub, ctx: ServiceContext
) -> None:
    tenant = make_account(ctx, parent=hub.host, name="Before")
    renamed = hub.call(
        "mutation ($tenantId: String!) { tenantMutations { "
        'updateTenant(input: {tenantId: $tenantId, name: "After"}) { tenant { name } } } }',
        {"tenantId": tenant.id},
    )
    assert "errors" not in renamed, renamed
    page = events(hub, tenantId=tenant.id, filter={"action": "account.update"})
    [event] = page["nodes"]
    assert event["tenantId"] == tenant.id
    assert event["face"] == "graphql"
    assert event["targetType"] == "account"
    assert event["targetId"] == tenant.id
    assert event["before"]["name"] == "Before"
    assert event["after"]["name"] == "After"
    assert event["actor"]["kind"] == "api_account"
    assert event["actor"]["id"] == "tenantryadmin"
    assert event["requestId"]
    assert event["at"].endswith("+00:00")
    assert page["hasNextPage"] is False
    assert page["endCursor"] is None


def test_the_host_trail_is_the_default_and_pages_by_cursor(hub: Hub, ctx: ServiceContext) -> None:
    for _ in range(7):
        make_member(ctx, hub.host, role="view", active=False)
    every = events(hub, first=500)["nodes"]
    assert {e["tenantId"] for e in every} == {hub.host.id}
    ids = [int(e["id"]) for e in every]
    assert ids == sorted(ids, reverse=True)
    seen: list[str] = []
    after = None
    while True:
        page = events(hub, first=3, after=after)
        seen += [e["id"] for e in page["nodes"]]
        if not page["hasNextPage"]:
            break
        after = page["endCursor"]
        assert after == page["nodes"][-1]["id"]
    assert seen == [e["id"] for e in every]


def test_filters_narrow_by_actor_target_face_and_time(hub: Hub, ctx: ServiceContext) -> None:
    tenant = make_account(ctx, parent=hub.host)
    worker = make_member(ctx, tenant, role="view")
    accounts.update_account(ctx, OPERATOR, tenant.id, AccountChanges(name="By the operator"))
    by_target = events(hub, tenantId=tenant.id, filter={"targetId": worker.id})["nodes"]
    assert by_target
    assert {e["targetId"] for e in by_target} == {worker.id}
    by_actor = events(hub, tenantId=tenant.id, filter={"actorId": "system"})["nodes"]
    assert {e["actor"]["id"] for e in by_actor} == {"system"}
    assert {e["action"] for e in by_actor} >= {"account.update", "membership.create"}
    by_face = events(hub, tenantId=tenant.id, filter={"face": "test"})["nodes"]
    assert len(by_face) == len(by_actor)
    assert events(hub, tenantId=tenant.id, filter={"face": "scim"})["nodes"] == []
    now = ctx.now()
    later = (now + timedelta(minutes=5)).isoformat()
    earlier = (now - timedelta(minutes=5)).isoformat()
    assert events(hub, tenantId=tenant.id, filter={"since": later})["nodes"] == []
    assert events(hub, tenantId=tenant.id, filter={"until": earlier})["nodes"] == []
    window = {"since": earlier, "until": later, "action": "account.update"}
    [renamed] = events(hub, tenantId=tenant.id, filter=window)["nodes"]
    assert renamed["after"]["name"] == "By the operator"
    today = now.date().isoformat()
    assert events(hub, tenantId=tenant.id, filter={"since": today})["nodes"]


def test_who_may_read_the_trail_is_the_console_rule(hub: Hub, ctx: ServiceContext) -> None:
    ours = make_account(ctx, parent=hub.host)
    theirs = make_account(ctx, parent=hub.host)
    reader = token_for(hub, ctx, ours.id, "ourauditor", "manage")  # audit log: read
    viewer = token_for(hub, ctx, ours.id, "ourviewer", "view")  # audit log: blocked
    assert events(hub, reader, tenantId=ours.id)["nodes"]
    for token, tenant in ((viewer, ours.id), (reader, theirs.id), (reader, hub.host.id)):
        error = only_error(hub.call(EVENTS, {"tenantId": tenant}, token=token))
        assert error["extensions"]["type"] == "UNAUTHORIZED", error
    # The parent's admins read their advertisers' trails, as in the console.
    assert events(hub, tenantId=ours.id)["nodes"]


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"first": 0}, "first"),
        ({"first": 501}, "first"),
        ({"after": "12x"}, "after"),
        ({"after": "²"}, "after"),
        ({"tenantId": "not-an-id"}, "tenantId"),
        ({"filter": {"since": "yesterday"}}, "since"),
        ({"filter": {"until": "2024-13-01"}}, "until"),
        ({"filter": {"targetId": "x" * 255}}, "targetId"),
    ],
)
def test_bad_arguments_are_a_400_naming_the_field(
    hub: Hub, variables: dict[str, Any], field: str
) -> None:
    error = only_error(hub.call(EVENTS, variables))
    assert error["extensions"]["code"] == 400, error
    assert field in error["message"] or error["extensions"].get("field") == field, error
