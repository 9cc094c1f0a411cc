"""What must hold across processes, on two real servers sharing one PostgreSQL database: called
at once, they admit exactly the daily quota's number of calls between them, and run a change
sent to both with one Idempotency-Key once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tenantry.entrypoints.bulk_rest import PREFIX
from tenantry.services import credentials, members
from tenantry.services.context import ServiceContext

from factories import OPERATOR, World
from serving import running_servers

QUOTA = 25
CALLS = 2 * QUOTA + 10
ALL_APPS = {"allow_access_to_all_future_apps": True}


@pytest.fixture
def servers(database_url: str, tmp_path: Path) -> Iterator[list[str]]:
    with running_servers(
        database_url, tmp_path, {"TENANTRY_BULK_DAILY_QUOTA": str(QUOTA)}
    ) as bases:
        yield bases


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_servers_share_one_exact_quota(
    servers: list[str], ctx: ServiceContext, world: World
) -> None:
    _, token, _ = credentials.create_api_token(
        ctx, OPERATOR, world.a.id, user_email=world.a_admin.email
    )
    headers = {"Authorization": f"Bearer {token}"}
    clients = [httpx.Client(base_url=base, headers=headers, timeout=30) for base in servers]
    paths = ["/users", "/roles"]

    def call(number: int) -> tuple[int, int]:
        response = clients[number % 2].get(PREFIX + paths[number // 2 % 2])
        return response.status_code, int(response.headers["x-ratelimit-remaining"])

    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(call, range(CALLS)))
    finally:
        for client in clients:
            client.close()

    assert Counter(status for status, _ in answers) == {200: QUOTA, 400: CALLS - QUOTA}
    # Every admitted call saw its own count: the counter never gave one number out twice.
    admitted = sorted(remaining for status, remaining in answers if status == 200)
    assert admitted == list(range(QUOTA))
    assert all(remaining == 0 for status, remaining in answers if status == 400)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_one_idempotency_key_sent_to_two_servers_adds_once(
    servers: list[str], ctx: ServiceContext, world: World
) -> None:
    _, token, _ = credentials.create_api_token(
        ctx, OPERATOR, world.a.id, user_email=world.a_admin.email
    )
    email = "once@example.com"
    body = [{"email": email, "username": "Ada Lovelace", "role": "admin"} | ALL_APPS]
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "add-ada-once"}
    clients = [httpx.Client(base_url=base, headers=headers, timeout=30) for base in servers]

    def add(number: int) -> httpx.Response:
        return clients[number % 2].post(PREFIX + "/users", json=body)

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(add, range(8)))
        first = [
            a for a in answers if a.status_code == 200 and "idempotent-replayed" not in a.headers
        ]
        assert len(first) == 1, [(a.status_code, a.text) for a in answers]
        for answer in answers:  # the others waited on it (409) or got its answer
            assert answer.status_code == 409 or answer.content == first[0].content, answer.text
        # Once it has answered, either server answers it again.
        for client in clients:
            again = add(clients.index(client))
            assert again.headers["idempotent-replayed"] == "true"
            assert again.content == first[0].content
    finally:
        for client in clients:
            client.close()
    everyone = members.list_all_members(ctx, OPERATOR, world.a.id)
    assert [m.user.email for m in everyone].count(email) == 1
