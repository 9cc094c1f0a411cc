"""The outbox table: entries added in a change's transaction, claimed and settled by senders."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tenantry.domain.outbox import OutboxEntry, OutboxKind, OutboxStatus
from tenantry.storage.repositories.base import Repository, columns
from tenantry.storage.repositories.inserts import insert_rows
from tenantry.storage.tables import outbox

_FIELDS = tuple(f.name for f in dataclasses.fields(OutboxEntry))
SELECT_ENTRIES = sa.select(*columns(outbox, _FIELDS))
_SELECT = SELECT_ENTRIES
_INSERT = outbox.insert()
_OPEN = (outbox.c.sent_at.is_(None), outbox.c.failed_at.is_(None))
_UNCLAIMED = sa.or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < sa.bindparam("now"))
_EARLIER = outbox.alias("earlier")
# An entry of a lane waits until every entry written before it in the lane is settled (sent
# or given up on), so a lane's entries leave one at a time, in order. Settling is what frees
# the next one, never a claim running out, so two senders never send a lane's entries at once.
_HEAD_OF_LANE = sa.or_(
    outbox.c.lane.is_(None),
    ~sa.exists().where(
        _EARLIER.c.lane == outbox.c.lane,
        _EARLIER.c.id < outbox.c.id,
        _EARLIER.c.sent_at.is_(None),
        _EARLIER.c.failed_at.is_(None),
    ),
)
# The due entries of the kinds asked for, oldest first. PostgreSQL skips rows another sender
# is claiming right now (SQLite writes one transaction at a time and renders no FOR UPDATE).
# The outer WHERE is checked again on each row once its lock is held, so a row another sender
# claimed between the inner select and the update is left alone on either engine: one claim
# per row.
_DUE = (
    sa.select(outbox.c.id)
    .where(
        *_OPEN,
        outbox.c.available_at <= sa.bindparam("now"),
        _UNCLAIMED,
        outbox.c.kind.in_(sa.bindparam("kinds", expanding=True)),
        _HEAD_OF_LANE,
    )
    .order_by(outbox.c.available_at, outbox.c.id)
    .limit(sa.bindparam("limit", type_=sa.Integer))
    .with_for_update(skip_locked=True)
)
_CLAIM = (
    outbox.update()
    .where(outbox.c.id.in_(_DUE.scalar_subquery()), *_OPEN, _UNCLAIMED)
    .values(
        claimed_until=sa.bindparam("until"),
        claimed_by=sa.bindparam("worker"),
        attempts=outbox.c.attempts + 1,
    )
    .returning(*columns(outbox, _FIELDS))
)
# Settling an entry needs the claim still to be this sender's.
_SETTLE = (
    outbox.update()
    .where(outbox.c.id == sa.bindparam("where_id"), outbox.c.claimed_by == sa.bindparam("worker"))
    .values(claimed_until=None, claimed_by=None)
)
_STATUS = sa.case(
    (outbox.c.sent_at.is_not(None), OutboxStatus.SENT.value),
    (outbox.c.failed_at.is_not(None), OutboxStatus.FAILED.value),
    else_=OutboxStatus.PENDING.value,
)
_COUNTS = sa.select(_STATUS, sa.func.count()).group_by(_STATUS)
_UNSENT_BY_KIND = (
    sa.select(outbox.c.kind, _STATUS, sa.func.count())
    .where(outbox.c.sent_at.is_(None))
    .group_by(outbox.c.kind, _STATUS)
)
_WHERE_STATUS = {
    OutboxStatus.PENDING: _OPEN,
    OutboxStatus.SENT: (outbox.c.sent_at.is_not(None),),
    OutboxStatus.FAILED: (outbox.c.sent_at.is_(None), outbox.c.failed_at.is_not(None)),
}


def to_entry(row: Any) -> OutboxEntry:
    values = dict(zip(_FIELDS, row, strict=True))
    values["kind"] = OutboxKind(values["kind"])
    return OutboxEntry(**values)


def _values(entry: OutboxEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in _FIELDS if name != "id"}


class SqlOutboxRepository(Repository):
    def add_many(self, entries: Sequence[OutboxEntry]) -> None:
        if entries:
            insert_rows(self.conn, outbox, [_values(e) for e in entries])

    def add(self, entry: OutboxEntry) -> int:
        """`add_many` for one entry, answering its id."""
        added: int = self.conn.execute(_INSERT.returning(outbox.c.id), _values(entry)).scalar_one()
        return added

    def claim(
        self,
        worker: str,
        now: datetime,
        until: datetime,
        limit: int,
        kinds: Collection[OutboxKind] = tuple(OutboxKind),
    ) -> list[OutboxEntry]:
        if not kinds:
            return []
        parameters = {
            "worker": worker,
            "now": now,
            "until": until,
            "limit": limit,
            "kinds": [k.value for k in kinds],
        }
        rows = self.conn.execute(_CLAIM, parameters).all()
        return sorted((to_entry(r) for r in rows), key=lambda e: (e.available_at, e.id or 0))

    def mark_sent(
        self,
        entry_id: int,
        worker: str,
        now: datetime,
        note: str | None,
        status_code: int | None = None,
    ) -> bool:
        return self._settle(
            entry_id, worker, sent_at=now, last_error=note, last_status_code=status_code
        )

    def retry_later(
        self, entry_id: int, worker: str, at: datetime, error: str, status_code: int | None = None
    ) -> bool:
        return self._settle(
            entry_id, worker, available_at=at, last_error=error[:500], last_status_code=status_code
        )

    def give_up(
        self, entry_id: int, worker: str, now: datetime, error: str, status_code: int | None = None
    ) -> bool:
        return self._settle(
            entry_id, worker, failed_at=now, last_error=error[:500], last_status_code=status_code
        )

    def counts(self, kinds: Collection[OutboxKind] | None = None) -> dict[OutboxStatus, int]:
        query = (
            _COUNTS if kinds is None else _COUNTS.where(outbox.c.kind.in_([k.value for k in kinds]))
        )
        found = {OutboxStatus(s): n for s, n in self.conn.execute(query).all()}
        return {status: found.get(status, 0) for status in OutboxStatus}

    def unsent_by_kind(self) -> dict[tuple[str, OutboxStatus], int]:
        rows = self.conn.execute(_UNSENT_BY_KIND).all()
        return {(kind, OutboxStatus(status)): n for kind, status, n in rows}

    def page(self, status: OutboxStatus | None, *, limit: int) -> list[OutboxEntry]:
        query = _SELECT.order_by(outbox.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(*_WHERE_STATUS[status])
        return [to_entry(r) for r in self.conn.execute(query).all()]

    def _settle(self, entry_id: int, worker: str, **values: Any) -> bool:
        result = self.conn.execute(
            _SETTLE.values(**values), {"where_id": entry_id, "worker": worker}
        )
        return result.rowcount == 1
