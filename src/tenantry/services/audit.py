"""Reading the audit trail: a page at a time (newest first), streamed whole for an export
(oldest first), and pruned past the retention the operator set."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from tenantry.domain.audit import AuditEvent
from tenantry.domain.errors import ErrorCode, InvalidInput
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.policy_audit import check_may_prune_audit, check_may_read_audit

MAX_PAGE = 500
EXPORT_PAGE = 1_000
"""Events read per statement by an export: its memory is one such page, however long the
trail; each page is a short read of its own, so a slow reader holds no connection."""
PRUNE_BATCH = 10_000
"""Events deleted per transaction by pruning, so that writers never wait long on it."""


@dataclass(frozen=True, slots=True)
class AuditFilters:
    """What narrows a trail; each filter given must match."""

    action: str | None = None
    actor_id: str | None = None
    target_id: str | None = None
    face: str | None = None
    since: datetime | None = None
    """Events at or after this moment."""
    until: datetime | None = None
    """Events before this moment."""


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
        check_may_read_audit(ctx, uow, actor, account_id)
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


def export_audit_events(
    ctx: ServiceContext,
    actor: Actor,
    account_id: str | None,
    filters: AuditFilters | None = None,
    *,
    page_size: int = EXPORT_PAGE,
) -> Iterator[AuditEvent]:
    """Every event of an account that matches `filters`, oldest first, read a page at a time
    as the iterator is consumed: memory stays that of one page however long the trail.

    Who may read the trail is checked here, before anything is read; the iterator then reads
    the events recorded up to this call (those recorded while it runs are left to the next
    export, so that one that never catches up still ends)."""
    with ctx.uow(readonly=True) as uow:
        check_may_read_audit(ctx, uow, actor, account_id)
        newest = uow.audit.query(account_ids=_ids(account_id), limit=1)
    last_id = newest[0].id if newest else None
    return _pages(ctx, account_id, filters or AuditFilters(), page_size, last_id)


def _pages(
    ctx: ServiceContext,
    account_id: str | None,
    filters: AuditFilters,
    page_size: int,
    last_id: int | None,
) -> Iterator[AuditEvent]:
    after_id = 0
    while last_id is not None and after_id < last_id:
        with ctx.uow(readonly=True) as uow:
            page = uow.audit.query(
                account_ids=_ids(account_id),
                action=filters.action,
                actor_id=filters.actor_id,
                target_id=filters.target_id,
                face=filters.face,
                since=filters.since,
                until=filters.until,
                limit=page_size,
                after_id=after_id,
                oldest_first=True,
            )
        for event in page:
            assert event.id is not None
            if event.id > last_id:
                return
            yield event
        if len(page) < page_size:
            return
        assert page[-1].id is not None
        after_id = page[-1].id


def _ids(account_id: str | None) -> list[str] | None:
    return None if account_id is None else [account_id]


def prune_audit_events(ctx: ServiceContext, actor: Actor, older_than_days: int | None) -> int:
    """Delete the events older than `older_than_days` (the retention setting when None), a
    batch per transaction; how many. The operator's only."""
    check_may_prune_audit(actor)
    days = older_than_days or ctx.settings.audit_retention_days
    if days is None or days < 1:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            "No retention is set: set TENANTRY_AUDIT_RETENTION_DAYS, or say how many days to keep.",
            field="older_than_days",
        )
    cutoff = ctx.now() - timedelta(days=days)
    deleted = 0
    while True:
        with ctx.uow() as uow:
            batch = uow.audit.delete_older_than(cutoff, PRUNE_BATCH)
        deleted += batch
        if batch < PRUNE_BATCH:
            return deleted
