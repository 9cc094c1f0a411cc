"""Authenticating reads a token at most once a second per process, and a revocation holds:
at once in the process that made it, within a second in every other."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from tenantry.app import Composition
from tenantry.domain.errors import Unauthenticated
from tenantry.services import accounts, credentials, members, quotas
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.credential_cache import CredentialCache
from tenantry.services.members import NewMember
from tenantry.services.membership_changes import apply_membership_changes
from tenantry.settings import Settings

from factories import World, make_account, make_member, statements

OPERATOR = Actor.system(face="test")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def api_token(ctx: ServiceContext, world: World) -> tuple[str, str]:
    """A token acting as advertiser A's admin, and its key."""
    made, token, _ = credentials.create_api_token(ctx, OPERATOR, world.a.id, name="cached")
    return token, made.key


def test_a_second_authentication_within_the_second_reads_nothing(
    ctx: ServiceContext, world: World
) -> None:
    token, _ = api_token(ctx, world)
    credentials.authenticate(ctx, token, face="test")  # reads, and writes its last use
    credentials.authenticate(ctx, token, face="test")  # reads again: that write cleared it
    with statements(ctx) as seen:
        actor = credentials.authenticate(ctx, token, face="test")
    assert seen == []
    assert actor.home_account_id == world.a.id


def test_a_wrong_secret_is_refused_from_the_cache_too(ctx: ServiceContext, world: World) -> None:
    token, _ = api_token(ctx, world)
    for _ in range(3):
        credentials.authenticate(ctx, token, face="test")
    with pytest.raises(Unauthenticated):
        credentials.authenticate(ctx, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), face="t")


def test_a_revocation_holds_at_once_in_the_process_that_made_it(
    ctx: ServiceContext, world: World
) -> None:
    token, key = api_token(ctx, world)
    for _ in range(3):
        credentials.authenticate(ctx, token, face="test")
    credentials.revoke_api_token(ctx, OPERATOR, world.a.id, key)
    with pytest.raises(Unauthenticated):
        credentials.authenticate(ctx, token, face="test")


def test_another_process_refuses_a_revoked_token_within_a_second(
    ctx: ServiceContext, world: World, database_url: str
) -> None:
    token, key = api_token(ctx, world)
    other = Composition(Settings(database_url=database_url))  # another worker: its own cache
    try:
        clock = Clock()
        elsewhere = dataclasses.replace(
            other.context, credential_cache=CredentialCache(clock=clock)
        )
        for _ in range(2):  # the second read follows the first one's write of its last use
            credentials.authenticate(elsewhere, token, face="test")
        credentials.revoke_api_token(ctx, OPERATOR, world.a.id, key)
        clock.now += 0.5
        credentials.authenticate(elsewhere, token, face="test")  # still trusted: read 0.5 s ago
        clock.now += 0.5
        with pytest.raises(Unauthenticated):
            credentials.authenticate(elsewhere, token, face="test")
    finally:
        other.dispose()


def test_a_deactivated_user_is_refused_within_a_second_elsewhere(
    ctx: ServiceContext, world: World, database_url: str
) -> None:
    token, _ = api_token(ctx, world)
    other = Composition(Settings(database_url=database_url))
    try:
        clock = Clock()
        elsewhere = dataclasses.replace(
            other.context, credential_cache=CredentialCache(clock=clock)
        )
        for _ in range(2):
            credentials.authenticate(elsewhere, token, face="test")
        make_member(ctx, world.a, role="admin")  # the last admin could not be deactivated
        members.set_user_active(ctx, OPERATOR, world.a.id, world.a_admin.id, False)
        clock.now += 1.0
        with pytest.raises(Unauthenticated):
            credentials.authenticate(elsewhere, token, face="test")
    finally:
        other.dispose()


def warmed(ctx: ServiceContext, token: str) -> Actor:
    """Authenticated until what was read stays cached (the first read writes the last use)."""
    credentials.authenticate(ctx, token, face="test")
    return credentials.authenticate(ctx, token, face="test")


def test_a_call_counted_on_the_quota_keeps_what_was_read(ctx: ServiceContext, world: World) -> None:
    """The bulk API counts every call (a write); that write changes no credential, so the
    next request reads no token."""
    token, _ = api_token(ctx, world)
    actor = warmed(ctx, token)
    assert quotas.admit_batch_call(ctx, actor).used == 1
    with statements(ctx) as seen:
        credentials.authenticate(ctx, token, face="test")
    assert seen == []


def test_adding_people_keeps_what_was_read(ctx: ServiceContext, world: World) -> None:
    """New users are rows no token has read (a token's user existed before it): adding them,
    as a bulk add does twenty at a time, leaves the cache be."""
    token, _ = api_token(ctx, world)
    warmed(ctx, token)
    added = apply_membership_changes(
        ctx, OPERATOR, world.a.id, [NewMember(f"new{n}@example.com", "member") for n in range(3)]
    )
    assert len(added.applied) == 3
    with statements(ctx) as seen:
        credentials.authenticate(ctx, token, face="test")
    assert seen == []


def test_a_new_token_forgets_what_was_read(ctx: ServiceContext, world: World) -> None:
    """A token read as missing is kept too: a row added to the tokens clears the cache."""
    token, _ = api_token(ctx, world)
    warmed(ctx, token)
    credentials.create_api_token(ctx, OPERATOR, world.a.id, name="another")
    with statements(ctx) as seen:
        credentials.authenticate(ctx, token, face="test")
    assert any("api_tokens" in statement for statement in seen), seen


def test_a_new_api_account_forgets_what_was_read(ctx: ServiceContext, world: World) -> None:
    """SQLite gives a new API account the id of the highest one deleted: a token read before
    may name it, so adding one clears the cache as any other write of that table does."""
    _, secret = credentials.create_api_account(ctx, OPERATOR, world.a.id, "cachedclient")
    token = credentials.issue_access_token(ctx, "cachedclient", secret, source="test").token
    warmed(ctx, token)
    credentials.create_api_account(ctx, OPERATOR, world.b.id, "anotherclient")
    with statements(ctx) as seen:
        credentials.authenticate(ctx, token, face="test")
    assert any("access_tokens" in statement for statement in seen), seen


@dataclasses.dataclass
class DoomedClient:
    """An API account of an account about to be deleted, with an access token of it."""

    account_id: str
    api_account_id: int | None
    token: str


def doomed_client(ctx: ServiceContext, world: World) -> DoomedClient:
    doomed = make_account(ctx, parent=world.host, name="Doomed")
    made, secret = credentials.create_api_account(ctx, OPERATOR, doomed.id, "doomedclient")
    token = credentials.issue_access_token(ctx, "doomedclient", secret, source="test").token
    return DoomedClient(doomed.id, made.id, token)


def authenticate_with_in_between(
    ctx: ServiceContext, database_url: str, token: str, between: Callable[[ServiceContext], None]
) -> None:
    """Authenticate `token`, nothing cached, with `between(another process's context)` run once
    right after the token's row was read, before its owner's."""
    elsewhere = Composition(Settings(database_url=database_url))
    engine = ctx.uow.engine  # type: ignore[attr-defined]
    pending = [between]

    def in_between(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if pending and "FROM access_tokens" in statement:
            pending.pop()(elsewhere.context)

    sa.event.listen(engine, "after_cursor_execute", in_between)
    try:
        ctx.credential_cache.invalidate()
        credentials.authenticate(ctx, token, face="test")
    finally:
        sa.event.remove(engine, "after_cursor_execute", in_between)
        elsewhere.dispose()
        assert pending == []


def test_an_api_account_deleted_while_its_token_is_read_refuses_the_token(
    ctx: ServiceContext, world: World, database_url: str
) -> None:
    """The token and its API account are two reads: when another process deletes the account
    (and so the token) between them, the caller is refused, not told of a missing account."""
    client = doomed_client(ctx, world)

    def delete(elsewhere: ServiceContext) -> None:
        accounts.delete_account(elsewhere, OPERATOR, client.account_id)

    with pytest.raises(Unauthenticated):
        authenticate_with_in_between(ctx, database_url, client.token, delete)


def test_a_deleted_token_never_stands_for_the_api_account_made_after_it(
    ctx: ServiceContext, world: World, database_url: str
) -> None:
    """On SQLite a new API account takes the id of the highest one deleted: made between the
    read of a deleted token and the read of its API account, it is the row the second read
    finds. The token is refused, not let in as that account's client."""
    client = doomed_client(ctx, world)
    made = []

    def replace(elsewhere: ServiceContext) -> None:
        accounts.delete_account(elsewhere, OPERATOR, client.account_id)
        made.append(credentials.create_api_account(ctx, OPERATOR, world.a.id, "newclient")[0])

    with pytest.raises(Unauthenticated):
        authenticate_with_in_between(ctx, database_url, client.token, replace)
    if ctx.uow.engine.dialect.name == "sqlite":  # type: ignore[attr-defined]
        assert made[0].id == client.api_account_id  # what makes the case


def test_a_deactivated_user_is_refused_at_once_in_the_process_that_did_it(
    ctx: ServiceContext, world: World
) -> None:
    token, _ = api_token(ctx, world)
    warmed(ctx, token)
    make_member(ctx, world.a, role="admin")  # the last admin could not be deactivated
    members.set_user_active(ctx, OPERATOR, world.a.id, world.a_admin.id, False)
    with pytest.raises(Unauthenticated, match="deactivated"):
        credentials.authenticate(ctx, token, face="test")


def test_deleting_an_account_forgets_the_tokens_deleted_with_it(
    ctx: ServiceContext, world: World
) -> None:
    """The tokens go by a foreign key's cascade, which no statement on them names."""
    token, _ = api_token(ctx, world)
    warmed(ctx, token)
    accounts.delete_account(ctx, OPERATOR, world.a.id)
    with pytest.raises(Unauthenticated):
        credentials.authenticate(ctx, token, face="test")


def test_the_cache_never_trusts_for_more_than_a_second() -> None:
    assert CredentialCache(5.0).seconds == 1.0
    assert Settings(credential_cache_seconds=0.5).credential_cache_seconds == 0.5
    with pytest.raises(ValueError, match="less than or equal to 1"):
        Settings(credential_cache_seconds=2)
