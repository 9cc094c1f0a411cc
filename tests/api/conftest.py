"""Fixtures for the HTTP faces: the real ASGI app, driven in-process through httpx."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi import FastAPI

from tenantry.app import Composition

from httpclient import HttpClient, http_client


@pytest.fixture
def app(composition: Composition) -> FastAPI:
    return composition.asgi_app()


@pytest.fixture
def client(app: FastAPI) -> Iterator[HttpClient]:
    with http_client(app) as test_client:
        yield test_client


@pytest.fixture
def client_from(app: FastAPI) -> Iterator[Callable[[str], HttpClient]]:
    """Clients on the same app whose requests come from another network address, by address."""
    with ExitStack() as stack:

        def open_client(address: str) -> HttpClient:
            return stack.enter_context(http_client(app, address=address))

        yield open_client
