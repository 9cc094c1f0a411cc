"""The published SDL is what is served, and a tenant query costs the same number of SQL
statements for 5 users as for 50."""

from __future__ import annotations

from pathlib import Path

from graphql import print_schema

from tenantry.entrypoints.graphql.hub import build_hub_engine
from tenantry.services.context import ServiceContext

from factories import make_account, make_member, statements
from hub_support import Hub

CONTRACT = Path(__file__).parents[3] / "docs" / "contracts" / "hub.graphql"

TENANT_GRAPH = """query ($tenantId: String!) {
  tenant(tenantId: $tenantId) {
    id
    users {
      id email roles { name displayName } tenants { id availableRoles { name } } canBeDeleted
    }
    availableRoles { name displayName }
    tenantUsage { totalPixels tenantUsageByTraffic { totalEventsReceived } }
  }
}"""


def test_the_served_schema_is_the_published_contract() -> None:
    served = print_schema(build_hub_engine().schema) + "\n"
    assert served == CONTRACT.read_text(encoding="utf-8"), (
        "The /hub/graphql/ schema changed: review the change, then copy it to "
        "docs/contracts/hub.graphql."
    )


def _statements_for(hub: Hub, ctx: ServiceContext, users: int) -> int:
    tenant = make_account(ctx, parent=hub.host)
    others = [make_account(ctx, parent=hub.host) for _ in range(3)]
    for n in range(users):
        user = make_member(ctx, tenant, role="admin" if n == 0 else "view")
        # Every user also belongs to one of three other tenants, so `tenants` has work to do.
        make_member(ctx, others[n % 3], role="view", email=user.email)
    with statements(ctx) as sent:
        body = hub.call(TENANT_GRAPH, {"tenantId": tenant.id})
    assert "errors" not in body, body
    assert len(body["data"]["tenant"]["users"]) == users
    assert all(len(u["tenants"]) == 2 for u in body["data"]["tenant"]["users"])
    return len(sent)


def test_a_tenant_query_costs_the_same_for_5_and_50_users(hub: Hub, ctx: ServiceContext) -> None:
    few = _statements_for(hub, ctx, 5)
    many = _statements_for(hub, ctx, 50)
    assert few == many, f"{few} statements for 5 users, {many} for 50"
    assert many <= 30
