"""`Idempotency-Key` on every face that changes things, through HTTP, the same tests for each
(`idempotency_faces`): a change repeated with its key is made once and answered the same;
another request with the key is refused in the face's own format and changes nothing; two
credentials' keys never meet; a first attempt that failed on the server's side leaves the key
free; a key is forgotten after a day; a key whose first call still runs is a 409; a key that is
not one is refused."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from starlette.testclient import TestClient

from tenantry.app import Composition
from tenantry.domain.accounts import AccountKind, AccountStatus
from tenantry.domain.idempotency import (
    BAD_KEY,
    KEY_IN_FLIGHT,
    KEY_REUSED,
    StoredAnswer,
    fingerprint,
)
from tenantry.services import accounts, credentials, idempotency
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.idempotency import Reserved
from tenantry.services.ports import DatabaseUnavailable

from factories import OPERATOR, build_world, stored, unique_email
from httpclient import HttpClient
from idempotency_faces import FACES, KEY, Face, api_account, api_token


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=list(FACES))
def face(request: pytest.FixtureRequest, ctx: ServiceContext, client: HttpClient) -> Face:
    return FACES[request.param](ctx, client, build_world(ctx))


def succeeded(response: httpx.Response) -> bool:
    """The change was made (GraphQL says so in its body)."""
    if response.status_code not in (200, 201, 202):
        return False
    body = response.json()
    return not (isinstance(body, dict) and body.get("errors"))


# -- the tests ----------------------------------------------------------------------------------


def test_a_change_repeated_with_its_key_is_made_once_and_answered_the_same(face: Face) -> None:
    body = face.new_body()
    first = face.call(body)
    assert succeeded(first), first.text
    assert "idempotent-replayed" not in first.headers
    after_first = stored(face.ctx)

    again = face.call(body)

    assert again.status_code == first.status_code
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers.get("location") == first.headers.get("location")
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    assert stored(face.ctx) == after_first


def test_another_request_with_the_key_is_refused_and_changes_nothing(face: Face) -> None:
    assert succeeded(face.call(face.new_body()))
    before = stored(face.ctx)

    refused = face.call(face.new_body())

    assert refused.status_code == 422, refused.text
    assert face.message(refused) == KEY_REUSED
    assert stored(face.ctx) == before


def test_two_credentials_keys_never_meet(face: Face) -> None:
    body = face.new_body()
    first = face.call(body)
    other = face.new_credential()

    # The same key from another credential: a new change, never the first one's answer.
    elsewhere = face.call(face.new_body(), token=other())
    assert succeeded(elsewhere), elsewhere.text
    assert "idempotent-replayed" not in elsewhere.headers
    assert face.call(body).content == first.content


@pytest.mark.parametrize(
    ("failure", "status"),
    [(RuntimeError("the server's own failure"), 500), (DatabaseUnavailable("down"), 503)],
    ids=["500", "503"],
)
def test_a_first_attempt_that_failed_on_the_server_leaves_the_key_free(
    face: Face, monkeypatch: pytest.MonkeyPatch, failure: Exception, status: int
) -> None:
    module, name = face.fails
    real = getattr(module, name)

    def broken(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(module, name, real)  # once
        raise failure

    monkeypatch.setattr(module, name, broken)
    body = face.new_body()
    failed = face.call(body)
    assert not succeeded(failed), failed.text
    # GraphQL answers a resolver's failure with HTTP 200 and code 500 in its errors.
    assert failed.status_code == status or f'"code":{status}' in failed.text, failed.text

    retried = face.call(body)

    assert succeeded(retried), retried.text
    assert "idempotent-replayed" not in retried.headers
    assert face.call(body).content == retried.content


def test_a_key_is_forgotten_after_a_day(face: Face) -> None:
    clock = Clock()
    face.ctx.clock = clock
    assert succeeded(face.call(face.new_body()))
    clock.now += timedelta(hours=23, minutes=59)
    face.renew()
    assert face.call(face.new_body()).status_code == 422

    clock.now += timedelta(minutes=1)
    renewed = face.call(face.new_body())

    assert succeeded(renewed), renewed.text
    assert "idempotent-replayed" not in renewed.headers


def test_a_key_whose_first_call_still_runs_is_a_409(face: Face) -> None:
    body = face.new_body()
    token = face.token
    actor = credentials.authenticate(face.ctx, token, face="test")
    running = fingerprint(face.method, face.path, orjson.dumps(body))
    reserved = idempotency.begin_idempotent_call(face.ctx, actor, KEY, running)
    assert isinstance(reserved, Reserved)
    before = stored(face.ctx)

    busy = face.call(body, token=token)

    assert busy.status_code == 409, busy.text
    assert face.message(busy) == KEY_IN_FLIGHT
    assert stored(face.ctx) == before
    idempotency.abandon_idempotent_call(face.ctx, reserved)
    assert succeeded(face.call(body, token=token))


@pytest.mark.parametrize("key", [b"k" * 256, "caf\u00e9".encode(), b'"escaped \\x"', b"a\tb"])
def test_a_key_that_is_not_one_is_refused(face: Face, key: bytes) -> None:
    before = stored(face.ctx)

    refused = face.client.request(
        face.method,
        face.path,
        content=orjson.dumps(face.new_body()),
        headers={
            "Authorization": f"Bearer {face.token}",
            "Content-Type": "application/json",
            "Idempotency-Key": key,
        },
    )

    assert refused.status_code == face.invalid_status, refused.text
    assert face.message(refused) == BAD_KEY
    assert stored(face.ctx) == before


# -- where the header means nothing -------------------------------------------------------------


def test_queries_ignore_the_key(ctx: ServiceContext, client: HttpClient) -> None:
    world = build_world(ctx)
    token = api_token(ctx, world)()
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "k" * 300}
    query = {"query": "{ __typename }"}
    assert client.post("/hub/graphql/", json=query, headers=headers).status_code == 200
    assert client.get("/api/user-management/v1.0/users", headers=headers).status_code == 200
    search = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}
    assert client.post("/scim/v2/Users/.search", json=search, headers=headers).status_code == 200
    # Deleting is not creating: the header is ignored there too.
    gone = client.delete(f"/api/user-management/v1.0/users/{world.a_admin.email}", headers=headers)
    assert gone.status_code in (204, 422), gone.text


def test_an_invitation_link_is_answered_again_to_its_credential_only(
    ctx: ServiceContext, client: HttpClient
) -> None:
    """The answer kept may carry a secret (the invitation link the GraphQL document returns):
    the same credential gets it again, another credential with the same key does not."""
    world = build_world(ctx)
    tenant = accounts.create_account(
        ctx, OPERATOR, name="Shop", kind=AccountKind.ADVERTISER, parent_id=world.host.id
    )
    mutation = """mutation Add($input: AddUserWithRoleInput!) {
      userMutations { addUserWithRole(input: $input) { invitationLink user { id } } }
    }"""
    email = unique_email("invited")
    body = {
        "query": mutation,
        "variables": {"input": {"email": email, "roleName": f"advertiser-view-{tenant.id}"}},
    }
    one, two = (api_account(ctx, client, world.host.id) for _ in range(2))

    def add(token: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": KEY}
        return client.post("/hub/graphql/", json=body, headers=headers)

    first = add(one())
    link = first.json()["data"]["userMutations"]["addUserWithRole"]["invitationLink"]
    assert link.startswith("http://testserver/auth/verify/")
    assert add(one()).json() == first.json()
    assert link not in add(two()).text


def test_a_call_refused_by_the_daily_quota_runs_when_retried_the_next_day(
    ctx: ServiceContext, client: HttpClient
) -> None:
    """The bulk API answers a spent quota with a 400, which a retry after midnight does not
    meet: the key is released, not kept with that answer."""
    clock = Clock()
    clock.now = datetime(2024, 4, 15, 23, 59, tzinfo=UTC)
    ctx.clock = clock
    ctx.settings = ctx.settings.model_copy(update={"member_batch_calls_per_day": 1})
    face = FACES["bulk"](ctx, client, build_world(ctx))
    assert succeeded(face.call(face.new_body(), key=None))
    body = face.new_body()
    assert face.call(body).status_code == 400

    clock.now += timedelta(minutes=2)
    retried = face.call(body)

    assert succeeded(retried), retried.text
    assert "idempotent-replayed" not in retried.headers


def test_a_running_server_prunes_keys_older_than_a_day(composition: Composition) -> None:
    ctx = composition.context
    actor = credentials.authenticate(ctx, api_token(ctx, build_world(ctx))(), face="test")
    ctx.clock = lambda: datetime.now(UTC) - timedelta(days=1, seconds=1)
    reserved = idempotency.begin_idempotent_call(ctx, actor, KEY, "0" * 64)
    assert isinstance(reserved, Reserved)
    idempotency.finish_idempotent_call(ctx, reserved, StoredAnswer(201, (), b"{}"))
    ctx.clock = lambda: datetime.now(UTC)
    assert kept(ctx, actor)

    with TestClient(composition.asgi_app()):  # runs the server's lifespan
        deadline = time.monotonic() + 10
        while kept(ctx, actor) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not kept(ctx, actor)


def kept(ctx: ServiceContext, actor: Actor) -> bool:
    with ctx.uow(readonly=True) as uow:
        return uow.idempotency.find(idempotency.scope_of(actor), KEY) is not None


def test_a_stored_answer_is_not_given_to_a_credential_that_lost_its_account(
    ctx: ServiceContext, client: HttpClient
) -> None:
    """A replay runs no face's check: once the credential's account is deactivated, the same
    request with its key is answered by the face, which refuses it (a review saw it replayed)."""
    world = build_world(ctx)
    token = api_token(ctx, world)()
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": KEY}
    users = [
        {"email": unique_email("kept"), "username": "Demi Smith", "role": "marketing"}
        | {"allow_access_to_all_future_apps": True, "media_sources": [], "geos": []}
    ]
    first = client.post("/api/user-management/v1.0/users", json=users, headers=headers)
    assert first.status_code == 200, first.text
    again = client.post("/api/user-management/v1.0/users", json=users, headers=headers)
    assert again.headers.get("idempotent-replayed") == "true"

    accounts.update_account(
        ctx, OPERATOR, world.a.id, accounts.AccountChanges(status=AccountStatus.DEACTIVATED)
    )
    refused = client.post("/api/user-management/v1.0/users", json=users, headers=headers)
    assert refused.status_code == 401, refused.text
    assert "idempotent-replayed" not in refused.headers
    assert users[0]["email"] not in refused.text
