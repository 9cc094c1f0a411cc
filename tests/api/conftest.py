"""Fixtures for the HTTP faces: the real ASGI app, driven in-process through httpx."""

from __future__ import annotations

from collections.abc import Iterator

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
