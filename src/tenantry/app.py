"""The composition root: settings → engine → services → ASGI app (and the CLI's services)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from tenantry.mail import SmtpMailer
from tenantry.oidc_on_demand import LazyOidcClient
from tenantry.services.audit import prune_audit_events
from tenantry.services.catalogues import load_media_sources, load_role_catalogue
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.credential_cache import CredentialCache
from tenantry.services.idempotency import prune_idempotency_keys
from tenantry.services.invitation_expiry import BATCH as EXPIRY_BATCH
from tenantry.services.invitation_expiry import record_expired_invitations
from tenantry.services.outbox import OutboxSender
from tenantry.services.passwords import Argon2Hasher
from tenantry.services.ports import DatabaseUnavailable
from tenantry.settings import Settings
from tenantry.storage.backup import backup_database, restore_database
from tenantry.storage.checkpoints import WalCheckpointer
from tenantry.storage.engine import create_engine, is_sqlite_file, ping
from tenantry.storage.migrations import current_revision, head_revision, upgrade_database
from tenantry.storage.repositories.credentials import (
    AUTHENTICATION_INSERTS_UNSEEN,
    AUTHENTICATION_TABLES,
)
from tenantry.storage.uow import SqlUnitOfWorkFactory
from tenantry.webhook_http import HttpWebhookTransport

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger("tenantry.server")

PRUNE_EVERY_SECONDS = 300
"""How often each server deletes idempotency keys older than a day (with the answers kept
with them, which may carry secrets), and audit events past the retention when one is set."""
PRUNER = Actor.system(face="server", label="retention")
EXPIRIES_EVERY_SECONDS = 60
"""How often each server records the invitations that expired (`invitation.expired` events)."""


class Composition:
    """Builds what the faces need from settings, once, on first use."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self._context: ServiceContext | None = None
        self._sender: OutboxSender | None = None
        self._checkpointer: WalCheckpointer | None = None

    @property
    def context(self) -> ServiceContext:
        if self._context is None:
            settings = self.settings
            engine = create_engine(
                settings.database_url,
                pool_size=settings.database_pool_size,
                pool_overflow=settings.database_pool_overflow,
                sqlite_cache_mb=settings.sqlite_cache_mb,
            )
            cache = CredentialCache(self.settings.credential_cache_seconds)
            self._context = ServiceContext(
                uow=SqlUnitOfWorkFactory(
                    engine,
                    wrote=cache.invalidate,
                    watching=AUTHENTICATION_TABLES,
                    inserts_unseen=AUTHENTICATION_INSERTS_UNSEEN,
                ),
                settings=self.settings,
                roles=load_role_catalogue(self.settings.role_catalogue),
                media_sources=load_media_sources(self.settings.media_source_catalogue),
                passwords=Argon2Hasher(),
                mailer=SmtpMailer(self.settings) if self.settings.smtp_host else None,
                identity_providers=LazyOidcClient(self.settings),
                webhook_transport=HttpWebhookTransport(self.settings),
                credential_cache=cache,
            )
        return self._context

    def upgrade_database(self) -> None:
        upgrade_database(self.settings.database_url)

    def database_revisions(self) -> tuple[str | None, str | None]:
        """(the revision the database is at, the newest one this release ships)."""
        return current_revision(self.settings.database_url), head_revision()

    def backup(self, target: Path) -> None:
        backup_database(self.settings.database_url, target)

    def restore(self, source: Path) -> None:
        """Replace the database's contents with a backup's; the pool's connections are closed
        first, so that none outlives the tables it knew."""
        self.dispose()
        self._context = None
        restore_database(self.settings.database_url, source)

    def check_database(self) -> None:
        uow_factory = self.context.uow
        assert isinstance(uow_factory, SqlUnitOfWorkFactory)
        ping(uow_factory.engine)

    def start_outbox_sender(self) -> OutboxSender | None:
        """Send the outbox's mail and webhook deliveries from a thread of this process, woken
        by its own commits; None when the settings leave it to `tenantry outbox run`."""
        ctx = self.context
        if not self.settings.outbox_sender or self._sender is not None:
            return None
        self._sender = OutboxSender(ctx, poll_seconds=self.settings.outbox_poll_seconds)
        ctx.outbox_written = self._sender.wake
        self._sender.start()
        return self._sender

    def stop_outbox_sender(self) -> None:
        sender, self._sender = self._sender, None
        if sender is not None:
            self.context.outbox_written = lambda: None
            sender.stop()

    def start_checkpointer(self) -> WalCheckpointer | None:
        """Checkpoint an SQLite database's WAL from a thread of this process rather than in
        the requests' commits (`storage.checkpoints`); None on PostgreSQL."""
        uow_factory = self.context.uow
        assert isinstance(uow_factory, SqlUnitOfWorkFactory)
        if self._checkpointer is not None or not is_sqlite_file(uow_factory.engine):
            return None
        self._checkpointer = WalCheckpointer(uow_factory.engine)
        self._checkpointer.start()
        return self._checkpointer

    def stop_checkpointer(self) -> None:
        checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            checkpointer.stop()

    def dispose(self) -> None:
        self.stop_outbox_sender()
        self.stop_checkpointer()
        if self._context is not None:
            uow_factory = self._context.uow
            assert isinstance(uow_factory, SqlUnitOfWorkFactory)
            uow_factory.engine.dispose()

    def asgi_app(self) -> FastAPI:
        from tenantry.entrypoints.server import create_http_app

        return create_http_app(self.context, readiness=self.check_database, lifespan=self._lifespan)

    @asynccontextmanager
    async def _lifespan(self, app: object) -> AsyncIterator[None]:
        self.start_outbox_sender()
        self.start_checkpointer()
        chores = [
            asyncio.create_task(
                self._every(PRUNE_EVERY_SECONDS, _prune, "idempotency keys or audit events")
            ),
            asyncio.create_task(
                self._every(EXPIRIES_EVERY_SECONDS, _record_expiries, "invitation expiries")
            ),
        ]
        try:
            yield
        finally:
            for chore in chores:
                chore.cancel()
            await asyncio.to_thread(self.stop_outbox_sender)
            await asyncio.to_thread(self.stop_checkpointer)
            from tenantry.entrypoints.http.metrics import process_ended

            process_ended()

    async def _every(
        self, seconds: float, chore: Callable[[ServiceContext], object], what: str
    ) -> None:
        """Run `chore` every `seconds` while the server runs (in every process: each is cheap
        when there is nothing to do)."""
        while True:
            try:
                await asyncio.to_thread(chore, self.context)
            except DatabaseUnavailable as error:
                log.warning("%s not done: %s", what, error)
            except Exception:
                log.exception("%s not done", what)
            await asyncio.sleep(seconds)


def _prune(ctx: ServiceContext) -> None:
    """Idempotency keys older than a day, and audit events past the retention if one is set."""
    prune_idempotency_keys(ctx)
    if ctx.settings.audit_retention_days is not None:
        prune_audit_events(ctx, PRUNER, None)


def _record_expiries(ctx: ServiceContext) -> None:
    while record_expired_invitations(ctx) == EXPIRY_BATCH:
        pass


def create_app(settings: Settings | None = None) -> FastAPI:
    """The ASGI app for servers that import one (`uvicorn --factory tenantry.app:create_app`)."""
    return Composition(settings).asgi_app()


def cli() -> None:
    """The `tenantry` command."""
    from tenantry.entrypoints.cli.main import run

    run(Composition)
