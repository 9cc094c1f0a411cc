"""The SCIM face's fixtures: the app with the face, and an advertiser account's admin calling it
with their API token (see scim_support.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from tenantry.app import Composition
from tenantry.services import credentials
from tenantry.services.context import ServiceContext

from factories import OPERATOR, World
from httpclient import HttpClient, http_client
from scim_support import Scim, with_scim


@pytest.fixture
def app(composition: Composition) -> FastAPI:
    return with_scim(composition)


@pytest.fixture
def client(app: FastAPI) -> Iterator[HttpClient]:
    with http_client(app) as test_client:
        yield test_client


@pytest.fixture
def scim(client: HttpClient, ctx: ServiceContext, world: World) -> Scim:
    _, token, _ = credentials.create_api_token(
        ctx, OPERATOR, world.a.id, user_email=world.a_admin.email
    )
    return Scim(client, ctx, world, world.a, world.a_admin, token)
