"""The API faces run at most `Settings.api_threads` calls into the core at once per process
and lane, the others waiting their turn; reads, changes and long calls (bulk, network, SCIM
Bulk) each have a lane (`entrypoints.http.threads`)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pytest

from tenantry.app import Composition
from tenantry.entrypoints import token
from tenantry.entrypoints.bulk_rest import PREFIX as BULK_PREFIX
from tenantry.entrypoints.bulk_rest import operations as bulk_operations
from tenantry.entrypoints.server import create_http_app
from tenantry.services.credentials import IssuedAccessToken

CALLS = 8
FORM = {"client_id": "c", "client_secret": "s"}


class Inside:
    """Counts the calls inside the core at once, each taking `seconds`."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.now, self.most = seconds, 0, 0
        self.lock = threading.Lock()

    def enter(self) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(self.seconds)  # in a worker thread: the event loop goes on admitting calls
        with self.lock:
            self.now -= 1


def serve(composition: Composition, threads: int) -> httpx.AsyncClient:
    composition.settings.api_threads = threads
    app = create_http_app(composition.context, readiness=composition.check_database)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def slow_tokens(monkeypatch: pytest.MonkeyPatch, seconds: float) -> Inside:
    inside = Inside(seconds)

    def issue(*_: Any, **__: Any) -> IssuedAccessToken:
        inside.enter()
        return IssuedAccessToken(token="t", expires_in=60)

    monkeypatch.setattr(token.credentials, "issue_access_token", issue)
    return inside


def most_at_once(composition: Composition, monkeypatch: pytest.MonkeyPatch, threads: int) -> int:
    """How many of `CALLS` concurrent token requests were inside the core at the same time."""
    inside = slow_tokens(monkeypatch, 0.05)

    async def burst() -> list[int]:
        async with serve(composition, threads) as client:
            answers = await asyncio.gather(
                *(client.post(token.PATH, data=FORM) for _ in range(CALLS))
            )
        return [answer.status_code for answer in answers]

    assert asyncio.run(burst()) == [200] * CALLS
    return inside.most


def test_calls_beyond_the_setting_wait_their_turn(
    composition: Composition, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert most_at_once(composition, monkeypatch, threads=1) == 1


def test_as_many_calls_as_the_setting_run_at_once(
    composition: Composition, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert most_at_once(composition, monkeypatch, threads=3) == 3


def test_long_calls_hold_up_no_quick_one(
    composition: Composition, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one thread per lane, a token is issued while a bulk call is still at work."""
    bulk = Inside(0.5)
    finished: list[str] = []

    def slow_serve(*_: Any, **__: Any) -> Any:
        bulk.enter()
        finished.append("bulk")
        raise PermissionError  # answered as a 500: what it answers does not matter here

    for operation in ("serve", "get_users"):  # `GET /users` counts its call as it reads
        monkeypatch.setattr(bulk_operations, operation, slow_serve)
    slow_tokens(monkeypatch, 0.0)

    async def both() -> None:
        async with serve(composition, threads=1) as client:
            long = asyncio.ensure_future(client.get(BULK_PREFIX + "/users"))
            while bulk.now == 0:  # the bulk call holds its lane's one thread
                await asyncio.sleep(0.01)
            quick = await client.post(token.PATH, data=FORM)
            assert quick.status_code == 200
            finished.append("token")
            await long

    asyncio.run(both())
    assert finished == ["token", "bulk"]


def test_changes_hold_up_no_read(composition: Composition, monkeypatch: pytest.MonkeyPatch) -> None:
    """With one thread per lane, a query is answered while a token is still being issued
    (which, on SQLite, may wait for the single writer)."""
    issuing = slow_tokens(monkeypatch, 0.5)
    finished: list[str] = []

    async def both() -> None:
        async with serve(composition, threads=1) as client:
            change = asyncio.ensure_future(client.post(token.PATH, data=FORM))
            while issuing.now == 0:
                await asyncio.sleep(0.01)
            query = await client.post(
                "/hub/graphql/",
                json={"query": "{ __typename }"},
                headers={"Authorization": "Bearer not-a-token"},
            )
            assert query.status_code == 401  # its caller was checked in the lane of reads
            finished.append("query")
            assert (await change).status_code == 200
            finished.append("token")

    asyncio.run(both())
    assert finished == ["query", "token"]
