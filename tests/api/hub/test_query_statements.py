"""What the documented tenant query costs the database: three statements in one unit of work,
however many users and roles, and a fourth for the roles of accounts' own that it shows (it
took eleven in four before they were read as rows in one go, and four in two before the
tenant was read with its users), and nothing to authenticate a token read less than a second
ago; and nothing of the members for a caller who may not see them."""

from __future__ import annotations

from typing import Any

import pytest

from tenantry.domain.accounts import Account, AccountKind
from tenantry.domain.errors import Forbidden
from tenantry.services import accounts, members, roles, tenant_members
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.members import NewMember

from factories import World, as_user, make_member, statements
from hub_support import Hub

OPERATOR = Actor.system(face="test")
REPORTS = {"data": {"reports": "all"}}
QUERY = """query ($tenantId: String!) {
  tenant(tenantId: $tenantId) {
    id name
    users { id email roles { name displayName } }
    availableRoles { name displayName }
  }
}"""


def tenant_and_sibling(hub: Hub, ctx: ServiceContext) -> tuple[Account, Account]:
    tenant, sibling = (
        accounts.create_account(
            ctx, OPERATOR, name=name, kind=AccountKind.ADVERTISER, parent_id=hub.host.id
        )
        for name in ("Tenant", "Sibling")
    )
    return tenant, sibling


def add_people(ctx: ServiceContext, tenant: Account, sibling: Account, start: int, n: int) -> None:
    for number in range(start, start + n):
        person = make_member(ctx, tenant, role="view", email=f"p{number}@example.com")
        members.add_member(ctx, OPERATOR, sibling.id, NewMember(person.email, "view"))


def test_the_tenant_query_takes_three_statements_for_1_or_20_users(
    hub: Hub, ctx: ServiceContext
) -> None:
    tenant, sibling = tenant_and_sibling(hub, ctx)
    counts = []
    for start, n in ((0, 1), (1, 19)):
        add_people(ctx, tenant, sibling, start, n)
        hub.call(QUERY, {"tenantId": tenant.id})  # the token read again after the writes
        with statements(ctx) as seen:
            body = hub.call(QUERY, {"tenantId": tenant.id})
        assert "errors" not in body, body
        assert len(body["data"]["tenant"]["users"]) == start + n
        assert all(len(u["roles"]) == 2 for u in body["data"]["tenant"]["users"])
        counts.append(len([s for s in seen if not _authenticating(s)]))
    assert counts == [3, 3]


def test_roles_of_the_accounts_own_are_read_in_one_more_statement_where_shown(
    hub: Hub, ctx: ServiceContext
) -> None:
    tenant, sibling = tenant_and_sibling(hub, ctx)
    add_people(ctx, tenant, sibling, 0, 3)

    def query() -> tuple[dict[str, Any], int]:
        hub.call(QUERY, {"tenantId": tenant.id})
        with statements(ctx) as seen:
            body = hub.call(QUERY, {"tenantId": tenant.id})
        assert "errors" not in body, body
        return body["data"]["tenant"], len([s for s in seen if not _authenticating(s)])

    # The sibling's own role, held by nobody: neither shown nor read. (The CAPIG schema names
    # a role by its key, kind and account.)
    roles.create_custom_role(
        ctx, OPERATOR, sibling.id, key="auditor", display_name="Auditor", capabilities=REPORTS
    )
    assert query()[1] == 3
    # The tenant's own role, held by nobody: offered, so read.
    roles.create_custom_role(
        ctx, OPERATOR, tenant.id, key="analyst", display_name="Analyst", capabilities=REPORTS
    )
    shown, count = query()
    assert count == 4
    assert "analyst" in {role["displayName"] for role in shown["availableRoles"]}
    # The sibling's role, held by a member: shown among their roles, in the same statement.
    person = next(u for u in shown["users"] if u["email"] == "p1@example.com")
    members.change_role(ctx, OPERATOR, sibling.id, person["id"], "auditor")
    shown, count = query()
    assert count == 4
    person = next(u for u in shown["users"] if u["email"] == "p1@example.com")
    assert f"advertiser-auditor-{sibling.id}" in {role["name"] for role in person["roles"]}


def _authenticating(statement: str) -> bool:
    """The token's own statements, which are not the query's: its read, once the cache's
    second has passed on a slow machine, and its last use, written by this call when the
    warming call's write met the outbox sender's (`credentials._touch` never waits).
    `tests/integration/test_credential_cache.py` counts those."""
    return statement.startswith("BEGIN") or any(
        table in statement for table in ("access_tokens", "api_accounts")
    )


def test_a_caller_who_may_not_see_the_members_reads_none_of_them(
    ctx: ServiceContext, world: World
) -> None:
    for n in range(5):
        make_member(ctx, world.a, role="view", email=f"hidden{n}@example.com")
    with statements(ctx) as seen, pytest.raises(Forbidden):
        tenant_members.tenant_members(ctx, as_user(world.b_admin), world.a.id, at_most=10)
    assert seen, "the right was not checked"
    assert not [s for s in seen if "users.email" in s], seen


def test_roles_users_share_answer_each_selection_its_own(hub: Hub, ctx: ServiceContext) -> None:
    """Users holding the same roles share one list of them, and the answer keeps one answer
    per role: a field selecting other fields of the same roles (an alias) still gets its own
    selection, not the answer made for the first."""
    tenant, sibling = tenant_and_sibling(hub, ctx)
    add_people(ctx, tenant, sibling, 0, 3)
    body = hub.call(
        """query ($tenantId: String!) {
          tenant(tenantId: $tenantId) {
            users { email roles { name } }
            again: users { email roles { displayName } }
          }
        }""",
        {"tenantId": tenant.id},
    )
    assert "errors" not in body, body
    shown = body["data"]["tenant"]
    assert len(shown["users"]) == len(shown["again"]) == 3
    for user in shown["users"]:
        assert [set(role) for role in user["roles"]] == [{"name"}, {"name"}]
    for user in shown["again"]:
        assert [role["displayName"] for role in user["roles"]] == ["view", "view"]
