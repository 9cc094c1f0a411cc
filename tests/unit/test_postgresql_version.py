"""Migration 0018 needs statistics on expressions (PostgreSQL 14): an older server is told so
before anything changes, rather than failing halfway with a syntax error."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

import tenantry.storage.migrations as migrations

MIGRATION = next(Path(migrations.__file__).parent.glob("versions/0018_*.py"))


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("migration_0018", MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FakeOperations:
    """Alembic's `op` as the migration uses it: a connection's dialect, and what it runs."""

    def __init__(self, name: str, version: tuple[int, ...]) -> None:
        self.dialect = SimpleNamespace(name=name, server_version_info=version)
        self.executed: list[str] = []

    def get_bind(self) -> SimpleNamespace:
        return SimpleNamespace(dialect=self.dialect)

    def execute(self, statement: str) -> None:
        self.executed.append(statement)


def test_postgresql_13_is_refused_before_anything_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    migration = load()
    operations = FakeOperations("postgresql", (13, 16))
    monkeypatch.setattr(migration, "op", operations)
    with pytest.raises(RuntimeError, match=r"PostgreSQL 14 or later; this server is 13\.16"):
        migration.upgrade()
    assert operations.executed == []


@pytest.mark.parametrize(("name", "version"), [("postgresql", (14, 0)), ("sqlite", (3, 40, 1))])
def test_newer_servers_and_sqlite_go_on(
    monkeypatch: pytest.MonkeyPatch, name: str, version: tuple[int, ...]
) -> None:
    migration = load()
    operations = FakeOperations(name, version)
    monkeypatch.setattr(migration, "op", operations)
    migration.upgrade()
    assert operations.executed, "the migration ran nothing"
