"""A real HTTP receiver of webhooks on 127.0.0.1 for the tests, and helpers to send what the
outbox holds and to read what arrived, each delivery verified with the endpoint's secret as a
receiver would (`standardwebhooks`' `Webhook.verify`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from tenantry.services import outbox
from tenantry.services.context import ServiceContext


@dataclass(frozen=True)
class Arrival:
    path: str
    headers: dict[str, str]
    body: bytes

    def verified(self, secret: str) -> dict[str, Any]:
        """The event, once its signature checks out with `secret` (raises otherwise)."""
        event: dict[str, Any] = Webhook(secret).verify(self.body, self.headers)
        return event


@dataclass
class Receiver:
    """Records every POST; answers each with the next of `answers` (then 204), after `delay`
    seconds; a 3xx answer points at `/moved`."""

    url: str
    answers: list[int] = field(default_factory=list)
    delay: float = 0.0
    arrivals: list[Arrival] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int:
        with self.lock:
            return self.answers.pop(0) if self.answers else 204

    def events(self, secret: str, path: str | None = None) -> list[dict[str, Any]]:
        """Every event that arrived (at `path`), verified with `secret`, in arrival order."""
        with self.lock:
            found = [a for a in self.arrivals if path is None or a.path == path]
        return [a.verified(secret) for a in found]

    def types(self, secret: str) -> list[str]:
        return [e["type"] for e in self.events(secret)]

    def wait_for(self, count: int, seconds: float = 20.0) -> None:
        deadline = time.monotonic() + seconds
        while len(self.arrivals) < count and time.monotonic() < deadline:
            time.sleep(0.05)


@contextmanager
def webhook_receiver(answers: Sequence[int] = (), delay: float = 0.0) -> Iterator[Receiver]:
    receiver: Receiver | None = None

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            assert receiver is not None
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with receiver.lock:
                receiver.arrivals.append(
                    Arrival(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
            if receiver.delay:
                time.sleep(receiver.delay)
            status = receiver.answer()
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "/moved")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hooks", list(answers), delay)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as found:
        yield found


@pytest.fixture
def allow_private(ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch) -> ServiceContext:
    """The services with receivers on loopback allowed, as TENANTRY_WEBHOOKS_ALLOW_PRIVATE=1
    allows them (the environment is read as settings are; the context's were read already)."""
    from tenantry.settings import Settings

    monkeypatch.setenv("TENANTRY_WEBHOOKS_ALLOW_PRIVATE", "1")
    ctx.settings.webhooks_allow_private = Settings().webhooks_allow_private
    assert ctx.settings.webhooks_allow_private
    return ctx


def send_all(ctx: ServiceContext, rounds: int = 50) -> outbox.SendReport:
    """Send what is due until nothing more is, as the sender's thread would; the totals."""
    total = outbox.SendReport()
    for _ in range(rounds):
        report = outbox.send_pending(ctx)
        for name in ("claimed", "sent", "skipped", "retrying", "failed"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        if not report.claimed:
            break
    return total


def only(
    events: list[dict[str, Any]], kind: str, where: Callable[[dict[str, Any]], bool] | None = None
) -> list[dict[str, Any]]:
    """The events of one type (that `where` accepts)."""
    return [e for e in events if e["type"] == kind and (where is None or where(e))]
