"""Reading the audit trail."""

from __future__ import annotations

from datetime import datetime

from tenantry.domain.audit import AuditEvent
from tenantry.domain.errors import ErrorCode, Forbidden
from tenantry.domain.roles import Need
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.policy import require

MAX_PAGE = 500


def list_audit_events(
    ctx: ServiceContext,
    actor: Actor,
    account_id: str | None,
    *,
    action: str | None = None,
    actor_id: str | None = None,
    target_id: str | None = None,
    face: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    before_id: int | None = None,
) -> list[AuditEvent]:
    """An account's events, newest first; the whole trail (account None) is the operator's."""
    with ctx.uow(readonly=True) as uow:
        if account_id is None:
            if not actor.is_system:
                raise Forbidden(ErrorCode.FORBIDDEN)
        else:
            require(ctx, uow, actor, account_id, Need.READ_AUDIT)
        return uow.audit.query(
            account_ids=None if account_id is None else [account_id],
            action=action,
            actor_id=actor_id,
            target_id=target_id,
            face=face,
            since=since,
            until=until,
            limit=max(1, min(limit, MAX_PAGE)),
            before_id=before_id,
        )
