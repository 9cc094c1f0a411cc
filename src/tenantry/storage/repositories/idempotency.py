"""The idempotency keys table: a key reserved by one insert (the unique constraint on scope and
key tells a concurrent duplicate), its answer stored after, rows pruned a day later."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tenantry.domain.idempotency import IdempotencyRecord, KeyScope, StoredAnswer
from tenantry.storage.repositories.audit import _insert_for_dialect
from tenantry.storage.repositories.base import Repository
from tenantry.storage.tables import idempotency_keys as keys

_IN_SCOPE = (
    keys.c.account_id == sa.bindparam("account_id"),
    keys.c.credential == sa.bindparam("credential"),
    keys.c.key == sa.bindparam("key"),
)
_FIND = sa.select(
    keys.c.id,
    keys.c.fingerprint,
    keys.c.holder,
    keys.c.created_at,
    keys.c.status,
    keys.c.headers,
    keys.c.body,
).where(*_IN_SCOPE)
_HELD = (keys.c.id == sa.bindparam("record_id"), keys.c.holder == sa.bindparam("old_holder"))
_TAKE_OVER = (
    keys.update()
    .where(*_HELD)
    .values(
        fingerprint=sa.bindparam("fingerprint"),
        holder=sa.bindparam("new_holder"),
        created_at=sa.bindparam("now"),
        status=None,
        headers=None,
        body=None,
    )
)
_STORE = (
    keys.update()
    .where(*_HELD, keys.c.status.is_(None))
    .values(
        status=sa.bindparam("status"), headers=sa.bindparam("headers"), body=sa.bindparam("body")
    )
)
_RELEASE = keys.delete().where(*_HELD, keys.c.status.is_(None))
_PRUNE = keys.delete().where(keys.c.created_at <= sa.bindparam("before"))


class SqlIdempotencyRepository(Repository):
    def reserve(
        self, scope: KeyScope, key: str, fingerprint: str, holder: str, now: datetime
    ) -> int | None:
        row = {
            "account_id": scope.account_id,
            "credential": scope.credential,
            "key": key,
            "fingerprint": fingerprint,
            "holder": holder,
            "created_at": now,
        }
        inserted: int | None = self.conn.execute(_reserve(self.conn.dialect.name), row).scalar()
        return inserted

    def find(self, scope: KeyScope, key: str) -> IdempotencyRecord | None:
        parameters = {"account_id": scope.account_id, "credential": scope.credential, "key": key}
        row = self._one(_FIND, parameters)
        if row is None:
            return None
        record_id, fingerprint, holder, created_at, status, headers, body = tuple(row)
        answer = None
        if status is not None:
            kept = tuple((str(name), str(value)) for name, value in headers or ())
            answer = StoredAnswer(status, kept, bytes(body or b""))
        return IdempotencyRecord(record_id, fingerprint, holder, created_at, answer)

    def take_over(
        self, record: IdempotencyRecord, fingerprint: str, holder: str, now: datetime
    ) -> bool:
        parameters = {
            "record_id": record.id,
            "old_holder": record.holder,
            "fingerprint": fingerprint,
            "new_holder": holder,
            "now": now,
        }
        return self.conn.execute(_TAKE_OVER, parameters).rowcount == 1

    def store(self, record_id: int, holder: str, answer: StoredAnswer) -> bool:
        parameters = {
            "record_id": record_id,
            "old_holder": holder,
            "status": answer.status,
            "headers": [list(pair) for pair in answer.headers],
            "body": answer.body,
        }
        return self.conn.execute(_STORE, parameters).rowcount == 1

    def release(self, record_id: int, holder: str) -> bool:
        parameters = {"record_id": record_id, "old_holder": holder}
        return self.conn.execute(_RELEASE, parameters).rowcount == 1

    def prune(self, before: datetime) -> int:
        deleted: int = self.conn.execute(_PRUNE, {"before": before}).rowcount
        return deleted


@functools.cache
def _reserve(dialect_name: str) -> Any:
    """The insert that reserves a key, for one dialect: a row already there (committed, or
    being inserted by a concurrent transaction, which it waits for) leaves it untouched and
    inserts nothing (and returns no id)."""
    return (
        _insert_for_dialect(dialect_name)(keys)
        .values(
            account_id=sa.bindparam("account_id"),
            credential=sa.bindparam("credential"),
            key=sa.bindparam("key"),
            fingerprint=sa.bindparam("fingerprint"),
            holder=sa.bindparam("holder"),
            created_at=sa.bindparam("created_at"),
        )
        .on_conflict_do_nothing(index_elements=[keys.c.account_id, keys.c.credential, keys.c.key])
        .returning(keys.c.id)
    )
