"""An actor of one account can neither read nor change another account, through any service.

Each test builds one world (tests/authz_cases.py) and runs a row's cells in it, one actor
after the other, so a row costs one database, not one per cell. Every cell snapshots every
table before and after the call: a refused call must leave the database exactly as it was (the
audit trail included), an allowed write must change it, and an allowed read must not.

A cell that shows a bug in the services runs as a test of its own, marked as a strict xfail
carrying the bug's description, so that fixing the bug turns it into a failure to un-mark.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from authz_sso_cases import SSO_ROWS
from tenantry import services
from tenantry.domain.errors import DomainError, Forbidden
from tenantry.domain.outbox import OutboxStatus
from tenantry.services import (
    accounts,
    audit,
    auth_resets,
    counted_reads,
    credentials,
    outbox,
    quotas,
)
from tenantry.services.context import ServiceContext
from tenantry.services.membership_commands import BatchRejected, ChangeReport
from tenantry.storage.uow import SqlUnitOfWorkFactory

from authz_cases import (
    COLUMNS,
    CROSS_ACCOUNT,
    POSITIVE_CONTROLS,
    STANDARD,
    Cell,
    MatrixWorld,
    Outcome,
    Row,
    build_matrix_world,
)
from authz_cases import (
    ROWS as CORE_ROWS,
)
from authz_network_cases import NETWORK_ROWS
from authz_scim_cases import SCIM_ROWS
from authz_webhook_cases import WEBHOOK_ROWS
from factories import OPERATOR, as_user, build_world, make_member

ROWS = (*CORE_ROWS, *NETWORK_ROWS, *SCIM_ROWS, *SSO_ROWS, *WEBHOOK_ROWS)

Snapshot = dict[str, list[str]]


# -- running cells -----------------------------------------------------------------------------


def _engine(ctx: ServiceContext) -> sa.Engine:
    factory = ctx.uow
    assert isinstance(factory, SqlUnitOfWorkFactory)
    return factory.engine


def _tables(ctx: ServiceContext) -> list[str]:
    """Every table the migrations made, so that tables added later are covered too."""
    names = sa.inspect(_engine(ctx)).get_table_names()
    return sorted(name for name in names if name != "alembic_version")


def _snapshot(ctx: ServiceContext, names: list[str]) -> Snapshot:
    """Every row of the tables, as comparable text."""
    with _engine(ctx).connect() as conn:
        return {
            name: sorted(repr(tuple(r)) for r in conn.execute(sa.text(f'SELECT * FROM "{name}"')))
            for name in names
        }


def _changes(before: Snapshot, after: Snapshot) -> str:
    parts = []
    for name in sorted(before.keys() | after.keys()):
        old, new = set(before.get(name, [])), set(after.get(name, []))
        if old != new:
            parts.append(f"{name}: -{sorted(old - new)[:2]} +{sorted(new - old)[:2]}")
    return "; ".join(parts)


@contextmanager
def _partner_management(ctx: ServiceContext, account_id: str, allowed: bool) -> Iterator[None]:
    """Turn the target's can_partner_manage off for one cell (outside the snapshots)."""
    if allowed:
        yield
        return
    accounts.update_account(
        ctx, OPERATOR, account_id, accounts.AccountChanges(can_partner_manage=False)
    )
    try:
        yield
    finally:
        with ctx.uow(readonly=True) as uow:
            still_there = uow.accounts.find(account_id) is not None
        if still_there:
            changes = accounts.AccountChanges(can_partner_manage=True)
            accounts.update_account(ctx, OPERATOR, account_id, changes)


def _check(
    row: Row,
    cell: Cell,
    expected: Outcome,
    result: Any,
    raised: Exception | None,
    before: Snapshot,
    after: Snapshot,
) -> str | None:
    """What is wrong with the cell's outcome, or None."""
    got = f"raised {raised!r}" if raised is not None else f"returned {result!r:.200}"
    if expected.kind == "allow":
        if raised is not None:
            return f"expected success, {got}"
        if row.writes and before == after:
            return "expected a change, the database is as it was"
        if not row.writes and before != after:
            return f"a read changed the database: {_changes(before, after)}"
        if row.reveals is not None and not row.reveals(result, cell):
            return f"expected B's data in the result, {got}"
        return None
    if before != after:
        return f"expected no change, {got}; changed {_changes(before, after)}"
    if expected.kind == "hidden":
        if raised is not None:
            return f"expected success, {got}"
        if row.reveals is not None and row.reveals(result, cell):
            return f"B's data leaked: {got}"
        return None
    assert expected.error is not None
    if expected.kind == "denied":
        if not isinstance(raised, expected.error):
            return f"expected {expected.error.__name__}, {got}"
        return None
    # items_denied: the call itself is allowed, every item is refused with this error.
    if isinstance(raised, BatchRejected):
        errors = [item.error for item in raised.items]
    elif raised is None and isinstance(result, ChangeReport) and not result.applied:
        errors = [item.error for item in result.errors]
    else:
        return f"expected each item refused with {expected.error.__name__}, {got}"
    if not errors or not all(isinstance(e, expected.error) for e in errors):
        return f"expected each item refused with {expected.error.__name__}, got {errors!r}"
    return None


def _run_cell(world: MatrixWorld, tables: list[str], row: Row, column_key: str) -> str | None:
    column = COLUMNS[column_key]
    target = row.target(world)
    cell = Cell(world, column, target, column.actor(world, target))
    cell.prepared = row.prepare(cell) if row.prepare is not None else None
    result: Any = None
    raised: Exception | None = None
    with _partner_management(world.ctx, target.id, column.partner_manage):
        before = _snapshot(world.ctx, tables)
        try:
            result = row.run(cell)
        except DomainError as error:
            raised = error
        after = _snapshot(world.ctx, tables)
    problem = _check(row, cell, row.expect[column_key], result, raised, before, after)
    return None if problem is None else f"{row.name} / {column_key} ({column.doc}): {problem}"


def _params() -> list[Any]:
    """One test per row for its sound cells, and one strict xfail per cell that shows a bug."""
    params = []
    for row in ROWS:
        sound = [key for key in row.expect if key not in row.bugs]
        params.append(pytest.param(row, sound, id=row.name))
        for key, reason in row.bugs.items():
            mark = pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)
            params.append(pytest.param(row, [key], id=f"{row.name}[{key}]", marks=mark))
    return params


@pytest.mark.parametrize(("row", "column_keys"), _params())
def test_authorization_matrix(ctx: ServiceContext, row: Row, column_keys: list[str]) -> None:
    world, tables = build_matrix_world(ctx), _tables(ctx)
    problems = [p for key in column_keys if (p := _run_cell(world, tables, row, key)) is not None]
    assert not problems, "\n".join(problems)


# -- the matrix covers every service -----------------------------------------------------------


def _services_taking_an_actor() -> set[str]:
    """Public functions of the service modules that take an `actor`.

    Functions that also take a `uow` are pieces of a caller's transaction (authz.require,
    membership_changes.change_members_in, context.record, ...), not use cases: they are
    covered through the services that call them.
    """
    found = set()
    for info in pkgutil.iter_modules(services.__path__):
        if info.name == "policy" or info.name.startswith("policy_"):
            continue  # the questions services ask, not services: rows test their answers
        module = importlib.import_module(f"tenantry.services.{info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or function.__module__ != module.__name__:
                continue
            parameters = inspect.signature(function).parameters
            if "actor" in parameters and "uow" not in parameters:
                found.add(f"{info.name}.{name}")
    return found


# Services that name no account: they act on the account the caller's credentials belong to,
# so there is no "other account" to point them at. Each has its own isolation test below.
OWN_ACCOUNT_ONLY = {
    "quotas.admit_batch_call",
    "counted_reads.counted_members_page",
    "counted_reads.counted_every_member",
}
# The idempotency keys of the caller's own credential, naming no account either: two
# credentials' keys never meet (tests/integration/test_idempotency_keys.py, and per face in
# tests/api/test_idempotency.py).
CREDENTIAL_SCOPED = {
    "idempotency.begin_idempotent_call",
    "idempotency.may_replay",
    "idempotency.scope_of",
}
# Services for the operator (the system actor) alone, naming no account: every person and
# credential is refused, as the test below checks.
OPERATOR_ONLY = {"auth_resets.issue_password_reset", "audit.prune_audit_events"}
# Deployment-wide state (mail waiting to go out, for every account): the operator and the admins
# of the deployment's first top-level account only, as the test below checks.
DEPLOYMENT_OPERATORS = {
    "outbox.outbox_counts",
    "outbox.list_outbox",
    "outbox.delivery_status",
    "outbox.outbox_backlog",
}


def test_every_service_taking_an_actor_has_a_row() -> None:
    found = (
        _services_taking_an_actor()
        - OWN_ACCOUNT_ONLY
        - CREDENTIAL_SCOPED
        - OPERATOR_ONLY
        - DEPLOYMENT_OPERATORS
    )
    rows = [row.name for row in ROWS]
    assert len(rows) == len(set(rows)), "a service has two rows"
    assert sorted(found - set(rows)) == [], "services without a matrix row"
    assert sorted(set(rows) - found) == [], "rows for no current service"


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_every_row_is_complete_and_has_a_positive_control(row: Row) -> None:
    assert [key for key in STANDARD if key not in row.expect] == []
    assert set(row.bugs) <= set(row.expect)
    # The requirement itself: nobody from A reads or changes B.
    for key in CROSS_ACCOUNT:
        assert row.expect[key].kind in ("denied", "hidden"), key
    # And the call works at all, so the refusals above are refusals, not a broken call.
    assert any(row.expect[key].kind == "allow" for key in POSITIVE_CONTROLS)


def test_operator_only_services_refuse_everyone_else(ctx: ServiceContext) -> None:
    world = build_world(ctx)
    email = make_member(ctx, world.b, role="view").email
    _, b_token, _ = credentials.create_api_token(ctx, OPERATOR, world.b.id)
    api_account, secret = credentials.create_api_account(ctx, OPERATOR, world.host.id, "ops")
    issued = credentials.issue_access_token(ctx, api_account.client_id, secret)
    others = [
        as_user(world.host_admin),
        as_user(world.b_admin),
        credentials.authenticate(ctx, b_token, face="test"),
        credentials.authenticate(ctx, issued.token, face="test"),
    ]
    for actor in others:
        with pytest.raises(Forbidden):
            auth_resets.issue_password_reset(ctx, actor, email)
        with pytest.raises(Forbidden):
            audit.prune_audit_events(ctx, actor, 30)
    assert auth_resets.issue_password_reset(ctx, OPERATOR, email).to == email
    assert audit.prune_audit_events(ctx, OPERATOR, 30) == 0


def test_the_outbox_is_shown_to_the_deployments_operators_only(ctx: ServiceContext) -> None:
    world = build_world(ctx)
    _, b_token, _ = credentials.create_api_token(ctx, OPERATOR, world.b.id)
    for actor in (as_user(world.b_admin), credentials.authenticate(ctx, b_token, face="test")):
        with pytest.raises(Forbidden):
            outbox.list_outbox(ctx, actor)
        with pytest.raises(Forbidden):
            outbox.outbox_counts(ctx, actor)
        with pytest.raises(Forbidden):
            outbox.outbox_backlog(ctx, actor)
        assert outbox.delivery_status(ctx, actor) is None
    for actor in (OPERATOR, as_user(world.host_admin)):
        assert outbox.list_outbox(ctx, actor) == []
        assert outbox.outbox_counts(ctx, actor) == dict.fromkeys(OutboxStatus, 0)
        assert outbox.outbox_backlog(ctx, actor) == {}
        assert outbox.delivery_status(ctx, actor) is not None


def test_bulk_quota_is_counted_on_the_callers_own_account_only(ctx: ServiceContext) -> None:
    """A's admin spends A's quota; B's stays whole, and B's viewer may not spend B's."""
    world = build_world(ctx)
    _, a_token, _ = credentials.create_api_token(ctx, OPERATOR, world.a.id)
    a_admin = credentials.authenticate(ctx, a_token, face="test")
    spent = quotas.admit_batch_call(ctx, a_admin)
    assert spent.account_id == world.a.id
    viewer = make_member(ctx, world.b, role="view")
    _, b_token, _ = credentials.create_api_token(ctx, OPERATOR, world.b.id, user_email=viewer.email)
    with pytest.raises(Forbidden):
        quotas.admit_batch_call(ctx, credentials.authenticate(ctx, b_token, face="test"))
    _, b_admin_token, _ = credentials.create_api_token(ctx, OPERATOR, world.b.id)
    b_quota = quotas.admit_batch_call(
        ctx, credentials.authenticate(ctx, b_admin_token, face="test")
    )
    assert b_quota.account_id == world.b.id
    assert b_quota.remaining == spent.remaining  # one call each: A's call took none of B's


def test_the_bulk_reads_count_and_read_the_callers_own_account_only(ctx: ServiceContext) -> None:
    """A's admin reads A's members (a page, and all of them) on A's quota; B's viewer may
    neither spend B's quota nor read B's members that way."""
    world = build_world(ctx)
    in_b = make_member(ctx, world.b, role="view")
    _, a_token, _ = credentials.create_api_token(ctx, OPERATOR, world.a.id)
    a_admin = credentials.authenticate(ctx, a_token, face="test")
    quota, page = counted_reads.counted_members_page(ctx, a_admin, limit=1000)
    assert quota.account_id == world.a.id
    assert {m.membership.account_id for m in page.items} == {world.a.id}
    assert in_b.id not in {m.user.id for m in page.items}
    quota, everyone = counted_reads.counted_every_member(ctx, a_admin, at_most=1000)
    assert quota.account_id == world.a.id
    assert {m.membership.account_id for m in everyone} == {world.a.id}
    assert in_b.id not in {m.user.id for m in everyone}
    _, b_token, _ = credentials.create_api_token(ctx, OPERATOR, world.b.id, user_email=in_b.email)
    b_viewer = credentials.authenticate(ctx, b_token, face="test")
    with pytest.raises(Forbidden):
        counted_reads.counted_members_page(ctx, b_viewer, limit=1000)
    with pytest.raises(Forbidden):
        counted_reads.counted_every_member(ctx, b_viewer, at_most=1000)
    _, b_admin_token, _ = credentials.create_api_token(ctx, OPERATOR, world.b.id)
    b_admin = credentials.authenticate(ctx, b_admin_token, face="test")
    assert quotas.admit_batch_call(ctx, b_admin).used == 1  # none of the calls above took B's
