"""Exporting an account's trail (oldest first, a page per statement, memory of one page however
long the trail) and pruning it past the retention, on both engines."""

from __future__ import annotations

import tracemalloc
from datetime import timedelta

import pytest

from tenantry.domain.audit import AuditEvent
from tenantry.domain.errors import Forbidden, InvalidInput
from tenantry.services import audit
from tenantry.services.audit import AuditFilters
from tenantry.services.context import ServiceContext

from factories import OPERATOR, World, as_user, make_member, statements


def seed(ctx: ServiceContext, account_id: str, count: int, *, days_ago: int = 0) -> None:
    """`count` events in the account, written in one statement."""
    at = ctx.now() - timedelta(days=days_ago)
    events = [
        AuditEvent(
            action="app.add",
            target_type="app",
            target_id=f"com.example.app{n}",
            account_id=account_id,
            actor_kind="system",
            actor_id="system",
            actor_label="seed",
            face="test",
            request_id=None,
            after={"name": f"App {n}", "padding": "x" * 200},
            at=at,
        )
        for n in range(count)
    ]
    with ctx.uow() as uow:
        uow.audit.add_many(events)


def test_an_export_is_the_whole_trail_oldest_first_a_page_per_read(
    ctx: ServiceContext, world: World
) -> None:
    seed(ctx, world.a.id, 10)
    admin = as_user(world.a_admin)
    newest_first = audit.list_audit_events(ctx, admin, world.a.id, limit=500)
    with statements(ctx) as sent:
        exported = list(audit.export_audit_events(ctx, admin, world.a.id, page_size=4))
    assert [e.id for e in exported] == [e.id for e in reversed(newest_first)]
    reads = [s for s in sent if s.lstrip().upper().startswith("SELECT") and "audit_events" in s]
    # The newest id, then ceil(n / 4) pages (a last full page is followed by an empty one).
    assert len(reads) == 2 + len(exported) // 4


def test_an_export_keeps_what_the_filters_keep(ctx: ServiceContext, world: World) -> None:
    seed(ctx, world.a.id, 3)
    worker = make_member(ctx, world.a, role="view")
    admin = as_user(world.a_admin)
    about_worker = list(
        audit.export_audit_events(ctx, admin, world.a.id, AuditFilters(target_id=worker.id))
    )
    assert about_worker
    assert {e.target_id for e in about_worker} == {worker.id}
    apps = list(
        audit.export_audit_events(
            ctx, admin, world.a.id, AuditFilters(action="app.add", face="test"), page_size=2
        )
    )
    assert [e.target_id for e in apps] == [f"com.example.app{n}" for n in range(3)]
    future = AuditFilters(since=ctx.now() + timedelta(minutes=1))
    assert list(audit.export_audit_events(ctx, admin, world.a.id, future)) == []


def test_who_may_export_is_checked_before_anything_is_read(
    ctx: ServiceContext, world: World
) -> None:
    viewer = make_member(ctx, world.a, role="view")
    for actor, account_id in (
        (as_user(viewer), world.a.id),
        (as_user(world.b_admin), world.a.id),
        (as_user(world.host_admin), None),
    ):
        with pytest.raises(Forbidden):
            audit.export_audit_events(ctx, actor, account_id)  # not even iterated
    assert list(audit.export_audit_events(ctx, as_user(world.host_admin), world.a.id))


def test_events_recorded_while_exporting_are_left_to_the_next_export(
    ctx: ServiceContext, world: World
) -> None:
    seed(ctx, world.a.id, 5)
    exporting = audit.export_audit_events(ctx, OPERATOR, world.a.id, page_size=2)
    first = next(exporting)
    seed(ctx, world.a.id, 5)
    rest = list(exporting)
    everything = audit.list_audit_events(ctx, OPERATOR, world.a.id, limit=500)
    assert len(everything) == len([first, *rest]) + 5


PAGE = 100


def _peak_while_exporting(ctx: ServiceContext, account_id: str) -> int:
    tracemalloc.start()
    try:
        exported = audit.export_audit_events(ctx, OPERATOR, account_id, page_size=PAGE)
        count = sum(1 for _ in exported)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count > 0
    return peak


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_export_takes_the_memory_of_a_page_however_long_the_trail(
    ctx: ServiceContext, world: World
) -> None:
    seed(ctx, world.a.id, 3 * PAGE)
    seed(ctx, world.b.id, 30 * PAGE)
    short = _peak_while_exporting(ctx, world.a.id)
    long = _peak_while_exporting(ctx, world.b.id)
    # Ten times the events, about the same peak: a page is all that is ever held.
    assert long < short * 1.5, (short, long)


def test_pruning_deletes_what_is_older_than_the_retention(
    ctx: ServiceContext, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit, "PRUNE_BATCH", 4)
    seed(ctx, world.a.id, 9, days_ago=40)
    seed(ctx, world.b.id, 2, days_ago=20)
    before = audit.list_audit_events(ctx, OPERATOR, None, limit=500)
    with pytest.raises(InvalidInput):
        audit.prune_audit_events(ctx, OPERATOR, older_than_days=None)
    ctx.settings.audit_retention_days = 30
    with pytest.raises(Forbidden):
        audit.prune_audit_events(ctx, as_user(world.host_admin), older_than_days=None)
    assert audit.prune_audit_events(ctx, OPERATOR, older_than_days=None) == 9
    after = audit.list_audit_events(ctx, OPERATOR, None, limit=500)
    assert len(after) == len(before) - 9
    assert all(e.at is not None and e.at > ctx.now() - timedelta(days=30) for e in after)
    assert audit.prune_audit_events(ctx, OPERATOR, older_than_days=10) == 2
    assert audit.prune_audit_events(ctx, OPERATOR, older_than_days=10) == 0
