"""The dialect's error answers, each from one mapping: 401 and 404 with `invalid_data` and
`class`, 403 with messages by field (nested where the input is), 500 with an error handle that
is also in the log, never a traceback and never a secret."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tenantry.domain.errors import MESSAGES, ErrorCode, error_for
from tenantry.domain.managed import InvalidNetworkInput, Problem
from tenantry.entrypoints.http.control_characters import describe
from tenantry.entrypoints.http.logs import JsonFormatter
from tenantry.entrypoints.network_rest.errors import error_response, nest
from tenantry.services import managed_users
from tenantry.services.context import ServiceContext
from tenantry.storage.repositories.users import SqlUserRepository

from factories import make_member, stored
from network_support import Net, advertiser_body, user_body


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logged() -> Iterator[list[str]]:
    handler = Collect()
    logger = logging.getLogger("tenantry")
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


# -- every code, one mapping ---------------------------------------------------------------------


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_error_code_has_an_answer_in_the_dialect(code: ErrorCode) -> None:
    response = error_response(error_for(code, field="name"))
    body: Any = __import__("orjson").loads(response.body)
    if response.status_code in (401, 404, 429):
        assert body == {
            "errors": {
                "invalid_data": MESSAGES[code],
                "class": {401: "Unauthorized", 404: "RecordNotFound", 429: "TooManyRequests"}[
                    response.status_code
                ],
            }
        }
    else:
        assert response.status_code == 403
        field = "name"
        assert body == {"errors": {field: [MESSAGES[code]]}}


def test_a_core_error_without_a_field_is_under_base() -> None:
    response = error_response(error_for(ErrorCode.CONFLICT))
    assert response.status_code == 403
    assert b'"base"' in response.body


def test_nesting_aligns_arrays_with_the_input() -> None:
    problems = [
        Problem(("users", 2, "email_settings", 1, "email_address"), "is invalid"),
        Problem(("users", 2, "first_name"), "can't be blank"),
        Problem(("users", 0), "must be an object"),
        Problem(("users",), "can't have two admins"),
        Problem((), "went wrong"),
    ]
    assert nest(problems) == {
        "users": [
            {"base": ["must be an object"]},
            {},
            {
                "email_settings": [{}, {"email_address": ["is invalid"]}],
                "first_name": ["can't be blank"],
            },
        ],
        "base": ["users can't have two admins", "went wrong"],
    }
    assert InvalidNetworkInput(problems).field == "users.2.email_settings.1.email_address"


# -- over HTTP -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{", "is not valid JSON"),
        (b"\xff\xfe", "is not valid JSON"),
        (b"[" * 5000 + b"]" * 5000, "is not valid JSON"),
        (b"[]", "must be a JSON object"),
        (b'"users"', "must be a JSON object"),
    ],
)
def test_a_body_that_is_not_a_json_object(net: Net, content: bytes, message: str) -> None:
    response = net.put(
        "/network.json", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 403
    assert response.json() == {"errors": {"body": [message]}}


def test_a_missing_user_wrapper(net: Net) -> None:
    net.advertiser("adv")
    response = net.post("/advertisers/adv/users.json", json=user_body("u1"))
    assert response.status_code == 403
    assert response.json() == {"errors": {"user": ["can't be blank"]}}


def test_unknown_user_is_404(net: Net) -> None:
    net.advertiser("adv")
    response = net.get("/advertisers/adv/users/nobody.json")
    assert response.status_code == 404
    assert response.json() == {
        "errors": {
            "invalid_data": "Could not find User nobody for advertiser adv",
            "class": "RecordNotFound",
        }
    }


def test_ids_no_one_can_have_are_not_found(net: Net) -> None:
    net.advertiser("adv")
    # (An id with a control character in it is refused before: see the test at the end.)
    for path in ("/advertisers/%20adv.json", f"/advertisers/adv/users/{'x' * 256}.json"):
        assert net.get(path).status_code == 404


def test_a_user_who_logs_in_directly_is_refused_with_a_clear_message(
    net: Net, ctx: ServiceContext
) -> None:
    account = net.advertiser("adv")
    person = make_member(ctx, account, role="view", first_name="Ada", last_name="Lovelace")
    # Give them a network id, as a user the network once managed and who now logs in directly.
    with ctx.uow() as uow:
        person.id_from_network, person.network_account_id = "ada", net.network.id
        uow.users.update(person)
    expected = {"errors": {"can_login_via_platform": [MESSAGES[ErrorCode.NETWORK_MANAGED_ONLY]]}}
    body = {"user": user_body("ada", first_name="Augusta")}
    for response in (
        net.put("/advertisers/adv/users/ada.json", json=body),
        net.post("/advertisers/adv/users.json", json=body),
        net.delete("/advertisers/adv/users/ada.json"),
    ):
        assert response.status_code == 403
        assert response.json() == expected
    shown = net.get("/advertisers/adv/users/ada.json").json()
    assert (shown["first_name"], shown["can_login_via_platform"]) == ("Ada", True)


def test_an_unexpected_failure_is_a_500_with_a_handle_in_the_log(
    net: Net, monkeypatch: pytest.MonkeyPatch, logged: list[str]
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the disk caught fire")

    monkeypatch.setattr(managed_users, "get_network", boom)
    response = net.get("/network.json", headers={"X-Request-ID": "handle-1234567"})
    assert response.status_code == 500
    assert response.json() == {
        "errors": {
            "invalid_data": "refer to error handle handle-1234567",
            "class": "InternalServiceError",
        }
    }
    assert response.headers["x-request-id"] == "handle-1234567"
    assert "Traceback" not in response.text
    line = next(line for line in logged if "handle-1234567" in line and "fire" in line)
    assert "RuntimeError" in line


def test_secrets_never_reach_the_log(
    net: Net, monkeypatch: pytest.MonkeyPatch, logged: list[str]
) -> None:
    def failing(self: SqlUserRepository, users: object) -> None:
        raise sa.exc.DataError(
            "INSERT INTO users ...", {"oauth_refresh_token": "refresh-secret-42"}, Exception()
        )

    monkeypatch.setattr(SqlUserRepository, "add_many", failing)  # the network's new users
    body = {"users": [user_body("u1", oauth_refresh_token="refresh-secret-42")]}
    response = net.client.put(net.url(f"/network.json?oauth_token={net.token}"), json=body)
    assert response.status_code == 500
    assert logged, "the failure is logged"
    text = "\n".join(logged)
    assert "refresh-secret-42" not in text
    assert net.token not in text
    assert "DataError" in text


def test_a_control_character_is_invalid_input_and_stores_nothing(
    net: Net, ctx: ServiceContext
) -> None:
    net.advertiser("adv-1")
    before = stored(ctx)
    for response in (
        net.post("/advertisers.json", json=advertiser_body(name="Acme\x00")),
        net.put("/advertisers/adv-1.json", json={"name": "Acme", "custom_data": {"k\x00": 1}}),
        net.get("/advertisers.json", params={"id_from_network": "adv\x00"}),
        net.get("/advertisers/adv%001.json"),
    ):
        # The dialect's answer to invalid input (a body that is not JSON gets the same).
        assert response.status_code == 403
        assert response.json() == {"errors": {"base": [describe("\x00")]}}
    assert stored(ctx) == before


def test_a_tab_is_the_fields_to_refuse_and_a_backslash_is_text(net: Net) -> None:
    tab = net.post("/advertisers.json", json=advertiser_body(name="Acme\tWest"))
    assert tab.status_code == 403
    assert tab.json() == {"errors": {"name": ["is invalid"]}}  # the name's own rule
    text = net.post("/advertisers.json", json=advertiser_body(name="Acme \\u0000"))
    assert text.status_code == 201, text.text
    assert text.json()["name"] == "Acme \\u0000"
