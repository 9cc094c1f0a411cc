"""`tenantry db prune`: idempotency keys older than a day go, with the answers kept with them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tenantry.domain.idempotency import StoredAnswer, fingerprint
from tenantry.services import idempotency
from tenantry.services.context import Actor, ActorKind, ServiceContext
from tenantry.services.idempotency import Replay, Reserved

from clitools import Cli

ANSWER = StoredAnswer(201, (), b'{"invitationLink": "secret"}')
REQUEST = fingerprint("POST", "/things", b"{}")


def keep(ctx: ServiceContext, actor: Actor, key: str, at: datetime) -> None:
    ctx.clock = lambda: at
    reserved = idempotency.begin_idempotent_call(ctx, actor, key, REQUEST)
    assert isinstance(reserved, Reserved)
    idempotency.finish_idempotent_call(ctx, reserved, ANSWER)


def test_prune_deletes_the_keys_older_than_a_day(cli: Cli, ctx: ServiceContext) -> None:
    actor = Actor(ActorKind.API_ACCOUNT, "scripts", "scripts", home_account_id="acc00001")
    now = datetime.now(UTC)
    keep(ctx, actor, "yesterday", now - timedelta(days=1, minutes=1))
    keep(ctx, actor, "today", now - timedelta(hours=23))

    assert cli.ok("db", "prune").stdout.strip() == "Deleted 1 idempotency key older than a day."

    ctx.clock = lambda: now
    assert idempotency.begin_idempotent_call(ctx, actor, "today", REQUEST) == Replay(ANSWER)
    assert isinstance(idempotency.begin_idempotent_call(ctx, actor, "yesterday", REQUEST), Reserved)
    assert cli.ok("db", "prune").stdout.strip() == "Deleted 0 idempotency keys older than a day."
