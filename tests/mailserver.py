"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, for tests."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword


@dataclass
class Inbox:
    messages: list[EmailMessage] = field(default_factory=list)
    peers: list[Any] = field(default_factory=list)
    """The client end of the connection each message came through."""

    @property
    def connections(self) -> int:
        return len(set(self.peers))

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.peers.append(session.peer)
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def only(self) -> EmailMessage:
        assert len(self.messages) == 1, f"{len(self.messages)} messages arrived"
        return self.messages[0]


def send_outbox_after_commit(ctx: Any) -> None:
    """Send the outbox in the committing thread, as soon as a change wrote to it, so a test
    finds the mail when the call returns (the server does it in a thread of its own)."""
    from tenantry.services import outbox

    def send() -> None:
        outbox.send_pending(ctx)

    ctx.outbox_written = send


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _authenticate(username: str, password: str) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (
            data.login.decode() == username and data.password.decode() == password
        )
        return AuthResult(success=ok, handled=False)

    return check


@contextmanager
def smtp_server(**kwargs: Any) -> Iterator[tuple[Inbox, int]]:
    """Serve on a free loopback port; `kwargs` go to aiosmtpd (TLS contexts, auth)."""
    inbox = Inbox()
    port = free_port()
    credentials = kwargs.pop("credentials", None)
    if credentials:
        kwargs["authenticator"] = _authenticate(*credentials)
        kwargs["auth_required"] = True
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
