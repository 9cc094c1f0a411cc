"""The published OpenAPI document is what is served, and a bounded property-based run against
it (schemathesis) finds no server error and no answer outside the document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from tenantry.entrypoints.bulk_rest import OPENAPI_PATH
from tenantry.entrypoints.bulk_rest.openapi import render
from tenantry.services import accounts
from tenantry.services.context import ServiceContext

from bulk_support import Bulk
from factories import OPERATOR, make_member
from httpclient import HttpClient

CONTRACT = Path(__file__).parents[3] / "docs" / "contracts" / "bulk-rest.openapi.json"
EXAMPLES_PER_OPERATION = 30


def test_the_served_document_is_the_published_contract(client: HttpClient, tmp_path: Path) -> None:
    response = client.get(OPENAPI_PATH)
    assert response.status_code == 200
    served = render(response.json())
    if served != CONTRACT.read_text(encoding="utf-8"):
        fresh = tmp_path / CONTRACT.name
        fresh.write_text(served, encoding="utf-8")
        pytest.fail(
            f"The bulk REST OpenAPI document changed: review {fresh}, then copy it to "
            "docs/contracts/bulk-rest.openapi.json."
        )


def test_a_docs_page_shows_the_document(client: HttpClient) -> None:
    response = client.get(OPENAPI_PATH.replace("openapi.json", "docs"))
    assert response.status_code == 200
    assert OPENAPI_PATH in response.text


# What each answer must satisfy. Left out by design: schema-valid data can be refused (a
# cursor this API never returned, an unknown role) and invalid data partly accepted (the valid
# users of a mixed array are added); checks that send requests of their own (ignored auth,
# unsupported methods) are covered by the tests of credentials and unknown methods.
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_operation_answers_outside_the_document(
    bulk: Bulk, client: HttpClient, ctx: ServiceContext, mode: GenerationMode
) -> None:
    # Enough quota for the run, some apps and members for the generated calls to meet.
    ctx.settings = ctx.settings.model_copy(update={"member_batch_calls_per_day": 1_000_000})
    accounts.add_app(ctx, OPERATOR, bulk.account.id, "my_app1")
    for role in ("marketing", "qa", "manage"):
        make_member(ctx, bulk.account, role=role)
    schema = schemathesis.openapi.from_dict(client.get(OPENAPI_PATH).json())
    auth = {"Authorization": f"Bearer {bulk.token}"}
    exercised: set[str] = set()

    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        exercise(client, result.ok(), mode, auth)
        exercised.add(result.ok().label)

    assert exercised == {
        "GET /api/user-management/v1.0/users",
        "POST /api/user-management/v1.0/users",
        "DELETE /api/user-management/v1.0/users/{emails}",
        "GET /api/user-management/v1.0/roles",
    }


def exercise(
    client: HttpClient, operation: Any, mode: GenerationMode, auth: dict[str, str]
) -> None:
    """Up to EXAMPLES_PER_OPERATION generated calls of one operation, each answer checked."""

    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=auth)
        sent = {k: v for k, v in kwargs.items() if k in ("headers", "params", "json", "content")}
        response = client.request(kwargs["method"], kwargs["url"], **sent)
        assert response.status_code < 500, response.text
        case.validate_response(response, headers=auth, transport_kwargs=kwargs, checks=CHECKS)

    check()
