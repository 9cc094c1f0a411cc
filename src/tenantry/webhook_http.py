"""The HTTP side of `services.webhook_transport.WebhookTransport`.

Each delivery resolves the receiver's name itself and, unless the operator allows private
receivers, refuses when any address it resolves to is not public (loopback, private,
link-local, shared, reserved: what an attacker would aim a webhook at to reach the inside).
It then connects to exactly the address it checked (a name cannot resolve elsewhere between
the check and the connection), sends one POST, follows no redirect, and gives up on a receiver
that does not connect, or answer, within the timeout (and on one that drips its answer, at
twice that in all).
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import socket
import ssl
import threading
from collections.abc import Mapping
from urllib.parse import urlsplit

from tenantry.domain.webhooks import is_public_address
from tenantry.services.webhook_transport import DeliveryError, UnsafeDestination
from tenantry.settings import Settings

log = logging.getLogger("tenantry.webhooks")

_ANSWER_READ = 1024  # of the receiver's body: enough to end the exchange cleanly


class HttpWebhookTransport:
    def __init__(self, settings: Settings) -> None:
        # Read at each call: the settings may change while the process runs (tests do).
        self.settings = settings
        self._tls = ssl.create_default_context()

    def check_destination(self, url: str) -> None:
        if self.settings.webhooks_allow_private:
            return
        host, port, _, _ = _parts(url)
        try:
            addresses = _resolve(host, port)
        except DeliveryError:
            return  # not resolvable now: each delivery checks again
        _check_public(host, addresses)

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        host, port, tls, target = _parts(url)
        addresses = _resolve(host, port)
        if not self.settings.webhooks_allow_private:
            _check_public(host, addresses)
        timeout = self.settings.webhooks_timeout_seconds
        connection = (
            _PinnedHttps(host, port, addresses[0], timeout, self._tls)
            if tls
            else _PinnedHttp(host, port, addresses[0], timeout)
        )
        watchdog = threading.Timer(2 * timeout, connection.abort)
        watchdog.start()
        try:
            connection.request("POST", target, body=body, headers=dict(headers))
            answer = connection.getresponse()
            answer.read(_ANSWER_READ)
            return answer.status
        except (OSError, http.client.HTTPException) as error:
            raise DeliveryError(_reason(error, timeout)) from None
        finally:
            watchdog.cancel()
            connection.close()


def _parts(url: str) -> tuple[str, int, bool, str]:
    parts = urlsplit(url)
    tls = parts.scheme == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if tls else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return host, port, tls, target


def _not_public(host: str) -> str:
    # One answer whether the name does not resolve or resolves to a private address, and
    # never the addresses: the delivery log, which an account's admins read, must not tell
    # them which of the server's private names exist. The operator's log says which.
    return f"refused: {host} does not resolve to a public address (see the server's log)"


def _resolve(host: str, port: int) -> list[str]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        log.warning("webhook receiver unresolved", extra={"host": host, "error": str(error)})
        raise DeliveryError(_not_public(host)) from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not addresses:
        log.warning("webhook receiver unresolved", extra={"host": host})
        raise DeliveryError(_not_public(host))
    return addresses


def _check_public(host: str, addresses: list[str]) -> None:
    refused = [a for a in addresses if not is_public_address(a)]
    if refused:
        log.warning(
            "webhook receiver on a non-public address (TENANTRY_WEBHOOKS_ALLOW_PRIVATE=1 "
            "allows it)",
            extra={"host": host, "addresses": refused},
        )
        raise UnsafeDestination(_not_public(host))


def _reason(error: Exception, timeout: float) -> str:
    if isinstance(error, TimeoutError | socket.timeout):
        return f"no answer within {timeout:g} s"
    return f"the receiver could not be reached: {type(error).__name__}: {error}"[:300]


class _PinnedHttp(http.client.HTTPConnection):
    """An HTTP connection to one checked address, naming the host in its requests."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)

    def abort(self) -> None:
        """From another thread: end a connection that is taking too long."""
        sock = self.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _PinnedHttps(_PinnedHttp):
    """`_PinnedHttp` over TLS, the certificate checked against the host's name."""

    default_port = http.client.HTTPS_PORT

    def __init__(
        self, host: str, port: int, address: str, timeout: float, tls: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, address, timeout)
        self._tls = tls

    def connect(self) -> None:
        super().connect()
        assert self.sock is not None
        self.sock = self._tls.wrap_socket(self.sock, server_hostname=self.host)
