"""The audit trail: every change leaves one event, in the change's own transaction."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tenantry.domain.accounts import AccountKind
from tenantry.domain.audit import AuditEvent
from tenantry.domain.errors import DomainError, Forbidden
from tenantry.services import (
    accounts,
    audit,
    credentials,
    invitations,
    members,
    roles,
)
from tenantry.services.accounts import AccountChanges
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.members import NewMember
from tenantry.storage.repositories.audit import SqlAuditRepository

from factories import (
    OPERATOR,
    World,
    as_user,
    make_account,
    make_member,
    remove_in_batch,
    unique_email,
)

REQUEST_ID = "req-7f3a"
ANALYST = {"data": {"reports": "all"}}


def trail(ctx: ServiceContext) -> list[AuditEvent]:
    with ctx.uow(readonly=True) as uow:
        return uow.audit.query(account_ids=None, limit=10_000)


@dataclass
class Expected:
    action: str
    target_id: str
    account_id: str
    before: dict[str, Any] | None = None  # keys that must be in `before`, with their values
    after: dict[str, Any] | None = None
    secret: str | None = None  # must appear nowhere in the trail


# Each change: prepare (outside the measured part), then act as `actor` and say what to expect.
Change = Callable[[ServiceContext, World, Actor], Expected]


def _add_member(ctx: ServiceContext, world: World, actor: Actor) -> Expected:
    added = members.add_member(
        ctx, actor, world.a.id, NewMember(email=unique_email(), role_key="marketing")
    )
    return Expected(
        "membership.create",
        added.user.id,
        world.a.id,
        after={"role": "marketing", "status": "pending"},
        secret=added.invitation_token,
    )


def _change_role(ctx: ServiceContext, world: World, actor: Actor) -> Expected:
    worker = make_member(ctx, world.a, role="marketing")
    members.change_role(ctx, actor, world.a.id, worker.id, "qa")
    return Expected(
        "membership.change_role",
        worker.id,
        world.a.id,
        before={"role": "marketing"},
        after={"role": "qa"},
    )


def _deactivate(ctx: ServiceContext, world: World, actor: Actor) -> Expected:
    worker = make_member(ctx, world.a, role="marketing")
    members.set_user_active(ctx, actor, world.a.id, worker.id, False)
    return Expected(
        "user.deactivate", worker.id, world.a.id, before={"status": 1}, after={"status": 0}
    )


def _remove_member(ctx: ServiceContext, world: World, actor: Actor) -> Expected:
    worker = make_member(ctx, world.a, role="qa")
    members.remove_member(ctx, actor, world.a.id, worker.id)
    return Expected("membership.delete", worker.id, world.a.id, before={"role": "qa"})


def _bulk_remove(ctx: ServiceContext, world: World, actor: Actor) -> Expected:
    worker = make_member(ctx, world.a, role="qa")
    remove_in_batch(ctx, actor, world.a.id, [worker.email])
    return Expected("membership.delete", worker.id, world.a.id, before={"role": "qa"})


def _update_account(ctx: ServiceContext, world: World, actor: Actor) -> Expected:
    accounts.update_account(ctx, actor, world.a.id, AccountChanges(name="Renamed A"))
    return Expected(
        "account.update",
        world.a.id,
        world.a.id,
        before={"name": world.a.name},
        after={"name": "Renamed A"},
    )


def _create_role(ctx: ServiceContext, world: World, actor: Actor) -> Expected:
    roles.create_custom_role(
        ctx, actor, world.a.id, key="analyst", display_name="Analyst", capabilities=ANALYST
    )
    return Expected("role.create", "analyst", world.a.id, after={"key": "analyst"})


def _delete_role(ctx: ServiceContext, world: World, actor: Actor) -> Expected:
    roles.create_custom_role(
        ctx, OPERATOR, world.a.id, key="analyst", display_name="Analyst", capabilities=ANALYST
    )
    roles.delete_custom_role(ctx, actor, world.a.id, "analyst")
    return Expected("role.delete", "analyst", world.a.id, before={"key": "analyst"})


def _create_api_account(ctx: ServiceContext, world: World, actor: Actor) -> Expected:
    _, secret = credentials.create_api_account(ctx, actor, world.a.id, "auditclient")
    return Expected(
        "api_account.create",
        "auditclient",
        world.a.id,
        after={"client_id": "auditclient"},
        secret=secret,
    )


def _revoke_api_account(ctx: ServiceContext, world: World, actor: Actor) -> Expected:
    credentials.create_api_account(ctx, OPERATOR, world.a.id, "auditclient")
    credentials.revoke_api_account(ctx, actor, world.a.id, "auditclient")
    return Expected("api_account.revoke", "auditclient", world.a.id)


def _create_api_token(ctx: ServiceContext, world: World, actor: Actor) -> Expected:
    api_token, token, _ = credentials.create_api_token(ctx, actor, world.a.id)
    return Expected(
        "api_token.create",
        api_token.key,
        world.a.id,
        after={"user": world.a_admin.email},
        secret=token.rsplit("_", 1)[1],
    )


def _renew_invitation(ctx: ServiceContext, world: World, actor: Actor) -> Expected:
    pending = make_member(ctx, world.a, role="qa", active=False)
    token = invitations.renew_invitation(ctx, actor, world.a.id, pending.email)
    return Expected("invitation.renew", pending.id, world.a.id, secret=token)


def _revoke_invitation(ctx: ServiceContext, world: World, actor: Actor) -> Expected:
    pending = make_member(ctx, world.a, role="qa", active=False)
    invitations.revoke_invitation(ctx, actor, world.a.id, pending.email)
    return Expected("invitation.revoke", pending.id, world.a.id)


def _add_app(ctx: ServiceContext, world: World, actor: Actor) -> Expected:
    accounts.add_app(ctx, actor, world.a.id, "com.example.audit", "Audit")
    return Expected("app.add", "com.example.audit", world.a.id, after={"name": "Audit"})


def _remove_app(ctx: ServiceContext, world: World, actor: Actor) -> Expected:
    accounts.add_app(ctx, OPERATOR, world.a.id, "com.example.audit")
    accounts.remove_app(ctx, actor, world.a.id, "com.example.audit")
    return Expected(
        "app.remove", "com.example.audit", world.a.id, before={"app_id": "com.example.audit"}
    )


CHANGES: list[Change] = [
    _add_member,
    _change_role,
    _deactivate,
    _remove_member,
    _bulk_remove,
    _update_account,
    _create_role,
    _delete_role,
    _create_api_account,
    _revoke_api_account,
    _create_api_token,
    _renew_invitation,
    _revoke_invitation,
    _add_app,
    _remove_app,
]


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__.strip("_") for c in CHANGES])
def test_every_change_is_audited(ctx: ServiceContext, world: World, change: Change) -> None:
    actor = as_user(world.a_admin).via("bulk", REQUEST_ID)
    expected = change(ctx, world, actor)
    event = trail(ctx)[0]
    assert event.action == expected.action
    assert event.target_id == expected.target_id
    assert event.account_id == expected.account_id
    assert event.actor_kind == "user"
    assert event.actor_id == world.a_admin.id
    assert event.actor_label == world.a_admin.email
    assert event.face == "bulk"
    assert event.request_id == REQUEST_ID
    assert event.at is not None
    for side, wanted in (("before", expected.before), ("after", expected.after)):
        recorded = getattr(event, side)
        if wanted is None:
            continue
        assert recorded is not None, side
        assert {k: recorded.get(k) for k in wanted} == wanted
    if expected.secret:
        everything = json.dumps([[e.before, e.after, e.target_id] for e in trail(ctx)])
        assert expected.secret not in everything


def test_account_creation_and_deletion_are_audited(ctx: ServiceContext, world: World) -> None:
    actor = as_user(world.host_admin).via("graphql", REQUEST_ID)
    created = accounts.create_account(
        ctx, actor, name="Audited", kind=AccountKind.AGENCY, parent_id=world.host.id
    )
    event = trail(ctx)[0]
    assert (event.action, event.target_id, event.face) == ("account.create", created.id, "graphql")
    assert event.after is not None
    assert event.after["name"] == "Audited"
    accounts.delete_account(ctx, actor, created.id)
    event = trail(ctx)[0]
    assert (event.action, event.target_id, event.request_id) == (
        "account.delete",
        created.id,
        REQUEST_ID,
    )
    assert event.before is not None
    assert event.before["kind"] == "agency"


def test_a_new_user_gets_a_creation_event_too(ctx: ServiceContext, world: World) -> None:
    email = unique_email()
    before = len(trail(ctx))
    added = members.add_member(ctx, OPERATOR, world.a.id, NewMember(email=email, role_key="qa"))
    new = trail(ctx)[: len(trail(ctx)) - before]
    assert [(e.action, e.target_id) for e in new] == [
        ("membership.create", added.user.id),
        ("user.create", added.user.id),
    ]
    assert new[1].after is not None
    assert new[1].after["email"] == email
    assert new[0].actor_kind == "system"


# Calls that fail at various points: each prepares what it needs, then returns the failing call.
Failing = Callable[[ServiceContext, World], Callable[[], object]]


def _fail_already_member(ctx: ServiceContext, world: World) -> Callable[[], object]:
    spec = NewMember(email=world.a_admin.email, role_key="qa")
    return lambda: members.add_member(ctx, OPERATOR, world.a.id, spec)


def _fail_bad_geo(ctx: ServiceContext, world: World) -> Callable[[], object]:
    spec = NewMember(email=unique_email(), role_key="qa", geos=["xx-yy"])
    return lambda: members.add_member(ctx, OPERATOR, world.a.id, spec)


def _fail_last_admin(ctx: ServiceContext, world: World) -> Callable[[], object]:
    return lambda: members.change_role(ctx, OPERATOR, world.a.id, world.a_admin.id, "view")


def _fail_forbidden(ctx: ServiceContext, world: World) -> Callable[[], object]:
    actor = as_user(world.b_admin)
    return lambda: members.remove_member(ctx, actor, world.a.id, world.a_admin.id)


def _fail_bulk_remove(ctx: ServiceContext, world: World) -> Callable[[], object]:
    worker = make_member(ctx, world.a, role="qa")
    return lambda: remove_in_batch(ctx, OPERATOR, world.a.id, [worker.email, "bad"])


def _fail_update(ctx: ServiceContext, world: World) -> Callable[[], object]:
    changes = AccountChanges(name="Renamed", status=7)
    return lambda: accounts.update_account(ctx, OPERATOR, world.a.id, changes)


def _fail_accept(ctx: ServiceContext, world: World) -> Callable[[], object]:
    make_member(ctx, world.a, role="qa", active=False)
    return lambda: invitations.accept_invitation(
        ctx, "forged-token", world.a_admin.email, "Str0ng-Password!"
    )


def _fail_delete_parent(ctx: ServiceContext, world: World) -> Callable[[], object]:
    agency = make_account(ctx, parent=world.host, kind=AccountKind.AGENCY)
    make_account(ctx, parent=agency)
    return lambda: accounts.delete_account(ctx, OPERATOR, agency.id)


def _fail_create_role(ctx: ServiceContext, world: World) -> Callable[[], object]:
    return lambda: roles.create_custom_role(
        ctx, OPERATOR, world.a.id, key="admin", display_name="Admin", capabilities=ANALYST
    )


def _fail_bad_secret(ctx: ServiceContext, world: World) -> Callable[[], object]:
    return lambda: credentials.issue_access_token(ctx, "nosuchclient", "guess")


FAILING: list[Failing] = [
    _fail_already_member,
    _fail_bad_geo,
    _fail_last_admin,
    _fail_forbidden,
    _fail_bulk_remove,
    _fail_update,
    _fail_accept,
    _fail_delete_parent,
    _fail_create_role,
    _fail_bad_secret,
]


@pytest.mark.parametrize(
    "prepare", FAILING, ids=[c.__name__.removeprefix("_fail_") for c in FAILING]
)
def test_a_failing_call_writes_no_event(
    ctx: ServiceContext, world: World, prepare: Failing
) -> None:
    call = prepare(ctx, world)
    before = trail(ctx)
    with pytest.raises(DomainError):
        call()
    assert trail(ctx) == before


def test_the_event_and_the_change_share_one_transaction(
    ctx: ServiceContext, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: SqlAuditRepository, event: AuditEvent) -> None:
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(SqlAuditRepository, "add", broken)
    email = unique_email()
    with pytest.raises(RuntimeError):
        members.add_member(ctx, OPERATOR, world.a.id, NewMember(email=email, role_key="qa"))
    with pytest.raises(RuntimeError):
        accounts.update_account(ctx, OPERATOR, world.a.id, AccountChanges(name="Never"))
    monkeypatch.undo()
    with ctx.uow(readonly=True) as uow:
        assert uow.users.find_by_email(email) is None
        assert uow.accounts.get(world.a.id).name == world.a.name


# -- reading the trail -------------------------------------------------------------------------


def test_who_reads_the_trail(ctx: ServiceContext, world: World) -> None:
    manager = make_member(ctx, world.a, role="manage")  # audit_log: read
    marketer = make_member(ctx, world.a, role="marketing")  # audit_log: blocked
    own = audit.list_audit_events(ctx, as_user(world.a_admin), world.a.id)
    assert own
    assert {e.account_id for e in own} == {world.a.id}
    assert audit.list_audit_events(ctx, as_user(manager), world.a.id) == own
    for actor in (as_user(marketer), as_user(world.b_admin)):
        with pytest.raises(Forbidden):
            audit.list_audit_events(ctx, actor, world.a.id)
    with pytest.raises(Forbidden):
        audit.list_audit_events(ctx, as_user(world.host_admin), None)
    whole = audit.list_audit_events(ctx, OPERATOR, None, limit=500)
    assert {world.a.id, world.b.id, world.host.id} <= {e.account_id for e in whole}


def test_the_trail_filters_and_pages(ctx: ServiceContext, world: World) -> None:
    for _ in range(5):
        make_member(ctx, world.a, role="qa", active=False)
    admin = as_user(world.a_admin)
    created = audit.list_audit_events(ctx, admin, world.a.id, action="membership.create")
    assert len(created) == 6  # the world's admin and the five above
    first = audit.list_audit_events(ctx, admin, world.a.id, limit=4)
    rest = audit.list_audit_events(ctx, admin, world.a.id, limit=500, before_id=first[-1].id)
    every = audit.list_audit_events(ctx, admin, world.a.id, limit=500)
    assert first + rest == every
    assert [e.id for e in every] == sorted((e.id for e in every), reverse=True)
    assert audit.list_audit_events(ctx, admin, world.a.id, face="nowhere") == []


# DESIGN: "every change is audited with actor, face, request id, before and after".
def _revoke_api_account_event(ctx: ServiceContext, world: World) -> None:
    credentials.create_api_account(ctx, OPERATOR, world.a.id, "auditclient")
    credentials.revoke_api_account(ctx, OPERATOR, world.a.id, "auditclient")


def _revoke_api_token_event(ctx: ServiceContext, world: World) -> None:
    api_token, _, _ = credentials.create_api_token(ctx, OPERATOR, world.a.id)
    credentials.revoke_api_token(ctx, OPERATOR, world.a.id, api_token.key)


def _renew_invitation_event(ctx: ServiceContext, world: World) -> None:
    pending = make_member(ctx, world.a, role="qa", active=False)
    invitations.renew_invitation(ctx, OPERATOR, world.a.id, pending.email)


def _revoke_invitation_event(ctx: ServiceContext, world: World) -> None:
    pending = make_member(ctx, world.a, role="qa", active=False)
    invitations.revoke_invitation(ctx, OPERATOR, world.a.id, pending.email)


def _accept_invitation_event(ctx: ServiceContext, world: World) -> None:
    added = members.add_member(
        ctx, OPERATOR, world.a.id, NewMember(email=unique_email(), role_key="qa")
    )
    assert added.invitation_token is not None
    invitations.accept_invitation(
        ctx, added.invitation_token, added.user.email, "Correct-Horse-9-Battery"
    )


SILENT_CHANGES = [
    _revoke_api_account_event,
    _revoke_api_token_event,
    _renew_invitation_event,
    _revoke_invitation_event,
    _accept_invitation_event,
]


@pytest.mark.parametrize(
    "change", SILENT_CHANGES, ids=[c.__name__.strip("_") for c in SILENT_CHANGES]
)
def test_state_changes_record_the_state_they_changed(
    ctx: ServiceContext, world: World, change: Callable[[ServiceContext, World], None]
) -> None:
    change(ctx, world)
    event = trail(ctx)[0]
    assert event.before is not None or event.after is not None
