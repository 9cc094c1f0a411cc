"""People get an explorer on GET; repeated query texts are parsed and validated once."""

from __future__ import annotations

import pytest

from tenantry.entrypoints.graphql import engine as engine_module
from tenantry.entrypoints.graphql.hub import build_hub_engine

from hub_support import Hub


@pytest.mark.parametrize("path", ["/hub/graphql/", "/hub/graphql", "/capig/graphql/"])
def test_get_serves_an_explorer(hub: Hub, path: str) -> None:
    response = hub.client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()
    assert 'data-endpoint="/' in response.text


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
