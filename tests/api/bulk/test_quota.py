"""The daily quota: calls per account per UTC day across the four operations, counted in the
database; over it, 400 `{"message"}`; every answer after authentication carries the figures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tenantry.services.context import ServiceContext

from bulk_support import RATE_LIMIT_HEADERS, Bulk, new_user

NOON = datetime(2024, 4, 15, 12, 0, tzinfo=UTC)
NEXT_MIDNIGHT = int(datetime(2024, 4, 16, tzinfo=UTC).timestamp())
OVER = (
    "Exceeded the limit of 3 API calls a day for this account (Get users, Add users, Delete "
    "users and Get roles together). The limit resets at 00:00 UTC."
)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(ctx: ServiceContext) -> Clock:
    clock = Clock(NOON)
    ctx.clock = clock
    return clock


@pytest.fixture
def small_quota(ctx: ServiceContext) -> int:
    ctx.settings = ctx.settings.model_copy(update={"member_batch_calls_per_day": 3})
    return 3


def figures(response: httpx.Response) -> tuple[int, int, int]:
    limit, remaining, reset = (int(response.headers[h]) for h in RATE_LIMIT_HEADERS)
    return limit, remaining, reset


def test_headers_count_down(bulk: Bulk, clock: Clock) -> None:
    seen = [figures(bulk.get_users()) for _ in range(3)]
    assert seen == [(100, 99, NEXT_MIDNIGHT), (100, 98, NEXT_MIDNIGHT), (100, 97, NEXT_MIDNIGHT)]


def test_the_four_operations_share_the_quota(bulk: Bulk, clock: Clock, small_quota: int) -> None:
    calls: list[Callable[[], httpx.Response]] = [
        bulk.get_roles,
        lambda: bulk.add([new_user()]),
        bulk.get_users,
        lambda: bulk.delete("nobody@example.com"),
    ]
    answers = [call() for call in calls]
    assert [a.status_code for a in answers] == [200, 200, 200, 400]
    assert [figures(a)[1] for a in answers] == [2, 1, 0, 0]
    assert answers[3].json() == {"message": OVER}


def test_over_the_quota_nothing_is_done(bulk: Bulk, clock: Clock, small_quota: int) -> None:
    for _ in range(small_quota):
        assert bulk.get_roles().status_code == 200
    user = new_user()
    response = bulk.add([user])
    assert response.status_code == 400
    assert response.json() == {"message": OVER}
    assert figures(response) == (3, 0, NEXT_MIDNIGHT)
    assert user["email"] not in bulk.emails()


def test_failed_calls_count_too(bulk: Bulk, clock: Clock, small_quota: int) -> None:
    assert bulk.add([new_user("bad")]).status_code == 422
    assert bulk.request("POST", "/users", content=b"{").status_code == 400
    assert bulk.delete("nobody@example.com").status_code == 422
    assert bulk.get_users().status_code == 400


def test_the_quota_resets_at_midnight_utc(bulk: Bulk, clock: Clock, small_quota: int) -> None:
    clock.now = datetime(2024, 4, 15, 23, 59, 59, tzinfo=UTC)
    for _ in range(small_quota):
        bulk.get_roles()
    assert bulk.get_roles().status_code == 400
    clock.now += timedelta(seconds=1)
    response = bulk.get_roles()
    assert response.status_code == 200
    assert figures(response) == (3, 2, int(datetime(2024, 4, 17, tzinfo=UTC).timestamp()))


def test_each_account_has_its_own_quota(bulk: Bulk, clock: Clock, small_quota: int) -> None:
    for _ in range(small_quota + 1):
        bulk.get_roles()
    other = bulk.token_for(bulk.world.b)
    response = bulk.request("GET", "/roles", token=other)
    assert response.status_code == 200
    assert figures(response)[1] == 2


def test_several_tokens_of_one_account_share_its_quota(
    bulk: Bulk, clock: Clock, small_quota: int
) -> None:
    second = bulk.token_for(bulk.account)
    assert bulk.get_roles().status_code == 200
    assert bulk.request("GET", "/roles", token=second).status_code == 200
    assert figures(bulk.get_roles())[1] == 0
    assert bulk.request("GET", "/roles", token=second).status_code == 400


def test_unauthenticated_calls_are_not_counted(bulk: Bulk, clock: Clock) -> None:
    for token in ("", "tnt_nope_nope", "Basic abc"):
        response = bulk.request("GET", "/users", headers={"Authorization": token})
        assert response.status_code == 401
        assert set(response.json()) == {"message"}
        assert not any(h in response.headers for h in RATE_LIMIT_HEADERS)
    assert figures(bulk.get_users())[1] == 99


def test_a_member_who_is_not_an_admin_uses_none_of_it(bulk: Bulk, clock: Clock) -> None:
    bulk.get_users()
    viewer = bulk.token_for(bulk.account, role="view")
    response = bulk.request("GET", "/users", token=viewer)
    assert response.status_code == 401
    assert figures(response) == (100, 99, NEXT_MIDNIGHT)  # told where the account stands
    assert figures(bulk.get_users())[1] == 98
