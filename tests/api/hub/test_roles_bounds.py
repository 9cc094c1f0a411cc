"""A person's roles are listed up to `hub_loaders.ROLES_LISTED` accounts the caller may see:
someone who holds roles in more of them is shown without `roles` and `tenants`, which answer an
error that says so; roles in accounts the caller cannot see count for nothing. The bound is set
low here; the rule is the same at 1,000."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta
from typing import Any

import pytest

from tenantry.domain.accounts import Account, AccountKind
from tenantry.domain.users import User, UserStatus
from tenantry.entrypoints.graphql import hub_loaders
from tenantry.services import credentials
from tenantry.services.context import Actor, ServiceContext

from factories import make_account, write_joined
from hub_support import Hub, bearer_for

LISTED = 2
OPERATOR = Actor.system(face="test")
_people = itertools.count()
TENANT = """query ($tenantId: String!) { tenant(tenantId: $tenantId) {
  users { email roles { name } tenants { id } defaultTenantId canBeDeleted } } }"""
USER = """query ($userId: String!) { user(userId: $userId) {
  email roles { name } tenants { id } canBeDeleted } }"""


@pytest.fixture(autouse=True)
def few_roles_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_loaders, "ROLES_LISTED", LISTED)


def person(ctx: ServiceContext, email: str, accounts: list[Account]) -> str:
    """An active user who joined `accounts` in that order, a second apart, as `view`; each
    person made joins after the one made before."""
    start = ctx.now() - timedelta(days=1) + timedelta(hours=next(_people))
    user = User(id=str(uuid.uuid4()), email=email, status=UserStatus.ACTIVATED, created_at=start)
    write_joined(ctx, [user], [(user, account) for account in accounts], start=start)
    return user.id


@pytest.fixture
def tenants(hub: Hub, ctx: ServiceContext) -> list[Account]:
    return [make_account(ctx, parent=hub.host, name=f"T{n}") for n in range(LISTED + 1)]


def errors_by_path(body: dict[str, Any]) -> dict[tuple[Any, ...], str]:
    return {tuple(error["path"]): error["message"] for error in body.get("errors", [])}


def test_a_tenants_users_show_the_roles_of_who_holds_few(
    hub: Hub, ctx: ServiceContext, tenants: list[Account]
) -> None:
    person(ctx, "few@roles.example", tenants[:LISTED])  # exactly the bound: listed
    body = hub.call(TENANT, {"tenantId": tenants[0].id})
    assert "errors" not in body, body
    (user,) = body["data"]["tenant"]["users"]
    assert [t["id"] for t in user["tenants"]] == [t.id for t in tenants[:LISTED]]
    assert len(user["roles"]) == LISTED
    assert user["defaultTenantId"] == tenants[0].id
    assert user["canBeDeleted"] is True


def test_who_holds_too_many_roles_the_caller_sees_is_listed_without_them(
    hub: Hub, ctx: ServiceContext, tenants: list[Account]
) -> None:
    person(ctx, "few@roles.example", tenants[:1])
    person(ctx, "many@roles.example", tenants)  # one more than the bound, all seen
    body = hub.call(TENANT, {"tenantId": tenants[0].id})
    users = body["data"]["tenant"]["users"]
    assert [u["email"] for u in users] == ["few@roles.example", "many@roles.example"]
    few, many = users
    assert [t["id"] for t in few["tenants"]] == [tenants[0].id]
    assert many == {
        "email": "many@roles.example",
        "roles": None,
        "tenants": None,
        "defaultTenantId": tenants[0].id,  # one value, not a list: still answered
        "canBeDeleted": True,
    }
    errors = errors_by_path(body)
    assert set(errors) == {("tenant", "users", 1, "roles"), ("tenant", "users", 1, "tenants")}
    for message in errors.values():
        assert "holds roles in more than" in message
        assert "accounts you can see" in message


def test_a_user_read_alone_who_holds_too_many_is_shown_without_their_roles(
    hub: Hub, ctx: ServiceContext, tenants: list[Account]
) -> None:
    many = person(ctx, "many@roles.example", tenants)
    few = person(ctx, "few@roles.example", tenants[1:])
    body = hub.call(USER, {"userId": many})
    assert body["data"]["user"]["email"] == "many@roles.example"
    assert set(errors_by_path(body)) == {("user", "roles"), ("user", "tenants")}
    body = hub.call(USER, {"userId": few})
    assert "errors" not in body, body
    assert [t["id"] for t in body["data"]["user"]["tenants"]] == [t.id for t in tenants[1:]]


@pytest.mark.parametrize("hidden", [0, 1, LISTED + 3])
def test_roles_in_accounts_the_caller_cannot_see_change_nothing(
    hub: Hub, ctx: ServiceContext, hidden: int
) -> None:
    """The bound counts what the caller sees: an admin of one account learns nothing of a
    member's roles elsewhere, their number included."""
    mine = make_account(ctx, parent=hub.host, name="Mine")
    other = make_account(ctx, kind=AccountKind.PARTNER, name="Another partner")
    theirs = [make_account(ctx, parent=other) for _ in range(hidden)]
    _, secret = credentials.create_api_account(ctx, OPERATOR, mine.id, "mine", role_key="admin")
    token = bearer_for(hub.client, "mine", secret)
    member = person(ctx, "member@roles.example", [mine, *theirs])
    listed = hub.call(TENANT, {"tenantId": mine.id}, token=token)
    alone = hub.call(USER, {"userId": member}, token=token)
    assert "errors" not in listed, listed
    assert "errors" not in alone, alone
    (user,) = listed["data"]["tenant"]["users"]
    assert [t["id"] for t in user["tenants"]] == [mine.id]
    assert [t["id"] for t in alone["data"]["user"]["tenants"]] == [mine.id]
    assert len(user["roles"]) == 1
