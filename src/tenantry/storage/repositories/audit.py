from __future__ import annotations

import dataclasses
import functools
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tenantry.domain.audit import AuditEvent
from tenantry.storage.memory import HeldEvents
from tenantry.storage.repositories.base import Repository
from tenantry.storage.repositories.driver_reads import write_rows
from tenantry.storage.repositories.inserts import insert_rows
from tenantry.storage.tables import audit_events, counters

_AUDIT_COLUMNS = tuple(
    f.name for f in dataclasses.fields(AuditEvent) if f.name not in ("id", "extra")
)


def to_event(row: Any) -> AuditEvent:
    return AuditEvent(id=row.id, **{name: getattr(row, name) for name in _AUDIT_COLUMNS})


def _row(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in _AUDIT_COLUMNS}


class SqlAuditRepository(Repository):
    """Audit events; while the unit of work defers them (`held`), they are written together,
    in their order, when the deferring ends, or before anything reads the trail."""

    def __init__(self, connection: sa.Connection) -> None:
        super().__init__(connection)
        self.held = HeldEvents(self._insert)

    def add(self, event: AuditEvent) -> None:
        self.add_many([event])

    def add_many(self, events: Sequence[AuditEvent]) -> None:
        """`add` for many events, in one statement and in their order."""
        if self.held.holding:
            self.held.hold(events)
        else:
            self._insert(events)

    def _insert(self, events: Sequence[AuditEvent]) -> None:
        if events:
            insert_rows(self.conn, audit_events, [_row(event) for event in events])

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
        after_id: int | None = None,
        oldest_first: bool = False,
    ) -> list[AuditEvent]:
        self.held.write()
        c = audit_events.c
        order = c.id.asc() if oldest_first else c.id.desc()
        query = sa.select(audit_events).order_by(order).limit(limit)
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
        if after_id is not None:
            query = query.where(c.id > after_id)
        return [to_event(row) for row in self.conn.execute(query)]

    def delete_older_than(self, cutoff: datetime, limit: int) -> int:
        """Delete up to `limit` of the oldest events written before `cutoff`; how many."""
        self.held.write()
        return self.conn.execute(_DELETE_OLDER, {"cutoff": cutoff, "limit": limit}).rowcount


# By id, oldest first, through the index on `at`: a batch at a time, so that no transaction
# holds the table for long.
_DELETE_OLDER = audit_events.delete().where(
    audit_events.c.id.in_(
        sa.select(audit_events.c.id)
        .where(audit_events.c.at < sa.bindparam("cutoff"))
        .order_by(audit_events.c.at)
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .scalar_subquery()
    )
)


class SqlCounterRepository(Repository):
    def increment(self, key: str, window: str, expires_at: datetime, by: int = 1) -> int:
        """Add `by` and return the new count, atomically (one upsert statement)."""
        parameters = {"key": key, "window": window, "count": by, "expires_at": expires_at}
        ((count,),) = write_rows(self.conn, _increment(self.conn.dialect.name), parameters)
        return int(count)

    def get(self, key: str, window: str) -> int:
        value = self.conn.execute(_GET_COUNT, {"key": key, "window": window}).scalar()
        return int(value or 0)

    def increment_each(self, keys: Collection[str], window: str, expires_at: datetime) -> None:
        """Add one to each key's count in `window`, atomically (one upsert statement)."""
        # In key order, so that two upserts sharing rows lock them in the same order.
        rows = [
            {"key": key, "window": window, "count": 1, "expires_at": expires_at}
            for key in sorted(set(keys))
        ]
        insert = _insert_for(self.conn)(counters).values(rows)
        self.conn.execute(
            insert.on_conflict_do_update(
                index_elements=[counters.c.key, counters.c.window],
                set_={"count": counters.c.count + insert.excluded.count},
            )
        )

    def totals(self, keys: Collection[str], windows: Collection[str]) -> dict[str, int]:
        parameters = {"keys": list(keys), "windows": list(windows)}
        return {key: int(total) for key, total in self.conn.execute(_SUMS_BY_KEY, parameters)}

    def purge_expired(self, now: datetime) -> int:
        return self.conn.execute(_PURGE_EXPIRED, {"now": now}).rowcount


_GET_COUNT = sa.select(counters.c.count).where(
    counters.c.key == sa.bindparam("key"), counters.c.window == sa.bindparam("window")
)
_SUMS_BY_KEY = (
    sa.select(counters.c.key, sa.func.sum(counters.c.count))
    .where(
        counters.c.key.in_(sa.bindparam("keys", expanding=True)),
        counters.c.window.in_(sa.bindparam("windows", expanding=True)),
    )
    .group_by(counters.c.key)
)
_PURGE_EXPIRED = counters.delete().where(counters.c.expires_at < sa.bindparam("now"))


@functools.cache
def _increment(dialect_name: str) -> Any:
    """The counter upsert for one dialect, built once: a new row holds `by`, an existing one
    adds it (the excluded row is the one the insert proposed)."""
    insert = _insert_for_dialect(dialect_name)(counters)
    return insert.on_conflict_do_update(
        index_elements=[counters.c.key, counters.c.window],
        set_={"count": counters.c.count + insert.excluded.count},
    ).returning(counters.c.count)


def _insert_for(conn: sa.Connection) -> Any:
    return _insert_for_dialect(conn.dialect.name)


def _insert_for_dialect(dialect_name: str) -> Any:
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert
