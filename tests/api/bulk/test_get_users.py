"""`GET /users`: every member rendered as the documents show them, and paging for large
accounts that leaves the default answer as it is."""

from __future__ import annotations

import base64
import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tenantry.domain.accounts import AccountStatus
from tenantry.entrypoints.bulk_rest import operations
from tenantry.services import accounts, counted_reads, quotas, roles
from tenantry.services.accounts import AccountChanges
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.ports import WriterBusy
from tenantry.storage.repositories.memberships import SqlMembershipRepository

from bulk_support import RATE_LIMIT_HEADERS, Bulk, new_user
from factories import OPERATOR, make_member, statements


def by_email(bulk: Bulk) -> dict[str, dict[str, object]]:
    response = bulk.get_users()
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"users"}
    return {u["email"]: u for u in body["users"]}


def test_the_documented_sample(bulk: Bulk) -> None:
    admin = make_member(bulk.ctx, bulk.account, role="admin", email="dan@example.com")
    with bulk.ctx.uow() as uow:
        user = uow.users.get(admin.id)
        user.name = "Dan Smith"
        user.last_login_at = datetime(2024, 4, 15, 23, 30, tzinfo=UTC)
        uow.users.update(user)

    assert by_email(bulk)["dan@example.com"] == {
        "username": "Dan Smith",
        "email": "dan@example.com",
        "role": "admin",
        "apps": "All & future",
        "media_sources": "All",
        "geos": "All",
        "last_login": "Apr 15, 2024",
        "department": "",
        "pending": False,
    }


def test_a_restricted_pending_user(bulk: Bulk) -> None:
    for app in ("my_app1", "my_app2"):
        accounts.add_app(bulk.ctx, OPERATOR, bulk.account.id, app)
    user = new_user(
        allow_access_to_all_future_apps=False,
        app_ids=["my_app1", "my_app2"],
        media_sources=["amplitude", "airship"],
        geos=["angola", "aruba"],
    )
    assert bulk.add([user]).status_code == 200
    assert by_email(bulk)[user["email"]] == {
        "username": "Demi Smith",
        "email": user["email"],
        "role": "marketing",
        "apps": "my_app1, my_app2",
        "media_sources": "amplitude, airship",
        "geos": "AO, AW",
        "last_login": "",
        "department": "MC Marketing",
        "pending": True,
    }


@pytest.mark.parametrize(
    ("fields", "apps"),
    [
        ({"allow_access_to_all_future_apps": False}, "All"),
        ({"allow_access_to_all_future_apps": False, "app_ids": []}, "None"),
    ],
)
def test_apps_without_future_apps(bulk: Bulk, fields: dict[str, Any], apps: str) -> None:
    user = new_user(**fields)
    assert bulk.add([user]).status_code == 200
    assert by_email(bulk)[user["email"]]["apps"] == apps


def test_role_names_are_the_ones_post_takes(bulk: Bulk) -> None:
    roles.create_custom_role(
        bulk.ctx, OPERATOR, bulk.account.id, key="analyst", display_name="Analyst", capabilities={}
    )
    names = ["team_manager", "contributor", "view", "analyst", "marketing_limited"]
    users = [new_user(role=name) for name in names]
    assert bulk.add(users).status_code == 200
    shown = by_email(bulk)
    assert [shown[u["email"]]["role"] for u in users] == names


def test_every_answer_carries_the_quota(bulk: Bulk) -> None:
    response = bulk.get_users()
    assert [response.headers[h] for h in RATE_LIMIT_HEADERS][:2] == ["100", "99"]


# -- paging ------------------------------------------------------------------------------------


def encoded(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def test_paging_walks_every_member_once(bulk: Bulk) -> None:
    added = [new_user() for _ in range(6)]
    assert bulk.add(added).status_code == 200
    everyone = [u["email"] for u in bulk.get_users().json()["users"]]
    assert len(everyone) == 7

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, object] = {"page_size": 3}
        if cursor:
            params["cursor"] = cursor
        response = bulk.get_users(**params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"users", "next_cursor"}
        seen += [u["email"] for u in body["users"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == everyone  # the same order as the default answer
    assert pages == 3


def test_more_members_than_the_cap_must_be_paged(
    bulk: Bulk, monkeypatch: pytest.MonkeyPatch
) -> None:

    assert bulk.add([new_user() for _ in range(2)]).status_code == 200
    monkeypatch.setattr(operations, "LIST_CAP", 3)
    assert len(bulk.get_users().json()["users"]) == 3
    monkeypatch.setattr(operations, "LIST_CAP", 2)
    refused = bulk.get_users()
    assert refused.status_code == 400
    assert "page_size" in refused.json()["message"]
    assert "next_cursor" in refused.json()["message"]
    assert len(bulk.get_users(page_size=2).json()["users"]) == 2


def test_a_page_as_large_as_the_account_has_no_next_page(bulk: Bulk) -> None:
    body = bulk.get_users(page_size=1000).json()
    assert body == {"users": body["users"], "next_cursor": None}
    assert len(body["users"]) == 1


@pytest.mark.parametrize("page_size", ["0", "1001", "x", "-1", "2.5", "٣"])
def test_a_bad_page_size(bulk: Bulk, page_size: str) -> None:
    response = bulk.get_users(page_size=page_size)
    assert response.status_code == 400
    assert response.json() == {"message": "page_size must be a whole number from 1 to 1000."}


@pytest.mark.parametrize(
    "cursor",
    [
        "nope",
        "%%%",
        encoded([]),
        encoded(["x", 1]),
        encoded(["2024-04-15T10:00:00", "0b9a3c1e-6f0e-4d55-9a43-5b1f2a1c9d10"]),  # naive
        encoded(["2024-04-15T10:00:00+00:00", "\x00"]),
        encoded({"a": 1}),
        # No UTC time at the calendar's edge (a review saw a 500 here).
        encoded(["0001-01-01T00:00:00+14:00", "0b9a3c1e-6f0e-4d55-9a43-5b1f2a1c9d10"]),
    ],
)
def test_a_bad_cursor(bulk: Bulk, cursor: str) -> None:
    response = bulk.get_users(cursor=cursor)
    assert response.status_code == 400
    assert response.json() == {"message": "The cursor is not one this API returned."}


def test_reading_costs_the_same_for_few_and_many_users(bulk: Bulk) -> None:
    def cost_of_reading() -> int:
        with statements(bulk.ctx) as executed:
            assert bulk.get_users().status_code == 200
        return len(executed)

    # The token's last use is written at most once a minute: now, not below; that write makes
    # the next call read the token again, and the one after reads it from the cache.
    bulk.get_users()
    bulk.get_users()
    few = cost_of_reading()
    assert bulk.add([new_user() for _ in range(20)]).status_code == 200
    assert bulk.add([new_user() for _ in range(20)]).status_code == 200
    assert cost_of_reading() == few


@pytest.mark.parametrize("params", [{}, {"page_size": "50"}])
def test_a_read_reads_no_custom_roles_nobody_holds(bulk: Bulk, params: dict[str, str]) -> None:
    bulk.add_analyst_role({"data": {"reports": "all"}})
    bulk.get_users(**params)
    bulk.get_users(**params)  # past the token's first reads (see above)
    with statements(bulk.ctx) as executed:
        assert bulk.get_users(**params).status_code == 200
    assert not [s for s in executed if "FROM custom_roles" in s], executed


def test_a_page_is_counted_checked_and_read_in_one_unit(bulk: Bulk) -> None:
    # Admitting the call in a unit of its own, then reading, took two transactions and read the
    # account's chain in each; the read's check now takes the chain the count's check read.
    bulk.get_users(page_size="50")
    bulk.get_users(page_size="50")  # past the token's first reads (see above)
    with statements(bulk.ctx) as executed:
        assert bulk.get_users(page_size="50").status_code == 200
    assert len([s for s in executed if s.startswith("BEGIN")]) == 1, executed
    assert len([s for s in executed if s.startswith("WITH RECURSIVE chain")]) == 1, executed


def test_a_page_whose_read_fails_is_not_counted(
    bulk: Bulk, monkeypatch: pytest.MonkeyPatch
) -> None:
    remaining = int(bulk.get_users(page_size="50").headers["X-RateLimit-Remaining"])

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("the read broke")

    monkeypatch.setattr(counted_reads, "members_page_in", broken)
    assert bulk.get_users(page_size="50").status_code == 500
    monkeypatch.undo()
    after = bulk.get_users(page_size="50")
    assert int(after.headers["X-RateLimit-Remaining"]) == remaining - 1


def test_an_account_deactivated_after_the_calls_admission_is_not_read(
    bulk: Bulk, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every member is read after a count in its own unit (a page, in the count's): the read
    # checks its right on the account's chain as it reads, not on the chain the admission
    # read in its own (committed) transaction a moment before.
    admit = quotas.admit_batch_call

    def admit_then_deactivate(ctx: ServiceContext, actor: Actor) -> quotas.Quota:
        quota = admit(ctx, actor)
        accounts.update_account(
            bulk.ctx, OPERATOR, bulk.account.id, AccountChanges(status=AccountStatus.DEACTIVATED)
        )
        return quota

    monkeypatch.setattr(operations.quotas, "admit_batch_call", admit_then_deactivate)
    response = bulk.get_users()
    assert response.status_code == 401, response.text
    assert "users" not in response.json()


def test_reading_every_member_holds_up_no_write(
    bulk: Bulk, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On SQLite a unit that writes holds the database's one writer: every member (up to
    # LIST_CAP, tens of milliseconds) is read outside the count's unit, so another account's
    # write that will not wait is made during the read.
    made: list[str] = []
    members_of = SqlMembershipRepository.members

    def members_then_write(self: SqlMembershipRepository, *a: Any, **k: Any) -> Any:
        rows = members_of(self, *a, **k)
        if not made:

            def elsewhere() -> None:
                try:
                    with bulk.ctx.uow(waits=False) as uow:
                        expires = bulk.ctx.now() + timedelta(days=1)
                        uow.counters.increment(f"elsewhere:{bulk.world.b.id}", "w", expires)
                    made.append("written")
                except WriterBusy:
                    made.append("the writer was busy")

            other = threading.Thread(target=elsewhere)
            other.start()
            other.join()
        return rows

    monkeypatch.setattr(SqlMembershipRepository, "members", members_then_write)
    assert bulk.get_users().status_code == 200
    assert made == ["written"]
