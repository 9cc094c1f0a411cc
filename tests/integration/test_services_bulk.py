"""Bulk adds (each user on its own) and bulk removes (all or nothing), on every engine."""

from __future__ import annotations

import pytest

from tenantry.domain.errors import Conflict, ErrorCode, Forbidden, InvalidInput, NotFound
from tenantry.domain.memberships import MembershipStatus
from tenantry.services import members
from tenantry.services.context import ServiceContext
from tenantry.services.members import NewMember
from tenantry.services.membership_commands import BatchRejected

from factories import (
    OPERATOR,
    World,
    add_in_batch,
    as_user,
    make_member,
    remove_in_batch,
    unique_email,
)


def member_emails(ctx: ServiceContext, account_id: str) -> set[str]:
    page = members.list_members(ctx, OPERATOR, account_id, limit=1000)
    return {m.user.email for m in page.items}


def user_exists(ctx: ServiceContext, email: str) -> bool:
    with ctx.uow(readonly=True) as uow:
        return uow.users.find_by_email(email) is not None


def audit_targets(ctx: ServiceContext, account_id: str) -> list[tuple[str, str]]:
    with ctx.uow(readonly=True) as uow:
        return [
            (e.action, e.target_id) for e in uow.audit.query(account_ids=[account_id], limit=10_000)
        ]


def events_since(
    ctx: ServiceContext, account_id: str, before: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The events written after `before` was taken (the trail comes newest first)."""
    now = audit_targets(ctx, account_id)
    assert now[len(now) - len(before) :] == before
    return now[: len(now) - len(before)]


# -- adding ------------------------------------------------------------------------------------


def test_bulk_add_keeps_the_good_and_reports_the_bad(ctx: ServiceContext, world: World) -> None:
    good = [unique_email("good") for _ in range(3)]
    bad_role, bad_geo = unique_email("role"), unique_email("geo")
    items = [
        (0, NewMember(email=good[0], role_key="marketing")),
        (1, NewMember(email="not an email", role_key="marketing")),
        (2, NewMember(email=good[1], role_key="qa", geos=["angola"])),
        (3, NewMember(email=world.a_admin.email, role_key="qa")),
        (4, NewMember(email=bad_role, role_key="no_such_role")),
        (5, NewMember(email=good[0].upper(), role_key="qa")),
        (6, NewMember(email=bad_geo, role_key="qa", geos=["narnia"])),
        (7, NewMember(email=good[2], role_key="admin")),
    ]
    before = audit_targets(ctx, world.a.id)
    result = add_in_batch(ctx, as_user(world.a_admin), world.a.id, items)

    assert [index for index, _ in result.applied] == [0, 2, 7]
    assert [added.user.email for _, added in result.applied] == good
    assert {e.index: e.error.code for e in result.errors} == {
        1: ErrorCode.INVALID_EMAIL,
        3: ErrorCode.ALREADY_MEMBER,
        4: ErrorCode.UNKNOWN_ROLE,
        5: ErrorCode.ALREADY_MEMBER,
        6: ErrorCode.UNKNOWN_GEOS,
    }
    assert {e.index: e.email for e in result.errors}[1] == "not an email"
    assert member_emails(ctx, world.a.id) == {world.a_admin.email, *good}
    assert not user_exists(ctx, bad_role)
    assert not user_exists(ctx, bad_geo)
    new_events = events_since(ctx, world.a.id, before)
    created = [t for a, t in new_events if a == "user.create"]
    assert sorted(created) == sorted(added.user.id for _, added in result.applied)


def test_a_refusal_after_the_user_was_written_leaves_no_trace(
    ctx: ServiceContext, world: World
) -> None:
    # Two network users with one network id: the second insert breaks a unique key after its
    # user row and audit event were written, so only the savepoint can take them back.
    first, second = unique_email("net"), unique_email("net")
    spec = {"role_key": "marketing", "network_managed": True, "id_from_network": "N-1"}
    before = audit_targets(ctx, world.a.id)
    result = add_in_batch(
        ctx,
        OPERATOR,
        world.a.id,
        [(0, NewMember(email=first, **spec)), (1, NewMember(email=second, **spec))],  # type: ignore[arg-type]
    )
    assert [i for i, _ in result.applied] == [0]
    assert [(e.index, type(e.error)) for e in result.errors] == [(1, Conflict)]
    assert user_exists(ctx, first)
    assert not user_exists(ctx, second)
    assert member_emails(ctx, world.a.id) == {world.a_admin.email, first}
    new_events = events_since(ctx, world.a.id, before)
    added_id = result.applied[0][1].user.id
    assert sorted(new_events) == [("membership.create", added_id), ("user.create", added_id)]


def test_bulk_add_where_everyone_is_refused_changes_nothing(
    ctx: ServiceContext, world: World
) -> None:
    before = audit_targets(ctx, world.a.id)
    result = add_in_batch(
        ctx,
        OPERATOR,
        world.a.id,
        [
            (0, NewMember(email="@nope", role_key="qa")),
            (1, NewMember(email=unique_email(), role_key="admin", geos=["us"])),
        ],
    )
    assert result.applied == []
    assert [e.error.code for e in result.errors] == [
        ErrorCode.INVALID_EMAIL,
        ErrorCode.UNRESTRICTED_ROLE_RESTRICTED,
    ]
    assert audit_targets(ctx, world.a.id) == before


def test_more_than_20_users_are_refused_whole(ctx: ServiceContext, world: World) -> None:
    emails = [unique_email("many") for _ in range(21)]
    items = [(i, NewMember(email=e, role_key="qa")) for i, e in enumerate(emails)]
    with pytest.raises(InvalidInput) as caught:
        add_in_batch(ctx, OPERATOR, world.a.id, items)
    assert caught.value.message == "Exceeded the limit of adding 20 users in a single API call."
    assert not any(user_exists(ctx, e) for e in emails)


def test_exactly_20_users_are_added(ctx: ServiceContext, world: World) -> None:
    emails = [unique_email("twenty") for _ in range(20)]
    items = [(i, NewMember(email=e, role_key="qa")) for i, e in enumerate(emails)]
    result = add_in_batch(ctx, OPERATOR, world.a.id, items)
    assert len(result.applied) == 20
    assert result.errors == []
    assert member_emails(ctx, world.a.id) == {world.a_admin.email, *emails}


def test_the_limit_follows_the_setting(ctx: ServiceContext, world: World) -> None:
    ctx.settings = ctx.settings.model_copy(update={"member_batch_max_items": 2})
    items = [(i, NewMember(email=unique_email(), role_key="qa")) for i in range(3)]
    with pytest.raises(InvalidInput) as caught:
        add_in_batch(ctx, OPERATOR, world.a.id, items)
    assert caught.value.message == "Exceeded the limit of adding 2 users in a single API call."


def test_bulk_add_needs_the_right_to_manage_users(ctx: ServiceContext, world: World) -> None:
    email = unique_email()
    with pytest.raises(Forbidden):
        add_in_batch(
            ctx, as_user(world.b_admin), world.a.id, [(0, NewMember(email=email, role_key="qa"))]
        )
    assert not user_exists(ctx, email)


# -- removing ----------------------------------------------------------------------------------


def test_bulk_remove_removes_everyone_listed(ctx: ServiceContext, world: World) -> None:
    workers = [make_member(ctx, world.a, role="qa") for _ in range(3)]
    pending = make_member(ctx, world.a, role="qa", active=False)
    removed = remove_in_batch(
        ctx,
        as_user(world.a_admin),
        world.a.id,
        [workers[0].email, f" {workers[1].email.upper()} ", pending.email],
    )
    assert removed == [workers[0].id, workers[1].id, pending.id]
    assert member_emails(ctx, world.a.id) == {world.a_admin.email, workers[2].email}
    deleted = [t for a, t in audit_targets(ctx, world.a.id) if a == "membership.delete"]
    assert sorted(deleted) == sorted(removed)  # the only removals in this account


def test_one_bad_email_refuses_the_whole_call(ctx: ServiceContext, world: World) -> None:
    workers = [make_member(ctx, world.a, role="qa") for _ in range(2)]
    outsider = world.b_admin.email
    before = member_emails(ctx, world.a.id)
    events = audit_targets(ctx, world.a.id)
    with pytest.raises(BatchRejected) as caught:
        remove_in_batch(
            ctx,
            as_user(world.a_admin),
            world.a.id,
            [workers[0].email, "not-an-email", "nobody@example.com", outsider, workers[1].email],
        )
    items = {item.index: item for item in caught.value.items}
    assert sorted(items) == [1, 2, 3]
    assert items[1].error.code is ErrorCode.INVALID_EMAIL
    assert items[1].email == "not-an-email"
    for index in (2, 3):
        assert isinstance(items[index].error, NotFound)
        assert items[index].error.message == "The email doesn\u2019t exist"
    assert member_emails(ctx, world.a.id) == before
    assert audit_targets(ctx, world.a.id) == events


def test_bulk_remove_refuses_self_owner_and_last_admin(ctx: ServiceContext, world: World) -> None:
    second_host_admin = make_member(ctx, world.host, role="admin")
    worker = make_member(ctx, world.host, role="qa")
    with pytest.raises(BatchRejected) as caught:
        remove_in_batch(
            ctx,
            as_user(second_host_admin),
            world.host.id,
            [worker.email, second_host_admin.email, world.host_admin.email],
        )
    codes = {item.index: item.error.code for item in caught.value.items}
    assert codes == {1: ErrorCode.SELF_DELETE, 2: ErrorCode.OWNER_PROTECTED}
    assert worker.email in member_emails(ctx, world.host.id)


def test_bulk_remove_cannot_take_every_admin_at_once(ctx: ServiceContext, world: World) -> None:
    second = make_member(ctx, world.a, role="admin")
    with pytest.raises(BatchRejected) as caught:
        remove_in_batch(
            ctx, as_user(world.host_admin), world.a.id, [world.a_admin.email, second.email]
        )
    assert [(i.index, i.error.code) for i in caught.value.items] == [(1, ErrorCode.LAST_ADMIN)]
    assert member_emails(ctx, world.a.id) >= {world.a_admin.email, second.email}


def test_bulk_remove_revokes_invitations_only_when_it_commits(
    ctx: ServiceContext, world: World
) -> None:
    invitee = members.add_member(
        ctx, OPERATOR, world.a.id, NewMember(email=unique_email("inv"), role_key="qa")
    )
    with pytest.raises(BatchRejected):
        remove_in_batch(ctx, OPERATOR, world.a.id, [invitee.user.email, "missing@example.com"])
    with ctx.uow(readonly=True) as uow:
        open_ones = uow.invitations.open_for(invitee.user.id, world.a.id)
        membership = uow.memberships.find(invitee.user.id, world.a.id)
    assert len(open_ones) == 1
    assert membership is not None
    assert membership.status is MembershipStatus.PENDING
