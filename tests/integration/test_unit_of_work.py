"""What the unit of work offers batches of its own: users read ahead by address, and audit
events held back, both taken back with a savepoint's rollback."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from tenantry.domain.audit import AuditEvent
from tenantry.domain.users import User
from tenantry.services.context import ServiceContext

from factories import World, statements, unique_email


def _event(ctx: ServiceContext, world: World, action: str) -> AuditEvent:
    return AuditEvent(
        action=action,
        target_type="account",
        target_id=world.a.id,
        account_id=world.a.id,
        actor_kind="system",
        actor_id="system",
        actor_label="test",
        face="test",
        request_id=None,
        at=ctx.now(),
    )


class _Undo(Exception):
    pass


def _raising_in(block: AbstractContextManager[object], step: Callable[[], object]) -> None:
    """Run `step` in `block`, then leave the block by raising."""
    try:
        with block:
            step()
            raise _Undo
    except _Undo:
        pass


def _actions(ctx: ServiceContext, world: World, prefix: str) -> list[str]:
    with ctx.uow(readonly=True) as uow:
        events = uow.audit.query(account_ids=[world.a.id], limit=100)
    return sorted(e.action for e in events if e.action.startswith(prefix))


def test_users_read_ahead_are_answered_from_memory(ctx: ServiceContext, world: World) -> None:
    nobody, later, undone = unique_email(), unique_email(), unique_email()
    with ctx.uow() as uow:
        with statements(ctx) as sent:
            found = uow.prefetch_users([world.a_admin.email, nobody])
            again = uow.prefetch_users([world.a_admin.email])
            assert uow.users.find_by_email(world.a_admin.email) == found[world.a_admin.email]
            assert uow.users.find_by_email(nobody) is None
        assert len(sent) == 1, sent
        assert list(found) == list(again) == [world.a_admin.email]
        # What the transaction adds is remembered too; a savepoint's rollback forgets it.
        uow.users.add(User(id="u-later", email=later, created_at=ctx.now()))
        _raising_in(
            uow.savepoint(),
            lambda: uow.users.add(User(id="u-undone", email=undone, created_at=ctx.now())),
        )
        with statements(ctx) as sent:
            assert uow.prefetch_users([later, undone, world.a_admin.email]).keys() == {
                later,
                world.a_admin.email,
            }
        assert len(sent) == 1, sent  # only the address the rollback made unknown again
        # A copy each time: changing a user without saving it changes nothing remembered.
        found[world.a_admin.email].name = "changed"
        assert uow.users.find_by_email(world.a_admin.email) == again[world.a_admin.email]


def test_audit_events_held_back_are_written_at_once(ctx: ServiceContext, world: World) -> None:
    with ctx.uow() as uow:
        with statements(ctx) as sent, uow.defer_audit():
            uow.audit.add(_event(ctx, world, "held.one"))
            uow.audit.add_many([_event(ctx, world, "held.two"), _event(ctx, world, "held.three")])
            _raising_in(uow.savepoint(), lambda: uow.audit.add(_event(ctx, world, "held.undone")))
            assert not [s for s in sent if s.lstrip().upper().startswith("INSERT")]
        inserts = [s for s in sent if s.lstrip().upper().startswith("INSERT")]
        assert len(inserts) == 1, sent
    assert _actions(ctx, world, "held.") == ["held.one", "held.three", "held.two"]


def test_a_deferring_block_that_raises_drops_its_events(ctx: ServiceContext, world: World) -> None:
    with ctx.uow() as uow:
        _raising_in(uow.defer_audit(), lambda: uow.audit.add(_event(ctx, world, "dropped.one")))
        uow.audit.add(_event(ctx, world, "dropped.kept"))
        with uow.defer_audit():
            uow.audit.add(_event(ctx, world, "dropped.read"))
            # Reading the trail writes what is held first, so the reader sees it.
            seen = uow.audit.query(account_ids=[world.a.id], action="dropped.read")
            assert [e.action for e in seen] == ["dropped.read"]
    assert _actions(ctx, world, "dropped.") == ["dropped.kept", "dropped.read"]
