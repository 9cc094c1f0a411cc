"""The composition root: settings → engine → services → ASGI app (and the CLI's services)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tenantry.mail import SmtpMailer
from tenantry.services.catalogues import load_media_sources, load_role_catalogue
from tenantry.services.context import ServiceContext
from tenantry.services.passwords import Argon2Hasher
from tenantry.settings import Settings
from tenantry.storage.engine import create_engine, ping
from tenantry.storage.migrations import current_revision, head_revision, upgrade_database
from tenantry.storage.uow import SqlUnitOfWorkFactory

if TYPE_CHECKING:
    from fastapi import FastAPI


class Composition:
    """Builds what the faces need from settings, once, on first use."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self._context: ServiceContext | None = None

    @property
    def context(self) -> ServiceContext:
        if self._context is None:
            engine = create_engine(self.settings.database_url)
            self._context = ServiceContext(
                uow=SqlUnitOfWorkFactory(engine),
                settings=self.settings,
                roles=load_role_catalogue(self.settings.role_catalogue),
                media_sources=load_media_sources(self.settings.media_source_catalogue),
                passwords=Argon2Hasher(),
                mailer=SmtpMailer(self.settings) if self.settings.smtp_host else None,
            )
        return self._context

    def upgrade_database(self) -> None:
        upgrade_database(self.settings.database_url)

    def database_revisions(self) -> tuple[str | None, str | None]:
        """(the revision the database is at, the newest one this release ships)."""
        return current_revision(self.settings.database_url), head_revision()

    def check_database(self) -> None:
        uow_factory = self.context.uow
        assert isinstance(uow_factory, SqlUnitOfWorkFactory)
        ping(uow_factory.engine)

    def dispose(self) -> None:
        if self._context is not None:
            uow_factory = self._context.uow
            assert isinstance(uow_factory, SqlUnitOfWorkFactory)
            uow_factory.engine.dispose()

    def asgi_app(self) -> FastAPI:
        from tenantry.entrypoints.http.server import create_http_app

        return create_http_app(self.context, readiness=self.check_database)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The ASGI app for servers that import one (`uvicorn --factory tenantry.app:create_app`)."""
    return Composition(settings).asgi_app()


def cli() -> None:
    """The `tenantry` command."""
    from tenantry.entrypoints.cli.main import run

    run(Composition)
