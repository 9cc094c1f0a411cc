"""A database that cannot be reached: every face answers 503 with Retry-After, in its own
format, and the log has one line for it, not a traceback."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from graphql import ExecutionResult, GraphQLError

from tenantry.app import Composition
from tenantry.domain.credentials import ACCESS_TOKEN_PREFIX, API_TOKEN_PREFIX
from tenantry.domain.ids import new_token
from tenantry.entrypoints.graphql.engine import GraphQLEngine
from tenantry.entrypoints.http.refusals import UNAVAILABLE
from tenantry.entrypoints.server import create_http_app
from tenantry.services import credentials
from tenantry.services.context import Actor
from tenantry.services.ports import DatabaseUnavailable
from tenantry.settings import Settings

from httpclient import HttpClient, http_client

# Port 1 on the loopback interface: nothing listens there, so connecting is refused at once.
UNREACHABLE = "postgresql+psycopg://tenantry:not-the-password@127.0.0.1:1/tenantry"
# Well-formed credentials, so that each face gets as far as looking them up.
API_TOKEN = new_token(API_TOKEN_PREFIX)[0]
ACCESS_TOKEN = new_token(ACCESS_TOKEN_PREFIX)[0]


@pytest.fixture
def outage() -> Iterator[HttpClient]:
    composition = Composition(Settings(database_url=UNREACHABLE, base_url="http://testserver"))
    app = create_http_app(composition.context, readiness=composition.check_database)
    try:
        with http_client(app) as client:
            yield client
    finally:
        composition.dispose()


def _graphql(response: httpx.Response) -> None:
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": 503, "type": "SERVICE_UNAVAILABLE"}
    assert error["message"] == UNAVAILABLE


def _scim(response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("application/scim+json")
    body = response.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert (body["status"], body["detail"]) == ("503", UNAVAILABLE)


def _message(response: httpx.Response) -> None:
    assert response.json() == {"message": UNAVAILABLE}


def _network(response: httpx.Response) -> None:
    assert response.json() == {
        "errors": {"invalid_data": UNAVAILABLE, "class": "ServiceUnavailable"}
    }


def _oauth(response: httpx.Response) -> None:
    assert response.json() == {"error": "temporarily_unavailable", "error_description": UNAVAILABLE}


def _page(response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("text/html")
    assert "Back in a moment" in response.text


CASES: list[tuple[str, str, dict[str, Any], Callable[[httpx.Response], None]]] = [
    (
        "POST",
        "/hub/graphql/",
        {
            "json": {"query": "{ __typename }"},
            "headers": {"Authorization": f"Bearer {ACCESS_TOKEN}"},
        },
        _graphql,
    ),
    ("GET", "/scim/v2/Users", {"headers": {"Authorization": f"Bearer {API_TOKEN}"}}, _scim),
    (
        "GET",
        "/api/user-management/v1.0/users",
        {"headers": {"Authorization": f"Bearer {API_TOKEN}"}},
        _message,
    ),
    (
        "GET",
        "/api/2019-05-01/AbCd1234/advertisers.json",
        {"headers": {"Authorization": API_TOKEN}},
        _network,
    ),
    ("GET", "/hub/", {"headers": {"Cookie": "tenantry_session=abcdefgh.abcdefghijklmnop"}}, _page),
    (
        "POST",
        "/clients/token",
        {"data": {"grant_type": "client_credentials", "client_id": "ops1", "client_secret": "x"}},
        _oauth,
    ),
    (
        "POST",
        "/capig/traffic",
        {"json": {"reports": []}, "headers": {"Authorization": f"Bearer {ACCESS_TOKEN}"}},
        _message,
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "request_args", "check"), CASES, ids=[c[1] for c in CASES]
)
def test_every_face_answers_503_in_its_own_format(
    outage: HttpClient,
    caplog: pytest.LogCaptureFixture,
    method: str,
    path: str,
    request_args: dict[str, Any],
    check: Callable[[httpx.Response], None],
) -> None:
    with caplog.at_level(logging.INFO):
        response = outage.request(method, path, **request_args)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    check(response)
    assert "not-the-password" not in response.text
    [logged] = [r for r in caplog.records if r.getMessage().startswith("database unavailable")]
    assert logged.exc_info is None
    assert "not-the-password" not in logged.getMessage()
    assert not [r for r in caplog.records if r.exc_info]


def test_readiness_says_the_database_is_down(outage: HttpClient) -> None:
    response = outage.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "down"}


def test_an_outage_during_a_query_is_503_not_a_graphql_error(
    client: HttpClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past authentication, the outage surfaces inside a resolver; graphql-core would turn
    it into an ordinary error in a 200 answer."""

    def signed_in(*_: Any, **__: Any) -> Actor:
        return Actor.system(face="graphql")

    def down(*_: Any, **__: Any) -> ExecutionResult:
        error = GraphQLError("down", original_error=DatabaseUnavailable("connection refused"))
        return ExecutionResult(data=None, errors=[error])

    monkeypatch.setattr(credentials, "authenticate", signed_in)
    monkeypatch.setattr(GraphQLEngine, "execute_prepared", down)
    response = client.post(
        "/hub/graphql/", json={"query": "{ __typename }"}, headers={"Authorization": "Bearer x"}
    )
    assert response.status_code == 503
    _graphql(response)


def test_a_head_request_gets_the_refusal_without_its_body(outage: HttpClient) -> None:
    cookie = {"Cookie": "tenantry_session=abcdefgh.abcdefghijklmnop"}
    head = outage.request("HEAD", "/hub/", headers=cookie)
    assert head.status_code == 503
    assert head.headers["retry-after"] == "5"
    assert head.headers["content-type"].startswith("text/html")
    assert head.content == b""
