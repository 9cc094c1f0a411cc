"""Calls made idempotent by a key their caller chose (`Idempotency-Key`).

A call begins by reserving its key in the database, before anything changes: the insert of a
key its scope (the caller's account and credential) already holds inserts nothing, so of two
concurrent requests with one key, exactly one runs. The call then ends either answered (its
answer is stored under the key, and every retry within `RETENTION` gets that answer again) or
abandoned (an outage, an error of the server's: the reservation is released, so that a retry
runs again). Keys are kept for a day, then pruned.

    begin_idempotent_call   → Reserved (run the call), Replay (answer this), or KeyRefusal
    finish_idempotent_call  → store the answer under the reserved key
    abandon_idempotent_call → release the key
    prune_idempotency_keys  → delete keys older than a day
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from enum import StrEnum

from tenantry.domain.idempotency import (
    RETENTION,
    IdempotencyRecord,
    KeyScope,
    StoredAnswer,
)
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.policy import grant_in

log = logging.getLogger("tenantry.idempotency")


@dataclass(frozen=True, slots=True)
class Reserved:
    """The key is this call's until it ends: run it, then finish or abandon it."""

    record_id: int
    holder: str


@dataclass(frozen=True, slots=True)
class Replay:
    """The key's first call ended with this answer: give it again, change nothing."""

    answer: StoredAnswer


class KeyRefusal(StrEnum):
    """Why a key cannot serve this request."""

    REUSED = "reused"
    """It was first used for another request (method, target or body)."""
    IN_FLIGHT = "in_flight"
    """Its first call, with this very request, is still running."""


Begun = Reserved | Replay | KeyRefusal


def scope_of(actor: Actor) -> KeyScope:
    """Whose keys these are: the actor's credential, in the account it belongs to."""
    return KeyScope(actor.home_account_id or "", f"{actor.kind.value}:{actor.id}")


def may_replay(ctx: ServiceContext, actor: Actor) -> bool:
    """Whether a stored answer may still be given to the actor: its credential still holds an
    open grant in its own account (a replay runs no face's check, and an account deactivated
    or a role taken away since must not keep answering). Without one the face answers the
    request itself, and refuses it as it refuses any other."""
    if actor.home_account_id is None:
        return True
    with ctx.uow(readonly=True) as uow:
        chain = uow.accounts.chain(actor.home_account_id)
        grant = grant_in(ctx, uow, actor, chain) if chain else None
        return grant is not None and not grant.closed


def begin_idempotent_call(ctx: ServiceContext, actor: Actor, key: str, fingerprint: str) -> Begun:
    """Reserve `key` for the request whose fingerprint is `fingerprint`, or say what its first
    use answered (or why it cannot be used). A key older than a day counts as new; one whose
    call has not answered within `LEASE` (its process died) is taken over."""
    scope, holder, now = scope_of(actor), secrets.token_hex(16), ctx.now()
    with ctx.uow() as uow:
        for _ in range(3):  # a key released or pruned between two statements: look again
            record_id = uow.idempotency.reserve(scope, key, fingerprint, holder, now)
            if record_id is not None:
                return Reserved(record_id, holder)
            record = uow.idempotency.find(scope, key)
            if record is None:
                continue
            stale = record.expired(now) or record.abandoned(now)
            if stale and uow.idempotency.take_over(record, fingerprint, holder, now):
                return Reserved(record.id, holder)
            if not stale:
                return _outcome(record, fingerprint)
    return KeyRefusal.IN_FLIGHT  # the key kept changing hands: let the caller retry


def _outcome(record: IdempotencyRecord, fingerprint: str) -> Begun:
    if record.fingerprint != fingerprint:
        return KeyRefusal.REUSED
    if record.answer is None:
        return KeyRefusal.IN_FLIGHT
    return Replay(record.answer)


def finish_idempotent_call(ctx: ServiceContext, reserved: Reserved, answer: StoredAnswer) -> None:
    """Keep `answer` under the reserved key, for the retries of the next day."""
    with ctx.uow() as uow:
        if not uow.idempotency.store(reserved.record_id, reserved.holder, answer):
            # Pruned or taken over meanwhile (the call outlived its lease): a retry runs again.
            log.warning("idempotency key lost before its answer was stored")


def abandon_idempotent_call(ctx: ServiceContext, reserved: Reserved) -> None:
    """Release the reserved key: the call did not end in an answer worth giving again."""
    with ctx.uow() as uow:
        uow.idempotency.release(reserved.record_id, reserved.holder)


def prune_idempotency_keys(ctx: ServiceContext) -> int:
    """Delete the keys (and the answers, which may carry secrets) older than a day; how many."""
    with ctx.uow() as uow:
        return uow.idempotency.prune(ctx.now() - RETENTION)
