"""The mail server down, then hanging, while two servers send invitations: every call answers at
once (the mail waits in the outbox), and once a working mail server is back every invitation
arrives, once.

The hanging receiver is a mail server that accepts the connection and never says a word: what
leaves the process today is mail (webhooks, when they come, go through the same outbox)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from fault_support import (
    FIGURES,
    Server,
    fresh_database,
    hanging_receiver,
    mail_settings,
    orphans,
    rows,
    running,
    seed,
    server_env,
    services_on,
)
from mailserver import Inbox, free_port
from pgcluster import PostgresCluster

CALLS_PER_PHASE = 8
USERS_PER_CALL = 3
SMTP_TIMEOUT_SECONDS = 20
ANSWER_WITHIN_SECONDS = 5.0
"""Every call answers well before the mail server's timeout: nothing waits on it."""
DELIVERED_WITHIN_SECONDS = 120
"""A failed attempt is tried again 30 s later, then a minute later, and so on."""


@contextmanager
def mail_server_on(port: int) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def deployment(fault_cluster: PostgresCluster, tmp_path: Path) -> Any:
    smtp_port = free_port()
    with fresh_database(fault_cluster, "mail") as url, services_on(url) as ctx:
        tenancy = seed(ctx)
        env = server_env(
            url,
            bulk_daily_quota="1000000",
            **mail_settings(smtp_port, smtp_timeout_seconds=str(SMTP_TIMEOUT_SECONDS)),
        )
        servers = [Server(name, env, tmp_path / f"{name}.log") for name in ("one", "two")]
        with running(servers):
            yield url, tenancy, servers, smtp_port


def test_invitations_wait_out_a_mail_server_that_is_down_or_hangs(deployment: Any) -> None:
    url, tenancy, servers, smtp_port = deployment
    auth = {"Authorization": f"Bearer {tenancy.api_token}"}
    numbers = iter(range(1_000_000))

    def invite(server: Server) -> float:
        n = next(numbers)
        body = [
            {"email": f"mail{n}-{i}@example.org", "username": f"Mail {n}", "role": "marketing"}
            | {"allow_access_to_all_future_apps": True}
            for i in range(USERS_PER_CALL)
        ]
        started = time.monotonic()
        response = httpx.post(
            f"{server.base}/api/user-management/v1.0/users", json=body, headers=auth, timeout=60
        )
        assert response.status_code == 200, response.text
        return time.monotonic() - started

    def phase() -> list[float]:
        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(invite, servers * (CALLS_PER_PHASE // 2)))

    refused = phase()  # nothing listens on the mail port
    with hanging_receiver(smtp_port) as held:
        hung = phase()
        # Let the senders meet the silent server before it goes away.
        deadline = time.monotonic() + 10
        while not held and time.monotonic() < deadline:
            time.sleep(0.1)
        assert held, "no sender reached the hanging mail server"
    FIGURES.notes["slowest invitation call while mail was down or hanging"] = (
        f"{max(refused + hung):.2f} s"
    )
    assert max(refused + hung) < ANSWER_WITHIN_SECONDS, (refused, hung)
    assert rows(url, "SELECT id FROM outbox WHERE sent_at IS NOT NULL") == []

    with mail_server_on(smtp_port) as inbox:
        invited = 2 * CALLS_PER_PHASE * USERS_PER_CALL
        deadline = time.monotonic() + DELIVERED_WITHIN_SECONDS
        while rows(url, "SELECT id FROM outbox WHERE sent_at IS NULL"):
            assert time.monotonic() < deadline, "the outbox was not sent in time"
            time.sleep(0.5)
        time.sleep(1)  # a duplicate would arrive now
        received = Counter(str(m["To"]) for m in inbox.messages)
    FIGURES.mail_sent += sum(received.values())
    FIGURES.mail_duplicates += sum(n - 1 for n in received.values() if n > 1)
    assert len(received) == invited
    assert set(received.values()) == {1}
    assert rows(url, "SELECT id FROM outbox WHERE failed_at IS NOT NULL") == []
    assert orphans(url) == dict.fromkeys(orphans(url), 0)
