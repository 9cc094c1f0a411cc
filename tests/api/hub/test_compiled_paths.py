"""On real data, the hub's and CAPIG's compiled paths answer as graphql-core does.

Queries are generated from each schema (hypothesis-graphql); the ids they name are drawn from
the accounts and users that exist, plus ones that do not and text that is no id at all, and
they are asked by a partner's API account and by an advertiser's view-only one. Both paths run
the same resolvers and loaders, each with fresh per-request loaders, and their answers
(`data` and formatted `errors`) must be equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries

from tenantry.domain.accounts import AccountKind
from tenantry.domain.memberships import Membership
from tenantry.entrypoints.graphql import capig, hub, hub_loaders
from tenantry.entrypoints.graphql.endpoint import _run
from tenantry.entrypoints.graphql.engine import GraphQLEngine
from tenantry.entrypoints.graphql.hub_loaders import HubLoaders
from tenantry.services import accounts, credentials, members, setup
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.members import NewMember

OPERATOR = Actor.system(face="test")
IDS = re.compile(r'\b(tenantId|userId|id): "(?:[^"\\]|\\.)*"')


@dataclass
class Data:
    actors: list[Actor]
    tenant_ids: list[str]
    user_ids: list[str]


@pytest.fixture
def data(ctx: ServiceContext) -> Data:
    init = setup.initialize(ctx)
    assert init.client_id is not None
    assert init.client_secret is not None
    tenants = [
        accounts.create_account(
            ctx, OPERATOR, name=f"T{n}", kind=AccountKind.ADVERTISER, parent_id=init.account_id
        )
        for n in range(2)
    ]
    users = []
    for n, role in enumerate(("admin", "manage", "view")):
        added = members.add_member(ctx, OPERATOR, tenants[0].id, NewMember(f"u{n}@x.org", role))
        users.append(added.user.id)
    members.add_member(ctx, OPERATOR, tenants[1].id, NewMember("v@x.org", "admin"))
    with ctx.uow() as uow:  # the first user holds roles in both tenants (see below)
        uow.memberships.add_many(
            [Membership(users[0], tenants[1].id, "view", created_at=ctx.now())]
        )
    _, secret = credentials.create_api_account(
        ctx, OPERATOR, tenants[0].id, "viewer", role_key="view"
    )
    tokens = [
        credentials.issue_access_token(ctx, init.client_id, init.client_secret).token,
        credentials.issue_access_token(ctx, "viewer", secret).token,
    ]
    actors = [credentials.authenticate(ctx, t, face="graphql") for t in tokens]
    return Data(actors, [init.account_id, *(t.id for t in tenants)], users)


def with_ids(query: str, draw: Any, data: Data) -> str:
    def replace(match: re.Match[str]) -> str:
        ids = data.user_ids if match.group(1) == "userId" else data.tenant_ids
        chosen = draw(st.sampled_from([*ids, "ZZZZZZZZ", "not an id"]))
        return f'{match.group(1)}: "{chosen}"'

    return IDS.sub(replace, query)


def answers_alike(engines: tuple[GraphQLEngine, GraphQLEngine], make: Any, query: str) -> None:
    compiled, reference = engines
    ours = _run(compiled, query, None, None, make, "r")
    # The reference reads nothing ahead: what the resolvers read ahead changes no answer.
    theirs = _run(reference, query, None, None, lambda _: make(frozenset()), "r")
    assert ours == theirs


def pair(build: Any) -> tuple[GraphQLEngine, GraphQLEngine]:
    compiled, reference = build(), build()
    reference.compiled = False
    return compiled, reference


SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@SETTINGS
@given(st.data())
def test_hub_queries_answer_alike(
    ctx: ServiceContext, data: Data, monkeypatch: pytest.MonkeyPatch, draw: st.DataObject
) -> None:
    # One role listed per person: the first user's two roles are refused where the caller sees
    # both tenants and listed where it sees one, in both paths alike.
    monkeypatch.setattr(hub_loaders, "ROLES_LISTED", 1)
    engines = pair(hub.build_hub_engine)
    query = with_ids(
        draw.draw(queries(engines[0].schema, fields=["tenant", "tenants", "user"])), draw.draw, data
    )
    actor = draw.draw(st.sampled_from(data.actors))
    answers_alike(
        engines,
        lambda selected: hub.HubRequest(ctx, actor, HubLoaders(ctx, actor), selected),
        query,
    )


@SETTINGS
@given(st.data())
def test_capig_queries_answer_alike(ctx: ServiceContext, data: Data, draw: st.DataObject) -> None:
    engines = pair(capig.build_engine)
    query = with_ids(draw.draw(queries(engines[0].schema)), draw.draw, data)
    actor = draw.draw(st.sampled_from(data.actors))
    answers_alike(engines, lambda _: capig.CapigRequest(ctx, actor), query)
