"""The token in each documented place, the network it reaches and nothing else, the versions
served and the optional `.json` suffix."""

from __future__ import annotations

import pytest

from tenantry.domain.accounts import AccountKind
from tenantry.services import credentials, setup
from tenantry.services.context import ServiceContext

from factories import OPERATOR, make_account, make_member
from network_support import Net, user_body

UNAUTHORIZED = "Unauthorized"


def error_class(response: object) -> str:
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"errors"}
    assert set(body["errors"]) == {"invalid_data", "class"}
    kind: str = body["errors"]["class"]
    return kind


@pytest.mark.parametrize("form", ["{token}", "Bearer {token}", "bearer  {token}"])
def test_the_authorization_header_with_or_without_bearer(net: Net, form: str) -> None:
    response = net.get("/network.json", token=form.format(token=net.token))
    assert response.status_code == 200, response.text
    assert response.json()["name"] == net.network.name


def test_the_token_as_a_query_parameter(net: Net) -> None:
    response = net.client.get(net.url(f"/network.json?oauth_token={net.token}"))
    assert response.status_code == 200


def test_the_token_as_a_body_key(net: Net) -> None:
    net.advertiser("a1")
    response = net.client.post(
        net.url("/advertisers/a1/users.json"),
        json={"oauth_token": net.token, "user": user_body("u1")},
    )
    assert response.status_code == 201, response.text
    assert "oauth_token" not in response.json()


def test_an_api_token_of_a_network_user(net: Net, ctx: ServiceContext) -> None:
    _, token, _ = credentials.create_api_token(ctx, OPERATOR, net.network.id)
    assert net.get("/network", token=token).status_code == 200


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "tna_nope_nope",
        "not a token",
        "tnt_\u00e9_x".encode("latin-1"),
        "x" * 600,
        "Basic abc",
    ],
)
def test_missing_or_bad_tokens_are_401(net: Net, token: str | bytes | None) -> None:
    headers = {} if token is None else {"Authorization": token}
    response = net.client.get(net.url("/network.json"), headers=headers)
    assert response.status_code == 401
    assert error_class(response) == UNAUTHORIZED
    assert "traceback" not in response.text.lower()


def test_a_bad_token_in_the_query_is_401(net: Net) -> None:
    response = net.client.get(net.url("/network.json?oauth_token=not%20a%20token"))
    assert response.status_code == 401


def test_another_networks_token_reaches_nothing(net: Net, ctx: ServiceContext) -> None:
    net.advertiser("shared-id")
    other = make_account(ctx, kind=AccountKind.PARTNER, name="Other network")
    make_member(ctx, other, role="admin")
    _, other_token, _ = credentials.create_api_token(ctx, OPERATOR, other.id)
    for method, path in [
        ("GET", "/network.json"),
        ("PUT", "/network.json"),
        ("GET", "/advertisers.json"),
        ("GET", "/advertisers/shared-id.json"),
        ("DELETE", "/advertisers/shared-id.json"),
        ("GET", "/advertisers/shared-id/users.json"),
    ]:
        response = net.request(method, path, token=other_token, json={"users": []})
        assert response.status_code == 401, (method, path, response.text)
        assert error_class(response) == UNAUTHORIZED
    assert net.get("/advertisers/shared-id.json").status_code == 200
    # Nor does it tell whether a network exists.
    missing = net.client.get(
        "/api/2019-05-01/ZZZZZZZZ/network.json", headers={"Authorization": other_token}
    )
    assert missing.status_code == 401


def test_an_advertisers_token_is_not_a_network_token(net: Net, ctx: ServiceContext) -> None:
    advertiser = net.advertiser("adv")
    make_member(ctx, advertiser, role="admin")
    _, token, _ = credentials.create_api_token(ctx, OPERATOR, advertiser.id)
    assert net.get("/advertisers/adv.json", token=token).status_code == 401


def test_a_network_observer_reads_but_does_not_change(net: Net, ctx: ServiceContext) -> None:
    viewer = make_member(ctx, net.network, role="view")
    _, token, _ = credentials.create_api_token(
        ctx, OPERATOR, net.network.id, user_email=viewer.email
    )
    assert net.get("/network.json", token=token).status_code == 200
    response = net.put("/network.json", token=token, json={"users": [user_body()]})
    assert response.status_code == 401
    assert error_class(response) == UNAUTHORIZED


def test_an_account_that_is_not_a_network(net: Net, ctx: ServiceContext) -> None:
    advertiser = net.advertiser("adv")
    make_member(ctx, advertiser, role="admin")
    _, token, _ = credentials.create_api_token(ctx, OPERATOR, advertiser.id)
    response = net.client.get(
        f"/api/2019-05-01/{advertiser.id}/network.json", headers={"Authorization": token}
    )
    assert response.status_code == 404
    assert error_class(response) == "RecordNotFound"
    assert response.json()["errors"]["invalid_data"] == f"Could not find Network {advertiser.id}"


@pytest.mark.parametrize(
    "version", ["2019-05-01", "2020-10-01", "2022-03-01", "2022-08-01", "2031-01-01"]
)
def test_versions_from_2019_05_01_on_are_served_alike(net: Net, version: str) -> None:
    net.version = version
    response = net.get("/network.json")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "version", ["2018-11-01", "2013-03-22", "2019-02-30", "latest", "2019-5-1"]
)
def test_other_versions_are_not_found(net: Net, version: str) -> None:
    net.version = version
    response = net.get("/network.json")
    assert response.status_code == 404
    assert error_class(response) == "RecordNotFound"
    assert "2019-05-01" in response.json()["errors"]["invalid_data"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/network"),
        ("GET", "/advertisers"),
        ("GET", "/advertisers/a1"),
        ("GET", "/advertisers/a1/users"),
        ("GET", "/advertisers/a1/users/u1"),
        ("PUT", "/advertisers/a1/users/u1"),
        ("DELETE", "/advertisers/a1/users/u1"),
    ],
)
def test_the_json_suffix_is_optional(net: Net, method: str, path: str) -> None:
    net.advertiser("a1")
    net.put("/advertisers/a1/users/u1.json", json={"user": user_body("u1")})
    body = {"user": user_body("u1")} if method == "PUT" else None
    plain = net.request(method, path, json=body)
    suffixed = net.request(method, path + ".json", json=body)
    assert plain.status_code == suffixed.status_code == 200, (plain.text, suffixed.text)
    assert plain.json() == suffixed.json()


def test_setup_is_a_network(ctx: ServiceContext) -> None:
    # The host `tenantry init` makes is a top-level partner: a network.
    init = setup.initialize(ctx)
    with ctx.uow(readonly=True) as uow:
        host = uow.accounts.get(init.account_id)
    assert host.kind is AccountKind.PARTNER
    assert host.parent_id is None
