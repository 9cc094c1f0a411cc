"""The server shell every face stands on: health, request ids, logs, body limits, 500s."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.routing import Match

from tenantry.app import Composition
from tenantry.entrypoints.http.control_characters import describe
from tenantry.entrypoints.server import create_http_app

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


# -- control characters ----------------------------------------------------------------------

SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def body_carriers() -> dict[str, dict[str, Any]]:
    """Bodies carrying a NUL, as httpx's arguments."""
    escaped = rb'{"name": "a\u0000b"}'

    async def split_escape() -> AsyncIterator[bytes]:  # no Content-Length: sent chunked
        yield escaped[:14]  # the split falls inside the escape
        yield escaped[14:]

    return {
        "a JSON escape": {"content": escaped, "headers": {"Content-Type": "application/json"}},
        "a JSON escape, no content type": {"content": escaped},
        "a JSON escape split across chunks": {"content": split_escape()},
        "a form": {"data": {"name": "a\x00b"}},  # sent as name=a%00b
        "a multipart field": {"data": {"name": "a\x00b"}, "files": {"f": ("f", b"x")}},
    }


def _graphql_400(response: httpx.Response, character: str = "\x00") -> None:
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {"message": describe(character), "extensions": {"code": 400, "type": "BAD_REQUEST"}}
        ]
    }


def _scim_400(response: httpx.Response, character: str = "\x00") -> None:
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/scim+json")
    body = response.json()
    assert body["schemas"] == [SCIM_ERROR]
    assert (body["status"], body["scimType"], body["detail"]) == (
        "400",
        "invalidValue",
        describe(character),
    )


def _message_400(response: httpx.Response, character: str = "\x00") -> None:
    assert response.status_code == 400
    assert response.json() == {"message": describe(character)}


def _network_403(response: httpx.Response, character: str = "\x00") -> None:
    # The dialect answers every invalid input with 403, a body that is not JSON included.
    assert response.status_code == 403
    assert response.json() == {"errors": {"base": [describe(character)]}}


def _oauth_400(response: httpx.Response, character: str = "\x00") -> None:
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "error_description": describe(character)}


def _page_400(response: httpx.Response, character: str = "\x00") -> None:
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "That can&#39;t be accepted" in response.text
    assert f"(U+{ord(character):04X})" in response.text
    assert "Content-Security-Policy" in response.headers


FACE_REFUSALS = [
    ("/hub/graphql/", _graphql_400),
    ("/capig/graphql", _graphql_400),
    ("/capig/traffic", _message_400),
    ("/scim/v2/Users", _scim_400),
    ("/api/user-management/v1.0/users", _message_400),
    ("/api/2019-05-01/1234/advertisers.json", _network_403),
    ("/hub/accounts/AbCdEfGh/users/bulk", _page_400),
    ("/auth/login", _page_400),
    ("/clients/token", _oauth_400),
]


@pytest.mark.parametrize(("path", "check"), FACE_REFUSALS)
@pytest.mark.parametrize(
    ("target", "character"),
    [("{path}?a=1&q=b%00", "\x00"), ("{path}/a%1fb", "\x1f")],
)
def test_a_control_character_in_the_path_or_query_is_refused_in_the_faces_own_format(
    client: HttpClient,
    path: str,
    check: Callable[[httpx.Response, str], None],
    target: str,
    character: str,
) -> None:
    response = client.get(target.format(path=path.rstrip("/")))
    assert response.headers["x-request-id"]
    check(response, character)


@pytest.mark.parametrize("carrier", list(body_carriers()))
def test_a_control_character_in_a_body_is_refused_when_the_face_reads_it(
    client: HttpClient, carrier: str
) -> None:
    # The token endpoint reads any body, before anything else; other faces check credentials
    # first (their own tests send a NUL with them).
    response = client.post("/clients/token", **body_carriers()[carrier])
    assert response.headers["x-request-id"]
    _oauth_400(response)


@pytest.mark.parametrize("carrier", ["a form", "a multipart field"])
def test_a_form_with_a_control_character_gets_a_page(client: HttpClient, carrier: str) -> None:
    _page_400(client.post("/auth/login", **body_carriers()[carrier]))


def test_a_body_no_face_reads_is_not_refused(client: HttpClient) -> None:
    # A page reads forms only: the JSON goes unread, and the form's CSRF check answers.
    response = client.post("/auth/login", **body_carriers()["a JSON escape"])
    assert response.status_code == 403
    assert "control character" not in response.text


@pytest.mark.parametrize("path", [path for path, _ in FACE_REFUSALS])
def test_text_without_a_control_character_reaches_the_face(client: HttpClient, path: str) -> None:
    # Each face answers these as it answers plain text (401, 403 or a 400 of its own, as the
    # request lacks credentials or fields): the server let them through.
    plain = client.post(path, json={"name": "plain text"})
    for text in (
        rb"tab\tand\nlines\r\n, escaped or not: \u0009\u000a\u000D",
        rb"a backslash, then text: \\u0000 \\b C:\\files",
        rb"Zo\u00eb \u00e9t\u00e9 \u2028",
    ):
        answer = client.post(
            path, content=b'{"name": "' + text + b'"}', headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == plain.status_code, text
        assert "control character" not in answer.text
    for form in ({"name": "tab\tand\r\nlines"}, {"name": "100%00 literal"}):
        answer = client.post(path, data=form)
        assert "control character" not in answer.text, form
    answer = client.get(path, params={"q": "tab\tand\r\nlines, 100%00"})
    assert "control character" not in answer.text


def face_serving(app: FastAPI, path: str) -> FastAPI:
    """The application of the face the server hands `path` to."""
    scope = {"type": "http", "path": path, "root_path": ""}
    face: FastAPI = next(r.app for r in app.routes if r.matches(scope)[0] is Match.FULL)
    return face


@pytest.mark.parametrize("path", ["/explode", "/hub/explode"])
def test_an_unhandled_error_is_a_500_with_the_request_id_only(app: FastAPI, path: str) -> None:
    @face_serving(app, path).get(path)
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
