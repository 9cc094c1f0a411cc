"""The published OpenAPI document is what is served, and a bounded property-based run against
it (schemathesis) finds no server error and no answer outside the document."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tenantry.entrypoints.network_rest import OPENAPI_PATH, PREFIX
from tenantry.entrypoints.network_rest.openapi import render
from tenantry.entrypoints.network_rest.router import ROUTES

from httpclient import HttpClient
from network_support import VERSION, Net, user_body

CONTRACT = Path(__file__).parents[3] / "docs" / "contracts" / "network-rest.openapi.json"
EXAMPLES_PER_OPERATION = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_the_served_document_is_the_published_contract(client: HttpClient, tmp_path: Path) -> None:
    response = client.get(OPENAPI_PATH)
    assert response.status_code == 200
    served = render(response.json())
    if served != CONTRACT.read_text(encoding="utf-8"):
        fresh = tmp_path / CONTRACT.name
        fresh.write_text(served, encoding="utf-8")
        pytest.fail(
            f"The network REST OpenAPI document changed: review {fresh}, then copy it to "
            "docs/contracts/network-rest.openapi.json."
        )


def test_the_document_lists_every_route_served(client: HttpClient) -> None:
    paths = client.get(OPENAPI_PATH).json()["paths"]
    documented = {(path, method.upper()) for path, ops in paths.items() for method in ops}
    served = {(PREFIX + route.path + ".json", route.method) for route in ROUTES}
    assert documented == served


def test_no_operation_answers_a_5xx_or_outside_the_document(net: Net, client: HttpClient) -> None:
    # Something for the generated calls to meet: an advertiser with a user.
    net.advertiser("adv", users=[user_body("u1")])
    schema = schemathesis.openapi.from_dict(client.get(OPENAPI_PATH).json())
    statuses: dict[str, set[int]] = {}
    for result in schema.get_all_operations():
        exercise(result.ok(), net, client, statuses)
    assert len(statuses) == len(ROUTES)
    # The run reached past authentication and validation into the services.
    assert any(200 in codes or 201 in codes for codes in statuses.values()), statuses


def exercise(operation: Any, net: Net, client: HttpClient, statuses: dict[str, set[int]]) -> None:
    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy())
    def check(case: Any) -> None:
        # Every call goes to this network in a served version, about half of them to the
        # advertiser that exists; the rest of each call is as generated.
        params = case.path_parameters
        params["network_id"], params["version"] = net.network.id, VERSION
        if "advertiser_id" in params and zlib.crc32(repr(case.body).encode()) % 2:
            params["advertiser_id"] = "adv"
        auth = {"Authorization": net.token}
        kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=auth)
        response = client.request(
            kwargs.pop("method"),
            kwargs.pop("url"),
            **{k: v for k, v in kwargs.items() if k in ("headers", "params", "json", "content")},
        )
        assert response.status_code < 500, response.text
        statuses.setdefault(operation.label, set()).add(response.status_code)
        case.validate_response(response, checks=CHECKS, headers=auth, transport_kwargs=kwargs)

    check()
