"""`Tenant.users` pages by cursor: today's answer without paging arguments (up to 1,000 users,
beyond which it is an error that says to page), `first`/`after` pages, and `usersConnection`
for the cursor, all in joining order and without one extra statement per page asked twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tenantry.domain.accounts import Account
from tenantry.domain.users import User, UserStatus
from tenantry.services.context import ServiceContext

from factories import make_account, statements, write_joined
from hub_support import Hub, only_error

USERS = """query ($tenantId: String!) { tenant(tenantId: $tenantId) { users { email } } }"""
PAGE = """query ($tenantId: String!, $first: Int, $after: String) {
  tenant(tenantId: $tenantId) {
    users(first: $first, after: $after) { email }
    usersConnection(first: $first, after: $after) { nodes { email } endCursor hasNextPage }
  }
}"""


def fill(ctx: ServiceContext, account: Account, count: int) -> list[str]:
    """`count` active members written through the repositories; number n joined n seconds
    after the first. Their addresses, in joining order."""
    start = ctx.now() - timedelta(days=1)
    users = [
        User(
            id=f"00000000-0000-4000-8000-{n:012d}",
            email=f"p{n:05d}@paging.example.com",
            status=UserStatus.ACTIVATED,
            created_at=start,
        )
        for n in range(count)
    ]
    write_joined(ctx, users, [(user, account) for user in users], start=start)
    return [user.email for user in users]


def emails(users: list[dict[str, Any]]) -> list[str]:
    return [user["email"] for user in users]


def test_without_paging_arguments_the_answer_is_every_user(hub: Hub, ctx: ServiceContext) -> None:
    tenant = make_account(ctx, parent=hub.host)
    added = fill(ctx, tenant, 1000)
    body = hub.call(USERS, {"tenantId": tenant.id})
    assert "errors" not in body, body
    assert emails(body["data"]["tenant"]["users"]) == added


def test_beyond_the_cap_the_answer_says_to_page(hub: Hub, ctx: ServiceContext) -> None:
    tenant = make_account(ctx, parent=hub.host)
    fill(ctx, tenant, 1001)
    error = only_error(hub.call(USERS, {"tenantId": tenant.id}))
    assert error["extensions"]["code"] == 400
    assert "more than 1,000 users" in error["message"]
    assert "users(first:" in error["message"]
    assert "usersConnection" in error["message"]


def test_pages_follow_each_other_to_the_end(hub: Hub, ctx: ServiceContext) -> None:
    tenant = make_account(ctx, parent=hub.host)
    added = fill(ctx, tenant, 1001)
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        body = hub.call(PAGE, {"tenantId": tenant.id, "first": 400, "after": after})
        assert "errors" not in body, body
        found = body["data"]["tenant"]
        connection = found["usersConnection"]
        assert emails(found["users"]) == emails(connection["nodes"])
        seen += emails(connection["nodes"])
        pages += 1
        if not connection["hasNextPage"]:
            assert connection["endCursor"] is None
            break
        after = connection["endCursor"]
    assert pages == 3
    assert seen == added


def test_users_and_its_connection_read_a_page_once(hub: Hub, ctx: ServiceContext) -> None:
    tenant = make_account(ctx, parent=hub.host)
    fill(ctx, tenant, 30)
    variables = {"tenantId": tenant.id, "first": 10}
    hub.call(PAGE, variables)  # warm up
    with statements(ctx) as both:
        hub.call(PAGE, variables)
    only_users = PAGE.replace(
        "usersConnection(first: $first, after: $after) { nodes { email } endCursor hasNextPage }",
        "",
    )
    with statements(ctx) as one:
        hub.call(only_users, variables)
    assert len(both) == len(one)


def test_the_default_page_is_100_and_bad_arguments_are_refused(
    hub: Hub, ctx: ServiceContext
) -> None:
    tenant = make_account(ctx, parent=hub.host)
    fill(ctx, tenant, 150)
    query = """query ($tenantId: String!, $after: String) { tenant(tenantId: $tenantId) {
      usersConnection(after: $after) { nodes { email } hasNextPage } } }"""
    first = hub.call(query, {"tenantId": tenant.id})["data"]["tenant"]["usersConnection"]
    assert (len(first["nodes"]), first["hasNextPage"]) == (100, True)
    one_field = """query ($tenantId: String!, $first: Int, $after: String) {
      tenant(tenantId: $tenantId) { users(first: $first, after: $after) { email } } }"""
    for variables, field in (
        ({"first": 0}, "first"),
        ({"first": 1001}, "first"),
        ({"first": 10, "after": "not-a-cursor"}, "after"),
        ({"after": "bm90IGEgY3Vyc29y"}, "after"),
    ):
        error = only_error(hub.call(one_field, {"tenantId": tenant.id, **variables}))
        assert error["extensions"]["code"] == 400, error
        assert f"`{field}`" in error["message"], error
