"""Every sample request of the Invoca document, replayed verbatim, gets the sample's answer.

The samples' paths are used as printed, with the network's id for `<network_id>` and the
sample user's id for `<user_id>`; bodies are sent byte for byte, but for the page's hidden
e-mail address (see network_samples.py). The read samples show the state the update sample leaves.
The page shows no answer for create and update: those answer the user as read afterwards.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import network_samples as samples
import pytest

from network_support import Net

USER_ID = "549494858585Dxlj2uCX0ijqXP4nAW"


def path_of(net: Net, endpoint: str) -> str:
    path = urlsplit(endpoint).path
    return path.replace("<network_id>", net.network.id).replace("<user_id>", USER_ID)


def body_of(text: str) -> bytes:
    return text.replace(samples.OBFUSCATED, samples.ADDRESS).encode()


def expected(text: str) -> Any:
    return json.loads(body_of(text))


def send(net: Net, method: str, endpoint: str, text: str | None = None) -> Any:
    kwargs: dict[str, Any] = {"headers": {"Authorization": net.token}}
    if text is not None:
        kwargs["content"] = body_of(text)
        kwargs["headers"]["Content-Type"] = "application/json"
    return net.client.request(method, path_of(net, endpoint), **kwargs)


@pytest.fixture
def advertiser(net: Net) -> None:
    net.advertiser("e0Fv6YEk")


def test_the_samples_parse_as_printed() -> None:
    for text in (
        samples.READ_ALL_RESPONSE,
        samples.READ_ONE_RESPONSE,
        samples.CREATE_REQUEST,
        samples.UPDATE_REQUEST,
        samples.DELETE_RESPONSE,
    ):
        json.loads(text)


@pytest.mark.usefixtures("advertiser")
def test_create_an_advertiser_user(net: Net) -> None:
    response = send(net, "POST", samples.CREATE, samples.CREATE_REQUEST)
    assert response.status_code == 201, response.text
    sent = expected(samples.CREATE_REQUEST)["user"]
    assert response.json() == {
        **sent,
        "contact_country_code": None,
        "can_login_via_platform": False,
    }
    read = send(net, "GET", samples.READ_ONE)
    assert read.status_code == 200
    assert read.json() == response.json()


@pytest.mark.usefixtures("advertiser")
def test_create_again_is_an_update_that_changes_nothing(net: Net) -> None:
    first = send(net, "POST", samples.CREATE, samples.CREATE_REQUEST)
    events = len(net.audit())
    again = send(net, "POST", samples.CREATE, samples.CREATE_REQUEST)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert len(net.audit()) == events


@pytest.mark.usefixtures("advertiser")
def test_update_an_advertiser_user(net: Net) -> None:
    send(net, "POST", samples.CREATE, samples.CREATE_REQUEST)
    response = send(net, "PUT", samples.UPDATE, samples.UPDATE_REQUEST)
    assert response.status_code == 200, response.text
    assert response.json() == expected(samples.READ_ONE_RESPONSE)


@pytest.mark.usefixtures("advertiser")
def test_update_creates_a_missing_user(net: Net) -> None:
    response = send(net, "PUT", samples.UPDATE, samples.UPDATE_REQUEST)
    assert response.status_code == 200, response.text
    assert response.json() == expected(samples.READ_ONE_RESPONSE)


@pytest.mark.usefixtures("advertiser")
def test_read_all_advertiser_users(net: Net) -> None:
    send(net, "PUT", samples.UPDATE, samples.UPDATE_REQUEST)
    response = send(net, "GET", samples.READ_ALL)
    assert response.status_code == 200
    assert response.json() == expected(samples.READ_ALL_RESPONSE)


@pytest.mark.usefixtures("advertiser")
def test_read_a_specific_advertiser_user(net: Net) -> None:
    send(net, "PUT", samples.UPDATE, samples.UPDATE_REQUEST)
    response = send(net, "GET", samples.READ_ONE)
    assert response.status_code == 200
    assert response.json() == expected(samples.READ_ONE_RESPONSE)


@pytest.mark.usefixtures("advertiser")
def test_delete_an_advertiser_user(net: Net) -> None:
    send(net, "PUT", samples.UPDATE, samples.UPDATE_REQUEST)
    response = send(net, "DELETE", samples.DELETE)
    assert response.status_code == 200
    assert response.json() == expected(samples.DELETE_RESPONSE) == {}
    assert send(net, "GET", samples.READ_ONE).status_code == 404
    assert send(net, "GET", samples.READ_ALL).json() == []


@pytest.mark.usefixtures("advertiser")
def test_deleting_again_is_a_no_op(net: Net) -> None:
    send(net, "PUT", samples.UPDATE, samples.UPDATE_REQUEST)
    send(net, "DELETE", samples.DELETE)
    events = len(net.audit())
    response = send(net, "DELETE", samples.DELETE)
    assert (response.status_code, response.json()) == (200, {})
    assert len(net.audit()) == events
