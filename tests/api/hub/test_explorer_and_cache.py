"""People get an explorer on GET; repeated query texts are parsed and validated once."""

from __future__ import annotations

import re

import pytest
from graphql import build_schema

from tenantry.entrypoints.graphql import engine as engine_module
from tenantry.entrypoints.graphql.engine import GraphQLEngine
from tenantry.entrypoints.graphql.hub import build_hub_engine

from hub_support import Hub


@pytest.mark.parametrize("path", ["/hub/graphql/", "/hub/graphql", "/capig/graphql/"])
def test_get_serves_an_explorer(hub: Hub, path: str) -> None:
    response = hub.client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()
    assert 'data-endpoint="/' in response.text


@pytest.mark.parametrize("path", ["/hub/graphql/", "/capig/graphql/"])
def test_the_explorer_runs_only_pinned_files_and_its_own_script(hub: Hub, path: str) -> None:
    page = hub.client.get(path)
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "connect-src 'self'" in policy
    assert page.headers["x-frame-options"] == "DENY"
    # Every file is this server's, at a URL naming its package's exact version, and carries
    # its integrity hash.
    files = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"[^>]*>', page.text)
    assert len(files) == 4
    for tag in re.findall(r"<(?:script|link)[^>]*(?:src|href)=[^>]*>", page.text):
        assert re.search(r'integrity="sha384-[A-Za-z0-9+/=]{64}"', tag), tag
        assert re.search(r'="/static/api-docs/[a-z-]+-\d+(\.\d+)+/', tag), tag
    assert "https://" not in page.text
    # Only scripts carrying this answer's nonce run: nothing injected beside them could.
    [nonce] = re.findall(r"script-src 'nonce-([A-Za-z0-9_-]{24})';", policy)
    scripts = re.findall(r"<script[^>]*>", page.text)
    assert len(scripts) == 4
    assert all(f'nonce="{nonce}"' in tag for tag in scripts)
    assert hub.client.get(path).headers["content-security-policy"] != policy  # fresh each time


def test_documents_are_parsed_and_validated_once(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = build_hub_engine()
    calls: list[str] = []
    real_validate = engine_module.validate

    def counting_validate(*args: object, **kwargs: object) -> object:
        calls.append("validate")
        return real_validate(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine_module, "validate", counting_validate)
    query = "{ tenants { nodes { id } } }"
    first = engine.prepare(query)
    second = engine.prepare(query)
    assert first is second
    assert calls == ["validate"]
    engine.prepare("{ tenants { hasNextPage } }")
    assert calls == ["validate", "validate"]


def test_invalid_documents_are_cached_too(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = build_hub_engine()
    bad = "{ nope }"
    first = engine.prepare(bad)
    assert first.document is None
    assert first.errors
    assert engine.prepare(bad) is first


def test_texts_over_the_size_limit_never_enter_the_cache() -> None:
    engine = build_hub_engine()
    huge = "{ tenants { nodes { id } } }" + " " * engine_module.MAX_QUERY_CHARACTERS
    for padding in range(3):
        prepared = engine.prepare(huge + " " * padding)
        assert prepared.document is None
        assert "longer than" in prepared.errors[0].message
    assert len(engine._cache) == 0


# A schema with an object that holds itself, to reach any depth without lists.
_NESTING = build_schema("type Query { node: Node } type Node { node: Node, id: ID }")


def test_depth_is_limited_without_lists() -> None:
    engine = GraphQLEngine(_NESTING)
    fine = "{ " + "node { " * 9 + "id" + " }" * 9 + " }"  # ten fields deep, `id` included
    assert engine.prepare(fine).document is not None
    deep = "{ " + "node { " * 10 + "id" + " }" * 10 + " }"
    [error] = engine.prepare(deep).errors
    assert error.message == "The query is nested more than 10 levels deep."


def test_a_fragment_bomb_is_refused_after_a_bounded_walk() -> None:
    # Each fragment spreads the next twice: 2^40 fields once expanded, in 1.3 kB of text.
    levels = 40
    fragments = [f"fragment F{i} on Node {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    fragments.append(f"fragment F{levels} on Node {{ id }}")
    bomb = "{ node { ...F0 } } " + " ".join(fragments)
    [error] = GraphQLEngine(_NESTING).prepare(bomb).errors
    assert error.message == "The query selects more than 1000 fields."
