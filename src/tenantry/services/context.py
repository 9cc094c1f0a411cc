"""Who acts (the `Actor`) and what every service call is given (the `ServiceContext`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from tenantry.domain.audit import AuditEvent
from tenantry.domain.roles import RoleCatalogue
from tenantry.services.credential_cache import CredentialCache
from tenantry.services.mail import Mailer
from tenantry.services.ports import PasswordHasher, UnitOfWork, UnitOfWorkFactory
from tenantry.services.sso_ports import IdentityProviderClient
from tenantry.services.webhook_events import publish
from tenantry.services.webhook_transport import WebhookTransport
from tenantry.settings import Settings


class ActorKind(StrEnum):
    USER = "user"
    API_ACCOUNT = "api_account"
    API_TOKEN = "api_token"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    """The principal behind a call, and where the call came from.

    `home_account_id` confines credentials that belong to an account (API accounts and API
    tokens) to that account and the child accounts it may manage; `role_key` is the role such
    a credential acts with there, and `minted_by` who made it (for the audit trail).
    """

    kind: ActorKind
    id: str
    label: str
    user_id: str | None = None
    home_account_id: str | None = None
    face: str = "api"
    request_id: str | None = None
    role_key: str | None = None
    minted_by: str | None = None
    minted_in: str | None = None
    """For a credential a parent's member made: the account whose role its maker used."""

    @classmethod
    def system(cls, face: str = "cli", label: str = "operator") -> Actor:
        return cls(ActorKind.SYSTEM, "system", label, face=face)

    @classmethod
    def for_user(cls, user_id: str, email: str, face: str = "console") -> Actor:
        return cls(ActorKind.USER, user_id, email, user_id=user_id, face=face)

    def via(self, face: str, request_id: str | None) -> Actor:
        return dataclasses.replace(self, face=face, request_id=request_id)

    @property
    def is_system(self) -> bool:
        return self.kind is ActorKind.SYSTEM


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class ServiceContext:
    """Everything a service needs, wired once by the composition root."""

    uow: UnitOfWorkFactory
    settings: Settings
    roles: RoleCatalogue
    media_sources: frozenset[str]
    passwords: PasswordHasher
    clock: Callable[[], datetime] = utcnow
    mailer: Mailer | None = None
    """Sends invitation and password-reset mail; None when no SMTP server is configured."""
    identity_providers: IdentityProviderClient | None = None
    """Talks to accounts' OpenID Connect providers; None where single sign-on is not wired."""
    outbox_written: Callable[[], None] = lambda: None
    """Called after a commit that wrote outbox entries: wakes the sender, when one runs here."""
    webhook_transport: WebhookTransport | None = None
    """Posts webhook deliveries; None: nothing is sent (the entries wait in the outbox)."""
    credential_cache: CredentialCache = dataclasses.field(default_factory=CredentialCache)
    """What authenticating tokens read, for up to a second (cleared by this process's writes
    to it: the composition root has the unit of work call `invalidate` after a commit that
    wrote the tables authenticating reads, `storage.writes`)."""

    def now(self) -> datetime:
        return self.clock()

    def invitation_expiry(self, ttl_days: int | None) -> datetime:
        return self.now() + timedelta(days=ttl_days or self.settings.invitation_ttl_days)


def record(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    *,
    target_type: str,
    target_id: str,
    account_id: str | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Write an audit event in the caller's transaction, and the webhook deliveries it is
    (`webhook_events.publish`) in the same transaction."""
    event = AuditEvent(
        action=action,
        target_type=target_type,
        target_id=target_id,
        account_id=account_id,
        actor_kind=actor.kind.value,
        actor_id=actor.id,
        actor_label=actor.label,
        actor_user_id=actor.user_id if actor.kind is not ActorKind.USER else None,
        actor_minted_by=actor.minted_by,
        face=actor.face,
        request_id=actor.request_id,
        before=before,
        after=after,
        at=ctx.now(),
    )
    uow.audit.add(event)
    publish(ctx, uow, event)
