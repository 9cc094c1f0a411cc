"""The compiled execution path answers exactly as graphql-core, errors included.

Generated queries (hypothesis-graphql) over a schema of every shape the hub and CAPIG schemas
use (nullable and non-null objects, lists of nullable and non-null items, enums, scalars,
arguments, aliases, fragments, @skip/@include), run over generated data in which any value
may be missing, of the wrong type, an exception returned or one raised: both paths must give
the same `data` and the same errors (message, locations, path, in order). Half the data is
well-formed, so that the direct projection's own answers are compared too, not only the
generic path it gives up to at the first fault.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import ExecutionResult, build_schema, execute, parse, validate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries

from tenantry.entrypoints.graphql.compiled import CompiledOperation
from tenantry.entrypoints.graphql.documents import choose_operation
from tenantry.entrypoints.graphql.engine import GraphQLEngine

SDL = """
enum Color { RED GREEN }
type Query {
  item(id: ID!): Item
  items(first: Int = 2): [Item!]
  required: Item!
  names: [String]!
  count(n: Int = 1): Int
}
type Item {
  id: ID!
  name: String
  color: Color
  size: Int
  ok: Boolean!
  tags: [String!]
  parts: [Part]
  best: Part!
}
type Part { label: String! weight: Float note: String }
"""
SCHEMA = build_schema(SDL)


class Boom(Exception):
    pass


def leaf(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A leaf value: valid, missing, of another type, or an error returned or raised."""
    return st.one_of(
        valid,
        valid,
        valid,
        st.none(),
        st.sampled_from(["text", 3, 2.5, True, ["a"], {"k": 1}]),
        st.just(Boom("returned")),
        st.just(_raises("raised")),
    )


def _raises(message: str) -> Any:
    def resolve(_info: Any, **_args: Any) -> Any:
        raise Boom(message)

    return resolve


def maybe(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(value, value, value, st.none(), st.just(Boom("gone")), st.just("not this"))


def listing(item: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return maybe(st.lists(item, max_size=3))


PART = st.fixed_dictionaries(
    {
        "label": leaf(st.text(max_size=3)),
        "weight": leaf(st.floats(allow_nan=False, allow_infinity=False)),
        "note": leaf(st.text(max_size=3)),
    }
)
ITEM = st.fixed_dictionaries(
    {
        "id": leaf(st.text(min_size=1, max_size=3)),
        "name": leaf(st.text(max_size=3)),
        "color": leaf(st.sampled_from(["RED", "GREEN", "BLUE"])),
        "size": leaf(st.integers(-(2**33), 2**33)),
        "ok": leaf(st.booleans()),
        "tags": listing(leaf(st.text(max_size=2))),
        "parts": listing(maybe(PART)),
        "best": maybe(PART),
    }
)
ROOT = st.fixed_dictionaries(
    {
        "item": maybe(ITEM),
        "items": listing(maybe(ITEM)),
        "required": maybe(ITEM),
        "names": listing(leaf(st.text(max_size=2))),
        "count": leaf(st.integers(-5, 5)),
    }
)


# Data the projection answers in full (its only errors the schema's own), so that what it
# answers, not the generic path it gives up to, is compared.
WELL_FORMED_PART = st.fixed_dictionaries(
    {
        "label": st.text(max_size=3),
        "weight": st.none() | st.floats(allow_nan=False, allow_infinity=False),
        "note": st.none() | st.text(max_size=3),
    }
)
WELL_FORMED_ITEM = st.fixed_dictionaries(
    {
        "id": st.text(min_size=1, max_size=3),
        "name": st.none() | st.text(max_size=3),
        "color": st.none() | st.sampled_from(["RED", "GREEN"]),
        "size": st.none() | st.integers(-5, 5),
        "ok": st.booleans(),
        "tags": st.none() | st.lists(st.text(max_size=2), max_size=2),
        "parts": st.lists(WELL_FORMED_PART, min_size=1, max_size=3),
        "best": WELL_FORMED_PART,
    }
)
WELL_FORMED_ROOT = st.fixed_dictionaries(
    {
        "item": WELL_FORMED_ITEM,
        "items": st.lists(WELL_FORMED_ITEM, min_size=1, max_size=2),
        "required": WELL_FORMED_ITEM,
        "names": st.lists(st.text(max_size=2), max_size=2),
        "count": st.integers(-5, 5),
    }
)


# Faulty data tests how the projection gives up to the generic path; well-formed data, what
# the projection answers itself.
ANY_ROOT = ROOT | WELL_FORMED_ROOT


def reference(document: Any, root: Any, variables: dict[str, Any] | None) -> ExecutionResult:
    result = execute(SCHEMA, document, root_value=root, variable_values=variables)
    assert isinstance(result, ExecutionResult)
    return result


def compiled(document: Any, root: Any, variables: dict[str, Any] | None) -> ExecutionResult:
    operation = choose_operation(document, None)
    assert operation is not None
    plan = CompiledOperation(SCHEMA, document, operation)
    result = plan.execute(None, variables, root_value=root)
    assert result is not None
    return result


def same(a: ExecutionResult, b: ExecutionResult) -> None:
    assert a.data == b.data
    assert [e.formatted for e in a.errors or []] == [e.formatted for e in b.errors or []]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=queries(SCHEMA), root=ANY_ROOT)
def test_generated_queries_answer_alike(query: str, root: dict[str, Any]) -> None:
    document = parse(query)
    assert not validate(SCHEMA, document)
    same(compiled(document, root, None), reference(document, root, None))


def met_twice(root: dict[str, Any]) -> dict[str, Any]:
    """`root` with every list of items and of parts holding each of its objects twice (the
    same objects, as users share the views of their roles), the first part the best, the
    required item holding the same list of parts as the first of the items (as users
    holding the same roles share one list of them), and the other item a copy of that list:
    the same objects, met again by whatever selection each field makes of them."""
    items = root["items"]
    for item in [root["item"], root["required"], *items]:
        item["parts"] = item["parts"] * 2
        item["best"] = item["parts"][0]
    root["required"]["parts"] = items[0]["parts"]
    root["item"]["parts"] = list(items[0]["parts"])
    return {**root, "items": items * 2}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=queries(SCHEMA), root=WELL_FORMED_ROOT)
def test_objects_met_twice_answer_alike(query: str, root: dict[str, Any]) -> None:
    """The projection answers an object it met before in the request as it did then."""
    document = parse(query)
    shared = met_twice(root)
    same(compiled(document, shared, None), reference(document, shared, None))


FRAGMENTS = """
query ($skip: Boolean!, $id: ID!) {
  first: item(id: $id) { ...whole name @skip(if: $skip) }
  again: item(id: "x") { ... on Item { id size } parts { label } }
  items { id best { label note } tags }
  required { ok color }
  __typename
}
fragment whole on Item { id name color parts { ...part } best { ...part } }
fragment part on Part { label weight }
"""


@settings(max_examples=200, deadline=None)
@given(root=ANY_ROOT, skip=st.booleans())
def test_fragments_aliases_and_conditions_answer_alike(root: dict[str, Any], skip: bool) -> None:
    document = parse(FRAGMENTS)
    variables = {"skip": skip, "id": "i"}
    same(compiled(document, root, variables), reference(document, root, variables))


@pytest.mark.parametrize(
    "query",
    [
        "mutation { x }",
        "{ __schema { types { name } } }",
        "query A { count } query B { count }",
    ],
)
def test_what_is_not_compiled_is_left_to_graphql_core(query: str) -> None:
    schema = build_schema("type Query { count: Int } type Mutation { x: Int }")
    engine = GraphQLEngine(schema)
    prepared = engine.prepare(query)
    assert prepared.document is not None
    result = engine.execute_prepared(prepared, variables=None, operation_name=None, context=None)
    expected = engine.execute(prepared.document, variables=None, operation_name=None, context=None)
    assert result.formatted == expected.formatted
