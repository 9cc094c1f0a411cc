"""`tenantry serve`: migrations first, then uvicorn with the right app (uvicorn is faked)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from tenantry.entrypoints.cli.main import build_cli
from tenantry.services.context import ServiceContext
from tenantry.settings import Settings


async def _asgi_app(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("the fake server never calls the app")


@dataclass
class FakeComposition:
    settings: Settings
    calls: list[str] = field(default_factory=list)

    @property
    def context(self) -> ServiceContext:
        raise AssertionError("serve needs no service context")

    def upgrade_database(self) -> None:
        self.calls.append("upgrade")

    def database_revisions(self) -> tuple[str | None, str | None]:
        return None, None

    def asgi_app(self) -> Callable[[Any, Any, Any], Any]:
        self.calls.append("asgi_app")
        return _asgi_app

    def dispose(self) -> None:
        self.calls.append("dispose")


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, dict[str, Any]]]:
    runs: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: runs.append((app, options)))
    # Recorded so that what `serve` writes there is undone after the test.
    monkeypatch.setenv("TENANTRY_DATABASE_URL", "sqlite:///./from-the-environment.db")
    return runs


def _serve(*args: str) -> tuple[FakeComposition, Any]:
    built: list[FakeComposition] = []

    def make(settings: Settings) -> FakeComposition:
        built.append(FakeComposition(settings))
        return built[-1]

    result = CliRunner().invoke(
        build_cli(make), ["--database-url", "sqlite:///./chosen.db", "serve", *args]
    )
    assert result.exit_code == 0, result.output
    [composition] = built
    return composition, result


def test_one_worker_serves_the_app_object_after_migrating(
    served: list[tuple[Any, dict[str, Any]]],
) -> None:
    composition, _ = _serve("--host", "10.1.2.3", "--port", "9000")
    assert composition.settings.database_url == "sqlite:///./chosen.db"
    assert composition.calls == ["upgrade", "asgi_app", "dispose"]
    [(app, options)] = served
    assert app is _asgi_app
    assert options == {
        "host": "10.1.2.3",
        "port": 9000,
        "loop": "uvloop",
        "http": "httptools",
        "access_log": False,
    }


def test_several_workers_import_the_app_factory(
    served: list[tuple[Any, dict[str, Any]]],
) -> None:
    composition, _ = _serve("--workers", "3")
    assert composition.calls == ["upgrade", "dispose"]
    [(app, options)] = served
    assert app == "tenantry.app:create_app"
    assert options["factory"] is True
    assert options["workers"] == 3
    assert (options["host"], options["port"]) == ("127.0.0.1", 8000)
    # The worker processes build their settings from the environment.
    assert os.environ["TENANTRY_DATABASE_URL"] == "sqlite:///./chosen.db"


def test_a_bad_port_is_a_usage_error(served: list[tuple[Any, dict[str, Any]]]) -> None:
    result = CliRunner().invoke(build_cli(FakeComposition), ["serve", "--port", "0"])
    assert result.exit_code == 2
    assert served == []


def test_several_workers_with_metrics_share_a_fresh_metrics_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folders: list[str] = []

    def run(app: Any, **options: Any) -> None:
        folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
        assert os.path.isdir(folder)
        assert os.listdir(folder) == []
        folders.append(folder)

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setenv("TENANTRY_DATABASE_URL", "sqlite:///./from-the-environment.db")
    monkeypatch.setenv("TENANTRY_METRICS", "1")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    _serve("--workers", "2")
    [folder] = folders
    assert not os.path.exists(folder)  # removed once the server stopped
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ


def test_without_metrics_the_workers_get_no_metrics_folder(
    served: list[tuple[Any, dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TENANTRY_METRICS", raising=False)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    _serve("--workers", "2")
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
