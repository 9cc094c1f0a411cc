"""The unit of work: one connection, one transaction, every repository bound to it."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any

import sqlalchemy as sa

from tenantry.domain.errors import Conflict, ErrorCode
from tenantry.domain.users import User
from tenantry.services import ports
from tenantry.services.ports_security import AccountPolicyRepository
from tenantry.services.sso_ports import SingleSignOnRepository
from tenantry.storage.engine import NO_WAIT, READONLY_OPTIONS
from tenantry.storage.memory import Memory
from tenantry.storage.repositories.account_policy import SqlAccountPolicyRepository
from tenantry.storage.repositories.accounts import SqlAccountRepository
from tenantry.storage.repositories.audit import SqlAuditRepository, SqlCounterRepository
from tenantry.storage.repositories.auth import SqlAuthRepository
from tenantry.storage.repositories.credentials import (
    SqlAccessTokenRepository,
    SqlApiAccountRepository,
    SqlApiTokenRepository,
)
from tenantry.storage.repositories.gateway import SqlGatewayRepository
from tenantry.storage.repositories.idempotency import SqlIdempotencyRepository
from tenantry.storage.repositories.invitations import SqlInvitationRepository
from tenantry.storage.repositories.managed import SqlNetworkRepository
from tenantry.storage.repositories.member_search import SqlMemberSearchRepository
from tenantry.storage.repositories.memberships import SqlMembershipRepository
from tenantry.storage.repositories.outbox import SqlOutboxRepository
from tenantry.storage.repositories.passkeys import SqlPasskeyRepository
from tenantry.storage.repositories.roles import SqlAppRepository, SqlCustomRoleRepository
from tenantry.storage.repositories.sso import SqlSingleSignOnRepository
from tenantry.storage.repositories.users import SqlUserRepository
from tenantry.storage.repositories.webhooks import SqlWebhookRepository
from tenantry.storage.schema import metadata
from tenantry.storage.writes import WRITES, note_writes, watched_writes, wrote_any


class SqlSavepoint:
    """A nested transaction; its rollback also takes back what the unit of work remembered
    inside it (users read ahead, audit events held back)."""

    def __init__(self, connection: sa.Connection, memories: Sequence[Memory]) -> None:
        self._connection = connection
        self._memories = memories
        self._marks: list[int] = []
        self._nested: sa.NestedTransaction | None = None

    def __enter__(self) -> SqlSavepoint:
        self._nested = self._connection.begin_nested()
        self._marks = [memory.mark() for memory in self._memories]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._nested is not None
        if exc_type is None:
            self._nested.commit()
        else:
            self._nested.rollback()
            for memory, mark in zip(self._memories, self._marks, strict=True):
                memory.rollback_to(mark)
            if isinstance(exc, sa.exc.IntegrityError):
                raise _conflict(exc) from exc


# A unit of work uses two or three repositories: each is made on first use, which saves
# making all of them for every unit of work (about half its own cost without a statement).
_REPOSITORIES: dict[str, Callable[[sa.Connection], object]] = {
    "accounts": SqlAccountRepository,
    "users": SqlUserRepository,
    "memberships": SqlMembershipRepository,
    "custom_roles": SqlCustomRoleRepository,
    "apps": SqlAppRepository,
    "invitations": SqlInvitationRepository,
    "api_accounts": SqlApiAccountRepository,
    "api_tokens": SqlApiTokenRepository,
    "access_tokens": SqlAccessTokenRepository,
    "audit": SqlAuditRepository,
    "counters": SqlCounterRepository,
    "gateway": SqlGatewayRepository,
    "network": SqlNetworkRepository,
    "auth": SqlAuthRepository,
    "passkeys": SqlPasskeyRepository,
    "member_search": SqlMemberSearchRepository,
    "outbox": SqlOutboxRepository,
    "idempotency": SqlIdempotencyRepository,
    "webhooks": SqlWebhookRepository,
    "account_policy": SqlAccountPolicyRepository,
    "single_sign_on": SqlSingleSignOnRepository,
}


class SqlUnitOfWork:
    # Typed as the services' ports, which is what the repositories are bound as.
    accounts: ports.AccountRepository
    users: ports.UserRepository
    memberships: ports.MembershipRepository
    custom_roles: ports.CustomRoleRepository
    apps: ports.AppRepository
    invitations: ports.InvitationRepository
    api_accounts: ports.ApiAccountRepository
    api_tokens: ports.ApiTokenRepository
    access_tokens: ports.AccessTokenRepository
    audit: ports.AuditRepository
    counters: ports.CounterRepository
    gateway: ports.GatewayRepository
    network: ports.NetworkRepository
    auth: ports.AuthRepository
    passkeys: ports.PasskeyRepository
    member_search: ports.MemberSearchRepository
    outbox: ports.OutboxRepository
    idempotency: ports.IdempotencyRepository
    webhooks: ports.WebhookRepository
    account_policy: AccountPolicyRepository
    single_sign_on: SingleSignOnRepository

    def __init__(
        self,
        engine: sa.Engine,
        *,
        readonly: bool = False,
        waits: bool = True,
        wrote: Callable[[], None] | None = None,
        watched: frozenset[str] | None = None,
    ) -> None:
        self._engine = engine
        self._readonly = readonly
        self._waits = waits
        self._wrote = wrote
        self._watched = watched
        self._written: set[str] = set()
        self._connection: sa.Connection | None = None
        self._after_commit: list[Callable[[], None]] = []

    def __enter__(self) -> SqlUnitOfWork:
        connection = self._engine.connect()
        if self._readonly:
            connection = connection.execution_options(**READONLY_OPTIONS)
        elif not self._waits:
            connection = connection.execution_options(**{NO_WAIT: True})
        if self._wrote is not None and self._watched is not None:
            self._written = set()
            connection = connection.execution_options(**{WRITES: self._written})
        try:
            connection.begin()
        except Exception as error:
            connection.close()
            if not self._waits and _writer_taken(error):
                raise ports.WriterBusy from error
            raise
        self._connection = connection
        for name in _REPOSITORIES:  # made afresh, on first use (`__getattr__`)
            self.__dict__.pop(name, None)
        self._after_commit = []
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection = self._connection
        assert connection is not None
        self._connection = None
        try:
            if exc_type is None:
                try:
                    audit = self.__dict__.get("audit")
                    if audit is not None:  # made, so perhaps holding events back
                        audit.held.stop(keep=True)
                    connection.commit()
                except sa.exc.IntegrityError as error:
                    raise _conflict(error) from error
            else:
                connection.rollback()
                if isinstance(exc, sa.exc.IntegrityError):
                    raise _conflict(exc) from exc
        finally:
            connection.close()
        if exc_type is None:
            if self._wrote is not None and (
                self._watched is None or wrote_any(self._written, self._watched)
            ):
                self._wrote()
            callbacks, self._after_commit = self._after_commit, []
            for callback in dict.fromkeys(callbacks):  # each once, in the order first asked
                callback()

    def __getattr__(self, name: str) -> Any:
        """A repository asked for the first time in this unit of work: made now."""
        make = _REPOSITORIES.get(name)
        connection = self.__dict__.get("_connection")
        if make is None or connection is None:
            raise AttributeError(name)
        repository = make(connection)
        setattr(self, name, repository)
        return repository

    def _users(self) -> SqlUserRepository:
        users = self.users
        assert isinstance(users, SqlUserRepository)
        return users

    def _audit(self) -> SqlAuditRepository:
        audit = self.audit
        assert isinstance(audit, SqlAuditRepository)
        return audit

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)

    def savepoint(self) -> SqlSavepoint:
        assert self._connection is not None
        return SqlSavepoint(self._connection, [self._users().remembered, self._audit().held])

    def prefetch_users(self, emails: Collection[str]) -> dict[str, User]:
        return self._users().prefetch(emails)

    @contextmanager
    def defer_audit(self) -> Iterator[None]:
        held = self._audit().held
        owner = held.start()
        mark = held.mark()
        try:
            yield
        except BaseException:
            held.rollback_to(mark)
            if owner:
                held.stop(keep=False)
            raise
        if owner:
            held.stop(keep=True)


def _writer_taken(error: Exception) -> bool:
    """SQLite's answer to a BEGIN IMMEDIATE that found the writer taken (and did not wait)."""
    return isinstance(error, sa.exc.OperationalError) and "locked" in str(error.orig)


def _conflict(error: sa.exc.IntegrityError) -> Conflict:
    """A uniqueness race lost to another transaction becomes a clean conflict, never a 500."""
    return Conflict(ErrorCode.CONFLICT, "The change conflicts with a concurrent change; retry it.")


class SqlUnitOfWorkFactory:
    def __init__(
        self,
        engine: sa.Engine,
        *,
        wrote: Callable[[], None] | None = None,
        watching: Collection[str] | None = None,
        inserts_unseen: Collection[str] = (),
    ) -> None:
        self.engine = engine
        self.wrote = wrote
        """Called after a write transaction commits (clears what this process cached): after
        every one, or with `watching`, after one that wrote one of those tables (an insert
        into one of `inserts_unseen` aside), a table whose deleted or changed rows change
        rows of those (foreign keys), or a statement whose table it could not name
        (`storage.writes`)."""
        self.watched = (
            None
            if watching is None
            else watched_writes(metadata, watching, inserts_unseen=inserts_unseen)
        )
        if self.watched is not None:
            note_writes(engine)

    def __call__(self, *, readonly: bool = False, waits: bool = True) -> SqlUnitOfWork:
        wrote = None if readonly else self.wrote
        return SqlUnitOfWork(
            self.engine, readonly=readonly, waits=waits, wrote=wrote, watched=self.watched
        )
