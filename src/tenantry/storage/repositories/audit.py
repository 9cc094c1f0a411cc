from __future__ import annotations

import dataclasses
from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tenantry.domain.audit import AuditEvent
from tenantry.storage.repositories.base import Repository
from tenantry.storage.tables import audit_events, counters

_AUDIT_COLUMNS = [f.name for f in dataclasses.fields(AuditEvent) if f.name not in ("id", "extra")]


def to_event(row: Any) -> AuditEvent:
    return AuditEvent(id=row.id, **{name: getattr(row, name) for name in _AUDIT_COLUMNS})


class SqlAuditRepository(Repository):
    def add(self, event: AuditEvent) -> None:
        self.conn.execute(
            audit_events.insert().values(**{name: getattr(event, name) for name in _AUDIT_COLUMNS})
        )

    def query(
        self,
        *,
        account_ids: Collection[str] | None,
        action: str | None = None,
        actor_id: str | None = None,
        target_id: str | None = None,
        face: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[AuditEvent]:
        c = audit_events.c
        query = sa.select(audit_events).order_by(c.id.desc()).limit(limit)
        if account_ids is not None:
            query = query.where(c.account_id.in_(set(account_ids)))
        for column, value in (
            (c.action, action),
            (c.actor_id, actor_id),
            (c.target_id, target_id),
            (c.face, face),
        ):
            if value is not None:
                query = query.where(column == value)
        if since is not None:
            query = query.where(c.at >= since)
        if until is not None:
            query = query.where(c.at < until)
        if before_id is not None:
            query = query.where(c.id < before_id)
        return [to_event(row) for row in self.conn.execute(query)]


class SqlCounterRepository(Repository):
    def increment(self, key: str, window: str, expires_at: datetime, by: int = 1) -> int:
        """Add `by` and return the new count, atomically (one upsert statement)."""
        insert = _insert_for(self.conn)(counters).values(
            key=key, window=window, count=by, expires_at=expires_at
        )
        statement = insert.on_conflict_do_update(
            index_elements=[counters.c.key, counters.c.window],
            set_={"count": counters.c.count + by},
        ).returning(counters.c.count)
        count: int = self.conn.execute(statement).scalar_one()
        return count

    def get(self, key: str, window: str) -> int:
        value = self.conn.execute(
            sa.select(counters.c.count).where(counters.c.key == key, counters.c.window == window)
        ).scalar()
        return int(value or 0)

    def purge_expired(self, now: datetime) -> int:
        return self.conn.execute(counters.delete().where(counters.c.expires_at < now)).rowcount


def _insert_for(conn: sa.Connection) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert
