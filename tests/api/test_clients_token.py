"""`POST /clients/token`, as CAPIG documents it and Meta's sample script calls it."""

from __future__ import annotations

import base64
from collections.abc import Callable

import httpx
import pytest

from tenantry.entrypoints.http.control_characters import describe
from tenantry.services import credentials, setup
from tenantry.services.context import ActorKind, ServiceContext

from factories import stored
from httpclient import HttpClient


@pytest.fixture
def api_client(ctx: ServiceContext) -> tuple[str, str, str]:
    init = setup.initialize(ctx)
    assert init.client_id
    assert init.client_secret
    return init.account_id, init.client_id, init.client_secret


def _grant(client: HttpClient, client_id: str, secret: str) -> httpx.Response:
    return client.post(
        "/clients/token",
        data={"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"},
    )


def _check_token_answer(ctx: ServiceContext, body: dict[str, object], account_id: str) -> None:
    assert set(body) == {"token", "access_token", "token_type", "expires_in"}
    assert body["token"] == body["access_token"]
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 36000
    actor = credentials.authenticate(ctx, str(body["token"]), face="test")
    assert actor.kind is ActorKind.API_ACCOUNT
    assert actor.home_account_id == account_id


def test_form_body_as_the_documents_show(
    client: HttpClient, ctx: ServiceContext, api_client: tuple[str, str, str]
) -> None:
    account_id, client_id, secret = api_client
    response = client.post(
        "/clients/token",
        data={"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    _check_token_answer(ctx, response.json(), account_id)


def test_json_body(
    client: HttpClient, ctx: ServiceContext, api_client: tuple[str, str, str]
) -> None:
    account_id, client_id, secret = api_client
    response = client.post(
        "/clients/token",
        json={"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"},
    )
    assert response.status_code == 200, response.text
    _check_token_answer(ctx, response.json(), account_id)


def test_http_basic_client_authentication(
    client: HttpClient, ctx: ServiceContext, api_client: tuple[str, str, str]
) -> None:
    account_id, client_id, secret = api_client
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = client.post(
        "/clients/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200, response.text
    _check_token_answer(ctx, response.json(), account_id)


def test_wrong_secret_is_401(client: HttpClient, api_client: tuple[str, str, str]) -> None:
    _, client_id, _ = api_client
    response = client.post(
        "/clients/token",
        data={"client_id": client_id, "client_secret": "nope", "grant_type": "client_credentials"},
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_unknown_client_is_the_same_401(client: HttpClient) -> None:
    response = client.post(
        "/clients/token",
        data={"client_id": "ghost", "client_secret": "x", "grant_type": "client_credentials"},
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"client_id": "a"}, "invalid_request"),
        (
            {"client_id": "a", "client_secret": "b", "grant_type": "password"},
            "unsupported_grant_type",
        ),
    ],
)
def test_incomplete_or_wrong_grants_are_400(
    client: HttpClient, body: dict[str, str], error: str
) -> None:
    response = client.post("/clients/token", data=body)
    assert response.status_code == 400
    assert response.json()["error"] == error


def test_malformed_json_is_400(client: HttpClient) -> None:
    response = client.post(
        "/clients/token", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_repeated_failures_throttle_even_the_right_secret(
    client: HttpClient, ctx: ServiceContext, api_client: tuple[str, str, str]
) -> None:
    _, client_id, secret = api_client
    limit = ctx.settings.token_failures_per_window
    for _ in range(limit):
        bad = client.post(
            "/clients/token",
            data={
                "client_id": client_id,
                "client_secret": "wrong",
                "grant_type": "client_credentials",
            },
        )
        assert bad.status_code == 401
    response = client.post(
        "/clients/token",
        data={"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"},
    )
    assert response.status_code == 429
    assert response.json()["error"] == "slow_down"
    assert int(response.headers["retry-after"]) > 0


def test_a_revoked_api_account_gets_no_token(
    client: HttpClient, ctx: ServiceContext, api_client: tuple[str, str, str]
) -> None:
    from factories import OPERATOR

    account_id, client_id, secret = api_client
    credentials.revoke_api_account(ctx, OPERATOR, account_id, client_id)
    response = client.post(
        "/clients/token",
        data={"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"},
    )
    assert response.status_code == 401


def test_failures_from_one_address_do_not_lock_the_client_out_elsewhere(
    client_from: Callable[[str], HttpClient], ctx: ServiceContext, api_client: tuple[str, str, str]
) -> None:
    account_id, client_id, secret = api_client
    guesser, owner = client_from("198.51.100.7"), client_from("203.0.113.9")
    limit = ctx.settings.token_failures_per_window
    answers = [_grant(guesser, client_id, "wrong").status_code for _ in range(limit + 2)]
    assert answers == [401] * limit + [429] * 2
    assert _grant(guesser, client_id, secret).status_code == 429  # that address stays refused

    issued = _grant(owner, client_id, secret)
    assert issued.status_code == 200, issued.text
    _check_token_answer(ctx, issued.json(), account_id)


def test_past_the_ceiling_each_new_address_is_heard_once(
    client_from: Callable[[str], HttpClient], ctx: ServiceContext, api_client: tuple[str, str, str]
) -> None:
    account_id, client_id, secret = api_client
    per_address = ctx.settings.token_failures_per_window
    ceiling = ctx.settings.token_failure_ceiling_per_client
    # As many failures as the ceiling, each address failing as often as it may.
    for first in range(0, ceiling, per_address):
        guesser = client_from(f"198.51.100.{first // per_address + 1}")
        for _ in range(min(per_address, ceiling - first)):
            assert _grant(guesser, client_id, "wrong").status_code == 401

    # A new address is heard once; having failed, it is refused like the others.
    newcomer = client_from("192.0.2.77")
    assert _grant(newcomer, client_id, "wrong").status_code == 401
    assert _grant(newcomer, client_id, "wrong").status_code == 429
    assert _grant(newcomer, client_id, secret).status_code == 429
    # The owner, on an address that has not failed, still gets a token.
    issued = _grant(client_from("203.0.113.9"), client_id, secret)
    assert issued.status_code == 200, issued.text
    _check_token_answer(ctx, issued.json(), account_id)


def test_a_control_character_in_the_credentials_is_400_and_stores_nothing(
    client: HttpClient, ctx: ServiceContext, api_client: tuple[str, str, str]
) -> None:
    _, client_id, secret = api_client

    def basic(user: str, password: str) -> dict[str, str]:
        encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
        return {"Authorization": f"Basic {encoded}"}

    before = stored(ctx)
    for request in (
        {"data": {"client_id": client_id + "\x00", "client_secret": secret}},
        {"json": {"client_id": client_id, "client_secret": secret + "\x00"}},
        {"files": {"client_id": (None, client_id + "\x00"), "client_secret": (None, secret)}},
        {"headers": basic(client_id + "\x00", secret)},
        {"headers": basic(client_id + "%00", secret)},  # Basic credentials are percent-decoded
    ):
        response = client.post("/clients/token", **request)
        assert response.status_code == 400, request
        assert response.json() == {
            "error": "invalid_request",
            "error_description": describe("\x00"),
        }
    assert stored(ctx) == before


def test_a_tab_in_a_client_id_is_an_unknown_client(
    client: HttpClient, api_client: tuple[str, str, str]
) -> None:
    _, client_id, secret = api_client
    response = client.post(
        "/clients/token", data={"client_id": client_id + "\t", "client_secret": secret}
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_a_form_naming_a_charset_the_guard_cannot_read_is_400_and_stores_nothing(
    client: HttpClient, ctx: ServiceContext
) -> None:
    # In UTF-7, "+AAA-" is a NUL that no byte of the body shows.
    body = (
        b"--X\r\nContent-Disposition: form-data; name=client_id\r\n\r\nab+AAA-cd\r\n"
        b"--X\r\nContent-Disposition: form-data; name=client_secret\r\n\r\ns\r\n--X--\r\n"
    )
    before = stored(ctx)
    response = client.post(
        "/clients/token",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=X; charset=utf-7"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert stored(ctx) == before
