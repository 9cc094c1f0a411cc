"""A webhook receiver that accepts the connection and never answers, while two servers make
changes that it subscribed to: every call answers at once (deliveries wait in the outbox), and
once the receiver answers again every event arrives, once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tenantry.services import webhooks

from factories import OPERATOR
from fault_support import (
    BULK,
    FIGURES,
    Server,
    fresh_database,
    hanging_receiver,
    orphans,
    rows,
    running,
    seed,
    server_env,
    services_on,
)
from mailserver import free_port
from pgcluster import PostgresCluster

CALLS = 8
TIMEOUT_SECONDS = 20
ANSWER_WITHIN_SECONDS = 5.0
DELIVERED_WITHIN_SECONDS = 120


@contextmanager
def answering_receiver(port: int) -> Iterator[list[dict[str, str]]]:
    """Takes every POST on `port` with a 204; the headers of each, in arrival order."""
    arrived: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            arrived.append({k.lower(): v for k, v in self.headers.items()})
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    ThreadingHTTPServer.allow_reuse_address = True
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield arrived
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def deployment(fault_cluster: PostgresCluster, tmp_path: Path) -> Iterator[Any]:
    port = free_port()
    with fresh_database(fault_cluster, "hooks") as url, services_on(url) as ctx:
        tenancy = seed(ctx)
        ctx.settings.webhooks_allow_private = True
        webhooks.create_endpoint(
            ctx, OPERATOR, tenancy.advertiser.id, f"http://127.0.0.1:{port}/hooks"
        )
        env = server_env(
            url,
            bulk_daily_quota="1000000",
            webhooks_allow_private="true",
            webhooks_timeout_seconds=str(TIMEOUT_SECONDS),
            outbox_poll_seconds="0.5",
        )
        servers = [Server(name, env, tmp_path / f"{name}.log") for name in ("one", "two")]
        with running(servers):
            yield url, tenancy, servers, port


def test_a_hanging_webhook_receiver_holds_up_no_call(deployment: Any) -> None:
    url, tenancy, servers, port = deployment
    auth = {"Authorization": f"Bearer {tenancy.api_token}"}

    def change(number: int) -> float:
        user = {"email": f"hook{number}@example.org", "username": "Hook", "role": "marketing"}
        body = [user | {"allow_access_to_all_future_apps": True}]
        started = time.monotonic()
        response = httpx.post(
            f"{servers[number % 2].base}{BULK}", json=body, headers=auth, timeout=60
        )
        assert response.status_code == 200, response.text
        return time.monotonic() - started

    with hanging_receiver(port) as held:
        with ThreadPoolExecutor(max_workers=4) as pool:
            took = list(pool.map(change, range(CALLS)))
        deadline = time.monotonic() + 10
        while not held and time.monotonic() < deadline:
            time.sleep(0.1)
        assert held, "no delivery reached the hanging receiver"
    FIGURES.notes["slowest change while a webhook receiver hung"] = f"{max(took):.2f} s"
    assert max(took) < ANSWER_WITHIN_SECONDS, took
    pending = "SELECT id FROM outbox WHERE kind = 'webhook' AND sent_at IS NULL"
    written = len(rows(url, "SELECT id FROM outbox WHERE kind = 'webhook'"))
    assert written >= CALLS

    with answering_receiver(port) as arrived:
        deadline = time.monotonic() + DELIVERED_WITHIN_SECONDS
        while rows(url, pending):
            assert time.monotonic() < deadline, "the deliveries were not sent in time"
            time.sleep(0.5)
        time.sleep(1)  # a duplicate would arrive now
    ids = Counter(a["webhook-id"] for a in arrived)
    FIGURES.notes["webhook deliveries after the hang"] = (
        f"{len(arrived)} for {written} entries, {sum(n - 1 for n in ids.values())} twice"
    )
    assert len(ids) == written
    assert set(ids.values()) == {1}
    assert rows(url, "SELECT id FROM outbox WHERE failed_at IS NOT NULL") == []
    assert orphans(url) == dict.fromkeys(orphans(url), 0)
