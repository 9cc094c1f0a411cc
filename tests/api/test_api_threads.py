"""The API faces run at most `Settings.api_threads` calls into the core at once per process;
the others wait their turn (`entrypoints.http.threads`)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pytest

from tenantry.app import Composition
from tenantry.entrypoints import token
from tenantry.entrypoints.server import create_http_app
from tenantry.services.credentials import IssuedAccessToken

CALLS = 8


def most_at_once(composition: Composition, monkeypatch: pytest.MonkeyPatch, threads: int) -> int:
    """How many of `CALLS` concurrent token requests were inside the core at the same time."""
    composition.settings.api_threads = threads
    inside, most, lock = 0, 0, threading.Lock()

    def slow_issue(*_: Any, **__: Any) -> IssuedAccessToken:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        time.sleep(0.05)  # in a worker thread: the event loop goes on admitting requests
        with lock:
            inside -= 1
        return IssuedAccessToken(token="t", expires_in=60)

    monkeypatch.setattr(token.credentials, "issue_access_token", slow_issue)
    app = create_http_app(composition.context, readiness=composition.check_database)

    async def burst() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            form = {"client_id": "c", "client_secret": "s"}
            answers = await asyncio.gather(
                *(client.post(token.PATH, data=form) for _ in range(CALLS))
            )
        return [answer.status_code for answer in answers]

    assert asyncio.run(burst()) == [200] * CALLS
    return most


def test_calls_beyond_the_setting_wait_their_turn(
    composition: Composition, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert most_at_once(composition, monkeypatch, threads=1) == 1


def test_as_many_calls_as_the_setting_run_at_once(
    composition: Composition, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert most_at_once(composition, monkeypatch, threads=3) == 3
