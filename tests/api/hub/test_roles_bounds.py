"""A person's roles are listed up to `directory.ROLES_LISTED` accounts: someone who holds roles
in more is shown without them (`roles`, `tenants`, `defaultTenantId`, `canBeDeleted` answer an
error that says so), and no listing reads more than one membership beyond the bound for them.
The bound is set low here; the rule is the same at 1,000."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta
from typing import Any

import pytest

from tenantry.domain.accounts import Account
from tenantry.domain.users import User, UserStatus
from tenantry.services import directory
from tenantry.services.context import ServiceContext
from tenantry.storage.repositories import placements

from factories import make_account, write_joined
from hub_support import Hub

LISTED = 2
_people = itertools.count()
TENANT = """query ($tenantId: String!) { tenant(tenantId: $tenantId) {
  users { email roles { name } tenants { id } defaultTenantId canBeDeleted } } }"""
USER = """query ($userId: String!) { user(userId: $userId) {
  email roles { name } tenants { id } canBeDeleted } }"""


@pytest.fixture(autouse=True)
def few_roles_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(directory, "ROLES_LISTED", LISTED)


def person(ctx: ServiceContext, email: str, accounts: list[Account]) -> str:
    """An active user who joined `accounts` in that order, a second apart, as `view`; each
    person made joins after the one made before."""
    start = ctx.now() - timedelta(days=1) + timedelta(hours=next(_people))
    user = User(
        id=str(uuid.uuid4()),
        email=email,
        status=UserStatus.ACTIVATED,
        created_at=start,
    )
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


def test_who_holds_too_many_is_listed_without_their_roles(
    hub: Hub, ctx: ServiceContext, tenants: list[Account]
) -> None:
    person(ctx, "few@roles.example", tenants[:1])
    person(ctx, "many@roles.example", tenants)  # one more than the bound
    body = hub.call(TENANT, {"tenantId": tenants[0].id})
    users = body["data"]["tenant"]["users"]
    assert [u["email"] for u in users] == ["few@roles.example", "many@roles.example"]
    few, many = users
    assert [t["id"] for t in few["tenants"]] == [tenants[0].id]
    assert few["canBeDeleted"] is True
    assert many == {
        "email": "many@roles.example",
        "roles": None,
        "tenants": None,
        "defaultTenantId": None,
        "canBeDeleted": None,
    }
    errors = errors_by_path(body)
    fields = ("roles", "tenants", "defaultTenantId", "canBeDeleted")
    assert set(errors) == {("tenant", "users", 1, field) for field in fields}
    for message in errors.values():
        assert "holds roles in more than" in message
        assert "each account's own list of users" in message


def test_a_user_read_alone_who_holds_too_many_is_shown_without_their_roles(
    hub: Hub, ctx: ServiceContext, tenants: list[Account]
) -> None:
    many = person(ctx, "many@roles.example", tenants)
    few = person(ctx, "few@roles.example", tenants[1:])
    body = hub.call(USER, {"userId": many})
    assert body["data"]["user"]["email"] == "many@roles.example"
    assert set(errors_by_path(body)) == {
        ("user", field) for field in ("roles", "tenants", "canBeDeleted")
    }
    body = hub.call(USER, {"userId": few})
    assert "errors" not in body, body
    assert [t["id"] for t in body["data"]["user"]["tenants"]] == [t.id for t in tenants[1:]]


@pytest.mark.parametrize("rows_per_person", [8, 1], ids=["read-plainly", "ranked"])
def test_listings_read_each_persons_first_memberships_up_to_the_bound(
    hub: Hub,
    ctx: ServiceContext,
    tenants: list[Account],
    monkeypatch: pytest.MonkeyPatch,
    rows_per_person: int,
) -> None:
    # With 1 row a person read plainly, the 7 memberships below are more: ranked instead.
    monkeypatch.setattr(placements, "ROWS_PER_PERSON", rows_per_person)
    extra = [make_account(ctx) for _ in range(4)]
    many = person(ctx, "many@roles.example", [*tenants, *extra])
    few = person(ctx, "few@roles.example", tenants[:1])
    with ctx.uow(readonly=True) as uow:
        placed = uow.memberships.member_placements(tenants[0].id, limit=10, per_user=3)
        first = uow.memberships.for_users([many, few], per_user=3)
        every = uow.memberships.for_users([many])[many]
    assert [m.account_id for m in every] == [a.id for a in [*tenants, *extra]]
    assert [m.account_id for m in first[many]] == [a.id for a in tenants[:3]]
    assert [m.account_id for m in first[few]] == [tenants[0].id]
    assert [(row[0], row[4]) for row in placed] == [
        *((many, a.id) for a in tenants[:3]),
        (few, tenants[0].id),
    ]
