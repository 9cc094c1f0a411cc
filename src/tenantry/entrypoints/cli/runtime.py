"""What every command shares: the settings, the composition (built on first use) and the actor.

The CLI may not import `tenantry.app` (the layer rule), so `run` is handed the composition
class as a factory, and `Composition` below says what the commands need of it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import typer
from pydantic import ValidationError
from rich.console import Console

from tenantry.entrypoints.cli.output import fail, make_console
from tenantry.services.context import Actor, ServiceContext
from tenantry.settings import Settings

AsgiApp = Callable[[Any, Any, Any], Awaitable[None]]


class Composition(Protocol):
    """The part of `tenantry.app.Composition` the CLI uses."""

    @property
    def context(self) -> ServiceContext: ...

    def upgrade_database(self) -> None: ...

    def database_revisions(self) -> tuple[str | None, str | None]: ...

    def backup(self, target: Path) -> None: ...

    def restore(self, source: Path) -> None: ...

    def asgi_app(self) -> AsgiApp: ...

    def dispose(self) -> None: ...


CompositionFactory = Callable[[Settings], Composition]


class Runtime:
    """One per invocation; commands reach it through `runtime(ctx)`."""

    actor = Actor.system(face="cli")

    def __init__(self, make_composition: CompositionFactory, database_url: str | None) -> None:
        self._make_composition = make_composition
        self._database_url = database_url
        self._settings: Settings | None = None
        self._composition: Composition | None = None
        self._schema_checked = False
        self.out: Console = make_console()
        self.err: Console = make_console(stderr=True)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            url = self._database_url
            try:
                self._settings = Settings() if url is None else Settings(database_url=url)
            except ValidationError as error:
                fail(self.err, f"Invalid settings (TENANTRY_* environment variables): {error}")
        return self._settings

    @property
    def composition(self) -> Composition:
        if self._composition is None:
            self._composition = self._make_composition(self.settings)
        return self._composition

    @property
    def services(self) -> ServiceContext:
        """The services, on a database whose schema is this release's (checked once): a
        command run elsewhere than the operator meant, say from another folder with the
        relative SQLite default, says so instead of failing on a missing table."""
        if not self._schema_checked:
            url = self.settings.database_url
            where = shown_url(url)
            missing = sqlite_file(url)
            if missing is not None and not missing.exists():  # opening it would create it
                fail(
                    self.err,
                    f"There is no database file {missing} (from {where}). Run `tenantry init` "
                    "to create one, or name the right database with --database-url or "
                    "TENANTRY_DATABASE_URL.",
                )
            current, head = self.composition.database_revisions()
            if current is None:
                fail(
                    self.err,
                    f"The database {where} has no tenantry tables. Run `tenantry init` (or "
                    "`tenantry db upgrade`) first, or name the right database with "
                    "--database-url or TENANTRY_DATABASE_URL.",
                )
            if current != head:
                fail(
                    self.err,
                    f"The database {where} is at revision {current}, not {head} as this release "
                    "expects. Run `tenantry db upgrade` if it is older; a newer one needs the "
                    "release that migrated it.",
                )
            self._schema_checked = True
        return self.composition.context

    def close(self) -> None:
        if self._composition is not None:
            self._composition.dispose()
            self._composition = None


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (None for other databases and in-memory ones)."""
    if not url.startswith("sqlite") or "///" not in url:
        return None
    path = url.split("///", 1)[1].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def shown_url(url: str) -> str:
    """A database URL as it may be printed: without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def runtime(ctx: typer.Context) -> Runtime:
    found = ctx.find_object(Runtime)
    if found is None:  # only when a command is invoked outside `build_cli`
        raise RuntimeError("the CLI runtime is missing")
    return found
