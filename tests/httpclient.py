"""A synchronous httpx client over the ASGI transport, for tests of the HTTP faces."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal
from starlette.types import ASGIApp


class HttpClient:
    """A synchronous face on httpx's ASGI transport, so tests read top to bottom.

    Requests go through the whole ASGI stack in-process, middleware included; an exception
    that escapes the app reaches the test as the 500 a real client would see.
    """

    def __init__(self, portal: BlockingPortal, client: httpx.AsyncClient) -> None:
        self._portal = portal
        self._client = client

    @property
    def cookies(self) -> httpx.Cookies:
        return self._client.cookies

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response: httpx.Response = self._portal.call(
            lambda: self._client.request(method, url, **kwargs)
        )
        return response

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)


# The network address the app sees a test's requests come from, unless the test names another.
DEFAULT_ADDRESS = "127.0.0.1"


@contextmanager
def http_client(
    app: ASGIApp, base_url: str = "http://testserver", *, address: str = DEFAULT_ADDRESS
) -> Iterator[HttpClient]:
    """A client whose requests reach the app from `address` (the ASGI scope's `client`, which
    is what the app trusts as the caller's network address)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 123))
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=transport, base_url=base_url)
        try:
            yield HttpClient(portal, client)
        finally:
            portal.call(client.aclose)
