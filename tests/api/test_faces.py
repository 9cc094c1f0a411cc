"""Each face is an application that answers its own errors: served alone, with nothing around it
but the request-id middleware (so no table of paths to tell faces apart), it answers 400, 413,
500 and 503 in its own format; and it reads a caller's token in the forms it accepts only."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from tenantry.app import Composition
from tenantry.domain.credentials import ACCESS_TOKEN_PREFIX, API_TOKEN_PREFIX
from tenantry.domain.errors import ErrorCode, Unauthenticated
from tenantry.domain.ids import new_token
from tenantry.entrypoints import token, web
from tenantry.entrypoints.bulk_rest import bulk_rest_app
from tenantry.entrypoints.graphql import capig_app, hub_app, traffic_app
from tenantry.entrypoints.http.middleware import RequestContextMiddleware
from tenantry.entrypoints.network_rest import network_rest_app
from tenantry.entrypoints.scim import scim_app
from tenantry.services import auth, credentials
from tenantry.services.context import ServiceContext
from tenantry.services.ports import DatabaseUnavailable
from tenantry.settings import Settings

from httpclient import HttpClient, http_client

# Nothing listens there: a face that reached the database would answer 503.
UNREACHABLE = "postgresql+psycopg://tenantry:not-the-password@127.0.0.1:1/tenantry"
API_TOKEN = new_token(API_TOKEN_PREFIX)[0]
ACCESS_TOKEN = new_token(ACCESS_TOKEN_PREFIX)[0]
SECRET = "secret internals: password=hunter2"


@dataclass(frozen=True)
class FaceCase:
    build: Callable[[ServiceContext], ASGIApp]
    method: str
    path: str
    request: dict[str, Any]
    fails: tuple[object, str]
    """What the face calls first (a module and a function), made to fail for 500 and 503."""
    format: str
    invalid_input: int = 400
    quotes_request_id: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    routes_before_authenticating: bool = True
    """SCIM reads the credential first; tests/api/scim checks its 404 and 405 with a caller."""


def _bearer(value: str) -> dict[str, Any]:
    return {"headers": {"Authorization": f"Bearer {value}"}}


FACES = {
    "token": FaceCase(
        token.token_app,
        "POST",
        "/clients/token",
        {"data": {"client_id": "ops1", "client_secret": "x"}},
        (credentials, "issue_access_token"),
        "oauth",
    ),
    "hub": FaceCase(
        hub_app,
        "POST",
        "/hub/graphql/",
        {"json": {"query": "{ __typename }"}, **_bearer(ACCESS_TOKEN)},
        (credentials, "authenticate"),
        "graphql",
    ),
    "capig": FaceCase(
        capig_app,
        "POST",
        "/capig/graphql",
        {"json": {"query": "{ __typename }"}, **_bearer(ACCESS_TOKEN)},
        (credentials, "authenticate"),
        "graphql",
    ),
    "traffic": FaceCase(
        traffic_app,
        "POST",
        "/capig/traffic",
        {"json": {"tenantId": "AbCd1234", "reports": []}, **_bearer(ACCESS_TOKEN)},
        (credentials, "authenticate"),
        "message",
    ),
    "scim": FaceCase(
        scim_app,
        "GET",
        "/scim/v2/Users",
        _bearer(API_TOKEN),
        (credentials, "authenticate"),
        "scim",
        routes_before_authenticating=False,
    ),
    "bulk": FaceCase(
        bulk_rest_app,
        "GET",
        "/api/user-management/v1.0/users",
        _bearer(API_TOKEN),
        (credentials, "authenticate"),
        "message",
        quotes_request_id=False,  # the vendor's own words, "Something went wrong..."
    ),
    "network": FaceCase(
        network_rest_app,
        "GET",
        "/api/2019-05-01/AbCd1234/advertisers.json",
        {"headers": {"Authorization": API_TOKEN}},
        (credentials, "authenticate"),
        "network",
        invalid_input=403,  # the dialect's status for any invalid input
    ),
    "console": FaceCase(
        lambda ctx: web.web_app(ctx, signing_key=b"k" * 32),
        "GET",
        "/hub/",
        {"headers": {"Cookie": "tenantry_session=abcdefgh.abcdefghijklmnop"}},
        (auth, "authenticate_session"),
        "page",
    ),
}


def format_of(response: httpx.Response) -> str:
    """Which of the faces' formats an answer is in."""
    content_type = response.headers.get("content-type", "")
    if content_type.startswith("text/html"):
        return "page"
    if content_type.startswith("application/scim+json"):
        return "scim" if response.json().get("schemas") else "unknown"
    body = response.json()
    if set(body) == {"error", "error_description"}:
        return "oauth"
    if isinstance(body.get("errors"), list):
        return "graphql"
    if isinstance(body.get("errors"), dict):
        return "network"
    if set(body) in ({"message"}, {"message", "request_id"}):
        return "message"
    return "unknown"


@pytest.fixture(scope="module")
def context() -> Iterator[ServiceContext]:
    composition = Composition(Settings(database_url=UNREACHABLE, base_url="http://testserver"))
    try:
        yield composition.context
    finally:
        composition.dispose()


@pytest.fixture(params=list(FACES))
def face(
    request: pytest.FixtureRequest, context: ServiceContext
) -> Iterator[tuple[FaceCase, HttpClient]]:
    """A face's application served alone, and a client for it."""
    case = FACES[request.param]
    with http_client(RequestContextMiddleware(case.build(context))) as client:
        yield case, client


@pytest.fixture
def logged(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> pytest.LogCaptureFixture:
    """What tenantry logs during the test (the server's log setup stops propagation)."""
    monkeypatch.setattr(logging.getLogger("tenantry"), "propagate", True)
    caplog.set_level(logging.INFO, logger="tenantry")
    return caplog


def _call(client: HttpClient, case: FaceCase, **extra: Any) -> httpx.Response:
    request = {**case.request, **extra}
    return client.request(case.method, case.path, **request)


def test_a_control_character_is_refused_in_the_faces_format(
    face: tuple[FaceCase, HttpClient],
) -> None:
    case, client = face
    response = _call(client, case, params={"q": "a\x00b"})
    assert response.status_code == case.invalid_input
    assert format_of(response) == case.format
    assert "U+0000" in response.text


def test_a_line_break_in_the_path_is_refused_in_the_faces_format(
    face: tuple[FaceCase, HttpClient],
) -> None:
    case, client = face
    response = client.request(case.method, case.path.rstrip("/") + "/a%0Ab%01", **case.request)
    assert response.status_code == case.invalid_input
    assert format_of(response) == case.format


ROUTING_FIRST = [name for name, case in FACES.items() if case.routes_before_authenticating]


@pytest.mark.parametrize("face", ROUTING_FIRST, indirect=True)
def test_an_unknown_path_is_a_404_in_the_faces_format(face: tuple[FaceCase, HttpClient]) -> None:
    case, client = face
    prefix = case.path.rsplit("/", 1)[0] if not case.path.endswith("/") else case.path
    answer = client.request(case.method, prefix + "/no-such-route", **case.request)
    assert answer.status_code == 404
    assert format_of(answer) == case.format


@pytest.mark.parametrize("face", ROUTING_FIRST, indirect=True)
def test_a_method_no_route_takes_is_a_405_in_the_faces_format(
    face: tuple[FaceCase, HttpClient],
) -> None:
    case, client = face
    answer = client.request("PUT", case.path, **case.request)
    assert answer.status_code == 405
    assert case.method in answer.headers["allow"]
    assert format_of(answer) == case.format


def test_an_oversized_body_is_refused_in_the_faces_format(
    face: tuple[FaceCase, HttpClient], context: ServiceContext
) -> None:
    case, client = face
    oversized = b"x" * (context.settings.max_body_bytes + 1)
    headers = case.request.get("headers", {})
    response = client.request(case.method, case.path, content=oversized, headers=headers)
    assert response.status_code == 413
    assert format_of(response) == case.format


def test_an_unexpected_error_is_a_500_in_the_faces_format(
    face: tuple[FaceCase, HttpClient],
    monkeypatch: pytest.MonkeyPatch,
    logged: pytest.LogCaptureFixture,
) -> None:
    case, client = face

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError(SECRET)

    monkeypatch.setattr(*case.fails, broken)
    response = _call(client, case)
    assert response.status_code == 500
    assert format_of(response) == case.format
    request_id = response.headers["x-request-id"]
    assert (request_id in response.text) is case.quotes_request_id
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    [line] = [r for r in logged.records if r.getMessage().startswith("unhandled error")]
    assert line.request_id == request_id  # type: ignore[attr-defined]
    assert "RuntimeError" in line.getMessage()
    assert line.exc_info is None


def test_an_outage_is_a_503_in_the_faces_format(
    face: tuple[FaceCase, HttpClient],
    monkeypatch: pytest.MonkeyPatch,
    logged: pytest.LogCaptureFixture,
) -> None:
    case, client = face

    def down(*_: object, **__: object) -> None:
        raise DatabaseUnavailable("connection refused")

    monkeypatch.setattr(*case.fails, down)
    response = _call(client, case)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert format_of(response) == case.format
    assert [r for r in logged.records if r.getMessage().startswith("database unavailable")]
    assert not [r for r in logged.records if r.exc_info]


def test_what_no_face_answered_gets_a_plain_500(logged: pytest.LogCaptureFixture) -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError(SECRET)

    with http_client(RequestContextMiddleware(broken)) as client:
        response = client.get("/anywhere")
    request_id = response.headers["x-request-id"]
    assert response.status_code == 500
    assert response.json() == {"message": "Internal server error.", "request_id": request_id}
    assert [r for r in logged.records if r.getMessage().startswith("unhandled error")]


# -- the caller's token, in the forms each face accepts --------------------------------------

TOKEN = "a-token-in-a-form"

FORMS: dict[str, dict[str, Any]] = {
    "bearer": {"headers": {"Authorization": f"Bearer {TOKEN}"}},
    "bare header": {"headers": {"Authorization": TOKEN}},
    "query": {"params": {"oauth_token": TOKEN}},
    "body": {"json": {"oauth_token": TOKEN, "query": "{ __typename }"}},
}
ACCEPTED = {
    "hub": {"bearer"},
    "traffic": {"bearer"},
    "scim": {"bearer"},
    "bulk": {"bearer"},
    "network": {"bearer", "bare header", "query", "body"},
}


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("name", list(ACCEPTED))
def test_each_face_reads_the_token_in_the_forms_it_accepts_only(
    context: ServiceContext, monkeypatch: pytest.MonkeyPatch, name: str, form: str
) -> None:
    def seen(_: object, token: str, **__: object) -> None:
        raise Unauthenticated(ErrorCode.UNAUTHENTICATED, f"seen {token}")

    monkeypatch.setattr(credentials, "authenticate", seen)
    case = FACES[name]
    method = "POST" if form == "body" else case.method
    with http_client(RequestContextMiddleware(case.build(context))) as client:
        response = client.request(method, case.path, **FORMS[form])
    assert response.status_code == 401
    assert format_of(response) == case.format
    assert (f"seen {TOKEN}" in response.text) is (form in ACCEPTED[name])
