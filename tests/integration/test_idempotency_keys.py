"""Idempotency keys in the database, on both engines: one reservation per key and scope, the
answer kept for retries, refused for another request, released after a failure, taken over
when its call died, forgotten and pruned after a day."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from tenantry.domain.idempotency import LEASE, RETENTION, StoredAnswer, fingerprint, parse_key
from tenantry.services import idempotency
from tenantry.services.context import Actor, ActorKind, ServiceContext
from tenantry.services.idempotency import KeyRefusal, Replay, Reserved

ANSWER = StoredAnswer(201, (("content-type", "application/json"),), b'{"id": 1}')
FIRST = fingerprint("POST", "/things", b'{"name": "a"}')
OTHER = fingerprint("POST", "/things", b'{"name": "b"}')


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(ctx: ServiceContext) -> Clock:
    clock = Clock()
    ctx.clock = clock
    return clock


def caller(credential: str = "k1", account: str = "acc00001") -> Actor:
    return Actor(ActorKind.API_TOKEN, credential, "someone", home_account_id=account)


def reserve(ctx: ServiceContext, actor: Actor, key: str = "key-1", fp: str = FIRST) -> Reserved:
    begun = idempotency.begin_idempotent_call(ctx, actor, key, fp)
    assert isinstance(begun, Reserved), begun
    return begun


def count_keys(ctx: ServiceContext) -> int:
    # Pruning with a cutoff in the far future counts (and removes) every key.
    ctx_now = ctx.clock
    ctx.clock = lambda: datetime.now(UTC) + timedelta(days=3650)
    try:
        return idempotency.prune_idempotency_keys(ctx)
    finally:
        ctx.clock = ctx_now


def test_a_finished_call_is_replayed_and_refused_for_another_request(
    ctx: ServiceContext, clock: Clock
) -> None:
    actor = caller()
    idempotency.finish_idempotent_call(ctx, reserve(ctx, actor), ANSWER)

    assert idempotency.begin_idempotent_call(ctx, actor, "key-1", FIRST) == Replay(ANSWER)
    assert idempotency.begin_idempotent_call(ctx, actor, "key-1", OTHER) is KeyRefusal.REUSED


def test_a_running_call_holds_its_key(ctx: ServiceContext, clock: Clock) -> None:
    actor = caller()
    reserve(ctx, actor)

    assert idempotency.begin_idempotent_call(ctx, actor, "key-1", FIRST) is KeyRefusal.IN_FLIGHT
    assert idempotency.begin_idempotent_call(ctx, actor, "key-1", OTHER) is KeyRefusal.REUSED


def test_an_abandoned_call_frees_its_key(ctx: ServiceContext, clock: Clock) -> None:
    actor = caller()
    idempotency.abandon_idempotent_call(ctx, reserve(ctx, actor))

    retry = reserve(ctx, actor, fp=OTHER)  # a retry runs again, whatever it sends
    idempotency.finish_idempotent_call(ctx, retry, ANSWER)
    assert idempotency.begin_idempotent_call(ctx, actor, "key-1", OTHER) == Replay(ANSWER)


def test_keys_of_two_credentials_or_accounts_never_meet(ctx: ServiceContext, clock: Clock) -> None:
    first = caller("k1", "acc00001")
    idempotency.finish_idempotent_call(ctx, reserve(ctx, first), ANSWER)

    reserve(ctx, caller("k2", "acc00001"))
    reserve(ctx, caller("k1", "acc00002"))
    api_account = Actor(ActorKind.API_ACCOUNT, "k1", "k1", home_account_id="acc00001")
    reserve(ctx, api_account)


def test_a_call_that_outlived_its_lease_loses_its_key(ctx: ServiceContext, clock: Clock) -> None:
    actor = caller()
    dead = reserve(ctx, actor)
    clock.now += LEASE - timedelta(seconds=1)
    assert idempotency.begin_idempotent_call(ctx, actor, "key-1", FIRST) is KeyRefusal.IN_FLIGHT

    clock.now += timedelta(seconds=1)
    retry = reserve(ctx, actor)
    # The dead call's late answer is not stored over the retry's reservation.
    idempotency.finish_idempotent_call(ctx, dead, StoredAnswer(200, (), b"late"))
    idempotency.abandon_idempotent_call(ctx, dead)
    assert idempotency.begin_idempotent_call(ctx, actor, "key-1", FIRST) is KeyRefusal.IN_FLIGHT
    idempotency.finish_idempotent_call(ctx, retry, ANSWER)
    assert idempotency.begin_idempotent_call(ctx, actor, "key-1", FIRST) == Replay(ANSWER)


def test_a_key_is_forgotten_after_a_day_and_pruned(ctx: ServiceContext, clock: Clock) -> None:
    actor = caller()
    idempotency.finish_idempotent_call(ctx, reserve(ctx, actor), ANSWER)
    idempotency.finish_idempotent_call(ctx, reserve(ctx, actor, "key-2"), ANSWER)
    clock.now += timedelta(hours=1)
    idempotency.finish_idempotent_call(ctx, reserve(ctx, actor, "key-3"), ANSWER)

    clock.now += RETENTION - timedelta(hours=1)
    # Not pruned yet, but expired: the key serves a new request.
    reserve(ctx, actor, "key-1", OTHER)
    assert idempotency.prune_idempotency_keys(ctx) == 1  # key-2; key-1 was renewed
    assert idempotency.begin_idempotent_call(ctx, actor, "key-3", FIRST) == Replay(ANSWER)
    assert count_keys(ctx) == 2


def test_concurrent_first_uses_reserve_once(ctx: ServiceContext, clock: Clock) -> None:
    actor = caller()
    results: list[object] = []
    start = threading.Barrier(6)

    def attempt() -> None:
        start.wait()
        results.append(idempotency.begin_idempotent_call(ctx, actor, "key-1", FIRST))

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(isinstance(r, Reserved) for r in results) == 1
    assert results.count(KeyRefusal.IN_FLIGHT) == 5


@pytest.mark.parametrize(
    ("header", "key"),
    [
        (b"abc-123", "abc-123"),
        (b'"8e03978e-40d5-43e8-bc93-6894a57f9324"', "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        (b'"a \\"quoted\\" \\\\ key"', 'a "quoted" \\ key'),
        (b"x" * 255, "x" * 255),
        (b"x" * 256, None),
        (b"", None),
        (b'"unterminated', '"unterminated'),
        (b'"bad \\n escape"', None),
        (b"tab\tinside", None),
        ("caf\u00e9".encode(), None),
    ],
)
def test_keys_are_printable_ascii_up_to_255(header: bytes, key: str | None) -> None:
    assert parse_key(header) == key


def test_the_fingerprint_covers_method_target_and_body() -> None:
    base = fingerprint("POST", "/a", b"{}")
    assert len(base) == 64
    assert base == fingerprint("post", "/a", b"{}")
    assert base != fingerprint("PUT", "/a", b"{}")
    assert base != fingerprint("POST", "/a?x=1", b"{}")
    assert base != fingerprint("POST", "/a", b"{ }")
    assert fingerprint("POST", "/ab", b"c") != fingerprint("POST", "/a", b"bc")
