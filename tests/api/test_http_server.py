"""The server shell every face stands on: health, request ids, logs, body limits, 500s."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI

from tenantry.app import Composition
from tenantry.entrypoints.http.server import create_http_app

from httpclient import HttpClient, http_client


def test_healthz_answers_without_the_database(client: HttpClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_the_database(client: HttpClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["database"] == "up"


def test_readyz_is_503_when_the_database_is_down(composition: Composition) -> None:
    def down() -> None:
        raise OSError("connection refused")

    app = create_http_app(composition.context, readiness=down)
    with http_client(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "down"}


def test_every_answer_carries_a_request_id(client: HttpClient) -> None:
    first = client.get("/healthz").headers["x-request-id"]
    second = client.get("/healthz").headers["x-request-id"]
    assert len(first) == 32
    assert first != second


def test_a_well_formed_caller_request_id_is_kept(client: HttpClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "caller-abc-123"})
    assert response.headers["x-request-id"] == "caller-abc-123"


def test_a_malformed_caller_request_id_is_replaced(client: HttpClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert response.headers["x-request-id"] != "bad id\twith spaces"
    assert len(response.headers["x-request-id"]) == 32


def test_a_declared_oversized_body_is_refused_before_it_is_read(
    client: HttpClient, composition: Composition
) -> None:
    limit = composition.settings.max_body_bytes
    response = client.post(
        "/capig/traffic",
        content=b"x" * (limit + 1),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json() == {"message": "The request body is too large."}


def test_a_streamed_oversized_body_is_refused(client: HttpClient, composition: Composition) -> None:
    limit = composition.settings.max_body_bytes

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: sent chunked
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536

    response = client.post(
        "/clients/token", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


def _graphql_refusal(response: httpx.Response) -> None:
    extensions = response.json()["errors"][0]["extensions"]
    assert extensions == {"code": 413, "type": "PAYLOAD_TOO_LARGE"}


def _scim_refusal(response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("application/scim+json")
    body = response.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert body["status"] == "413"


def _bulk_refusal(response: httpx.Response) -> None:
    assert response.json() == {"message": "The request body is too large."}


def _network_refusal(response: httpx.Response) -> None:
    assert response.json()["errors"]["class"] == "RequestEntityTooLarge"


def _oauth_refusal(response: httpx.Response) -> None:
    body = response.json()
    assert body["error"] == "invalid_request"
    assert "bytes" in body["error_description"]


def _page_refusal(response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("text/html")
    assert "That was too much to send at once" in response.text
    assert "Content-Security-Policy" in response.headers


@pytest.mark.parametrize(
    ("path", "check"),
    [
        ("/hub/graphql/", _graphql_refusal),
        ("/capig/graphql", _graphql_refusal),
        ("/scim/v2/Users", _scim_refusal),
        ("/api/user-management/v1.0/users", _bulk_refusal),
        ("/api/2019-05-01/1234/advertisers.json", _network_refusal),
        ("/hub/accounts/AbCdEfGh/users/bulk", _page_refusal),
        ("/auth/login", _page_refusal),
        ("/clients/token", _oauth_refusal),
    ],
)
def test_an_oversized_body_is_refused_in_the_faces_own_format(
    client: HttpClient,
    composition: Composition,
    path: str,
    check: Callable[[httpx.Response], None],
) -> None:
    limit = composition.settings.max_body_bytes
    response = client.post(path, content=b"x" * (limit + 1))
    assert response.status_code == 413
    assert response.headers["x-request-id"]
    check(response)


def test_a_streamed_oversized_form_gets_a_page(
    client: HttpClient, composition: Composition
) -> None:
    limit = composition.settings.max_body_bytes

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536

    response = client.post(
        "/auth/login",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    _page_refusal(response)


@pytest.mark.parametrize("path", ["/explode", "/hub/explode"])
def test_an_unhandled_error_is_a_500_with_the_request_id_only(app: FastAPI, path: str) -> None:
    @app.get(path)
    async def explode() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    with http_client(app) as client:
        response = client.get(path)
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    if path.startswith("/hub/"):  # a person gets a page quoting the reference
        assert response.headers["content-type"].startswith("text/html")
        assert request_id in response.text
    else:
        assert response.json() == {"message": "Internal server error.", "request_id": request_id}
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text


def test_requests_are_logged_as_json_without_query_strings(
    client: HttpClient, caplog: pytest.LogCaptureFixture
) -> None:
    from tenantry.entrypoints.http.logs import JsonFormatter

    with caplog.at_level(logging.INFO, logger="tenantry.http"):
        logging.getLogger("tenantry.http").addHandler(caplog.handler)
        try:
            response = client.get("/healthz?oauth_token=SHOULD-NOT-BE-LOGGED")
        finally:
            logging.getLogger("tenantry.http").removeHandler(caplog.handler)
    records = [r for r in caplog.records if r.getMessage() == "request"]
    assert records, "no access log line"
    line = json.loads(JsonFormatter().format(records[-1]))
    assert line["path"] == "/healthz"
    assert line["status"] == 200
    assert line["request_id"] == response.headers["x-request-id"]
    assert "SHOULD-NOT-BE-LOGGED" not in json.dumps(line)


def test_reset_tokens_in_paths_are_masked_in_the_log(
    client: HttpClient, caplog: pytest.LogCaptureFixture
) -> None:
    from tenantry.entrypoints.http.logs import JsonFormatter

    logger = logging.getLogger("tenantry.http")
    with caplog.at_level(logging.INFO, logger="tenantry.http"):
        logger.addHandler(caplog.handler)
        try:
            client.get("/auth/reset/LIVE-RESET-TOKEN-123")
        finally:
            logger.removeHandler(caplog.handler)
    line = json.loads(
        JsonFormatter().format([r for r in caplog.records if r.getMessage() == "request"][-1])
    )
    assert line["path"] == "/auth/reset/…"
    assert "LIVE-RESET-TOKEN-123" not in json.dumps(line)


@pytest.mark.parametrize(
    "path", ["/healthz", "/auth/login", "/api/user-management/v1.0/openapi.json"]
)
def test_head_answers_as_get_without_the_body(client: HttpClient, path: str) -> None:
    got = client.get(path)
    head = client.request("HEAD", path)
    assert (head.status_code, got.status_code) == (200, 200)
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == got.headers["content-length"]
    assert head.headers["x-request-id"]
