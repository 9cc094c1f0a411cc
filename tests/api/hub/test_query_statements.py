"""What the documented tenant query costs the database: three statements in one read
transaction, however many users and roles (it took eleven in four before they were read as
rows in one go, and four in two before the tenant was read with its users), and nothing to
authenticate a token read less than a second ago."""

from __future__ import annotations

from tenantry.domain.accounts import Account, AccountKind
from tenantry.services import accounts, members
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.members import NewMember

from factories import make_member, statements
from hub_support import Hub

OPERATOR = Actor.system(face="test")
QUERY = """query ($tenantId: String!) {
  tenant(tenantId: $tenantId) {
    id name
    users { id email roles { name displayName } }
    availableRoles { name displayName }
  }
}"""


def add_people(ctx: ServiceContext, tenant: Account, sibling: Account, start: int, n: int) -> None:
    for number in range(start, start + n):
        person = make_member(ctx, tenant, role="view", email=f"p{number}@example.com")
        members.add_member(ctx, OPERATOR, sibling.id, NewMember(person.email, "view"))


def test_the_tenant_query_takes_three_statements_for_1_or_20_users(
    hub: Hub, ctx: ServiceContext
) -> None:
    tenant, sibling = (
        accounts.create_account(
            ctx, OPERATOR, name=name, kind=AccountKind.ADVERTISER, parent_id=hub.host.id
        )
        for name in ("Tenant", "Sibling")
    )
    counts = []
    for start, n in ((0, 1), (1, 19)):
        add_people(ctx, tenant, sibling, start, n)
        hub.call(QUERY, {"tenantId": tenant.id})  # the token read again after the writes
        with statements(ctx) as seen:
            body = hub.call(QUERY, {"tenantId": tenant.id})
        assert "errors" not in body, body
        assert len(body["data"]["tenant"]["users"]) == start + n
        assert all(len(u["roles"]) == 2 for u in body["data"]["tenant"]["users"])
        counts.append(len(seen))
    assert counts == [3, 3]
