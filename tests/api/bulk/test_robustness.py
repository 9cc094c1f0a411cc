"""Bad requests get a 4xx `{"message"}` and change nothing: malformed JSON, wrong types,
unknown fields, huge bodies, bad credentials, unknown paths and methods."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from tenantry.entrypoints.bulk_rest import PREFIX
from tenantry.entrypoints.http.control_characters import describe

from bulk_support import Bulk, new_user
from factories import stored
from httpclient import HttpClient

NOT_AN_ARRAY = {"message": "The body must be a JSON array of users."}


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[",
        b'[{"email": "a@example.com",}]',
        b"\xff\xfe",
        b"[" * 5000 + b"]" * 5000,
        b"[1e999999]",
        b'{"users": []}',
        b'"a string"',
        b"null",
    ],
)
def test_a_body_that_is_not_a_json_array(bulk: Bulk, body: bytes) -> None:
    response = bulk.request(
        "POST", "/users", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == NOT_AN_ARRAY
    assert bulk.emails() == {bulk.admin.email}


def test_a_huge_body(bulk: Bulk) -> None:
    users = [new_user(department="x" * 200) for _ in range(20)]
    body = json.dumps(users).encode() + b" " * bulk.ctx.settings.max_body_bytes
    response = bulk.request("POST", "/users", content=body)
    assert response.status_code == 413
    assert response.json() == {"message": "The request body is too large."}
    assert bulk.emails() == {bulk.admin.email}


def test_a_huge_body_sent_in_chunks(bulk: Bulk) -> None:
    chunk = b" " * 65_536

    async def chunks() -> AsyncIterator[bytes]:
        yield b"["
        for _ in range(bulk.ctx.settings.max_body_bytes // len(chunk) + 2):
            yield chunk
        yield b"]"

    response = bulk.request("POST", "/users", content=chunks())
    assert response.status_code == 413
    assert set(response.json()) == {"message"}


def test_wrong_types_and_unknown_fields_refuse_that_user_only(bulk: Bulk) -> None:
    good = new_user()
    response = bulk.add(
        [
            new_user(allow_access_to_all_future_apps="yes"),
            good,
            {**new_user(), "is_admin": True},
        ]
    )
    assert response.status_code == 200
    assert [e["message"] for e in response.json()["errors"]] == ["Invalid field scheme."] * 2
    assert bulk.emails() == {bulk.admin.email, good["email"]}


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Token abc", "Bearer tnt_x_y", "Bearer tna_x_y", "Bearer ✓"],
)
def test_bad_credentials(bulk: Bulk, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization.encode()}
    response = bulk.client.request("GET", f"{PREFIX}/users", headers=headers)
    assert response.status_code == 401
    assert set(response.json()) == {"message"}
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_revoked_token(bulk: Bulk) -> None:
    from tenantry.services import credentials

    from factories import OPERATOR

    key = bulk.token.split("_")[1]
    credentials.revoke_api_token(bulk.ctx, OPERATOR, bulk.account.id, key)
    response = bulk.get_users()
    assert response.status_code == 401
    assert response.json() == {"message": "Missing or invalid credentials."}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/nothing", 404),
        ("GET", "/users/a@example.com/roles", 405),
        ("GET", "", 404),
        ("PUT", "/users", 405),
        ("PATCH", "/users/a@example.com", 405),
        ("POST", "/roles", 405),
        ("DELETE", "/roles", 405),
        ("POST", "/openapi.json", 405),
    ],
)
def test_unknown_paths_and_methods(
    client: HttpClient, bulk: Bulk, method: str, path: str, status: int
) -> None:
    response = client.request(method, PREFIX + path, headers={"Authorization": "Bearer x"})
    assert response.status_code == status
    assert set(response.json()) == {"message"}
    if status == 405:
        assert response.headers["allow"]


def test_a_failure_is_not_a_traceback(bulk: Bulk, monkeypatch: pytest.MonkeyPatch) -> None:
    from tenantry.services import roles

    def broken(*_: object, **__: object) -> None:
        raise KeyError("secret internals")

    monkeypatch.setattr(roles, "list_roles", broken)
    response = bulk.get_roles()
    assert response.status_code == 500
    assert response.json() == {
        "message": "Something went wrong. Your request couldn\u2019t be completed."
    }
    assert "secret" not in response.text
    assert response.headers["x-request-id"]


def test_a_control_character_is_400_and_stores_nothing(bulk: Bulk) -> None:
    before = stored(bulk.ctx)
    for response in (
        bulk.add([new_user(), new_user(department="Growth\x00")]),
        bulk.add([new_user(username="Demi\x1b[31m")]),
        bulk.delete(f"{bulk.admin.email},a%00b@example.com"),
        bulk.get_users(email="a\x00b@example.com"),
    ):
        assert response.status_code == 400
        assert set(response.json()) == {"message"}
        assert response.json()["message"] in (describe("\x00"), describe("\x1b"))
    assert stored(bulk.ctx) == before
