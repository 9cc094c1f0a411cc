"""A bounded property-based run (schemathesis) over every operation of both GraphQL schemas, as
committed in docs/contracts: no server error (neither a 5xx nor a `500` in an error's
extensions) and every answer conforms to the committed schema.

The faces answer refusals as errors beside `data` (the CAPIG documents' `extensions.code`), which
schemathesis' own GraphQL checks count as server errors, so the answers are judged here: a JSON
object of `data` and `errors`, no error of the server's, and no field that broke its declared
type (graphql-core reports a null in a non-null field; the types of the other fields are the
executor's, on the served schema, which the hub and capig contract tests hold equal to the
committed one). The OpenAPI faces have their own runs beside their contract tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from graphql import build_schema
from hypothesis import HealthCheck
from schemathesis import GenerationMode

from tenantry.services import accounts, setup
from tenantry.services.context import ServiceContext

from factories import OPERATOR, make_account, make_member
from httpclient import HttpClient

CONTRACTS = Path(__file__).parents[2] / "docs" / "contracts"
EXAMPLES_PER_OPERATION = 10
# What is generated is the schema's; the engine underneath is the other tests' concern.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
NON_NULL_BROKEN = "Cannot return null for non-nullable field"


def _access_token(client: HttpClient, ctx: ServiceContext) -> str:
    init = setup.initialize(ctx)
    with ctx.uow(readonly=True) as uow:
        host = uow.accounts.get(init.account_id)
    # Something for the generated calls to meet: a tenant with members and an app.
    tenant = make_account(ctx, parent=host, name="Generated")
    make_member(ctx, tenant, role="admin")
    make_member(ctx, tenant, role="view")
    accounts.add_app(ctx, OPERATOR, tenant.id, "app1")
    response = client.post(
        "/clients/token",
        data={
            "grant_type": "client_credentials",
            "client_id": init.client_id,
            "client_secret": init.client_secret,
        },
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.mark.parametrize("face", ["hub", "capig"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_operation_errs_or_answers_outside_the_schema(
    client: HttpClient, ctx: ServiceContext, face: str, mode: GenerationMode
) -> None:
    schema = schemathesis.graphql.from_path(CONTRACTS / f"{face}.graphql")
    auth = {"Authorization": f"Bearer {_access_token(client, ctx)}"}
    exercised: set[str] = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        _exercise(client, f"/{face}/graphql/", operation, mode, auth)
        exercised.add(operation.label)
    sdl = build_schema((CONTRACTS / f"{face}.graphql").read_text(encoding="utf-8"))
    roots = [t for t in (sdl.query_type, sdl.mutation_type) if t is not None]
    assert exercised == {f"{t.name}.{name}" for t in roots for name in t.fields}


def _exercise(
    client: HttpClient, path: str, operation: Any, mode: GenerationMode, auth: dict[str, str]
) -> None:
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
        response = client.post(path, json=kwargs["json"], headers=auth)
        assert response.status_code in (200, 400), response.text
        body = response.json()
        assert isinstance(body, dict)
        assert set(body) <= {"data", "errors"}, body
        errors = body.get("errors") or []
        codes = [e.get("extensions", {}).get("code") for e in errors]
        assert not [c for c in codes if not isinstance(c, int) or c >= 500], body
        assert not [e for e in errors if NON_NULL_BROKEN in e["message"]], body
        if mode is GenerationMode.NEGATIVE and "data" not in body:
            assert errors, body

    check()
