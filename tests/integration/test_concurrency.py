"""Two OS processes on one database: uniqueness and counters hold, and races end cleanly.

The workers run in spawned processes (a fresh interpreter each, as separate tenantry servers
would be), released together by a barrier so that their calls really overlap.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import Any

import pytest

from tenantry.domain.errors import DomainError, ErrorCode
from tenantry.services import members
from tenantry.services.context import ServiceContext
from tenantry.services.members import NewMember

from factories import OPERATOR, World, make_account, make_member, unique_email

pytestmark = pytest.mark.slow

PROCESSES = 2
ROUNDS = 4  # distinct e-mails raced in turn by the same two processes
INCREMENTS = 40  # per process
TIMEOUT = 60  # seconds: generous for slow machines; a healthy run takes a few seconds


def _context(url: str) -> Any:
    from tenantry.app import Composition
    from tenantry.settings import Settings

    return Composition(Settings(database_url=url))


def add_same_emails(
    url: str, account_id: str, emails: list[str], barrier: Barrier, results: Queue[Any]
) -> None:
    composition = _context(url)
    ctx = composition.context
    try:
        members.list_members(ctx, OPERATOR, account_id)  # connect before the race
        for email in emails:
            barrier.wait(TIMEOUT)
            try:
                members.add_member(
                    ctx, OPERATOR, account_id, NewMember(email=email, role_key="marketing")
                )
            except DomainError as error:
                results.put((email, "refused", error.code.value))
            except BaseException as error:  # what the test is looking for: must never happen
                results.put((email, "unhandled", f"{type(error).__name__}: {error}"))
            else:
                results.put((email, "added", None))
    finally:
        composition.dispose()


def increment_counter(
    url: str, key: str, expires_at: Any, barrier: Barrier, results: Queue[Any]
) -> None:
    composition = _context(url)
    ctx = composition.context
    seen: list[int] = []
    try:
        with ctx.uow() as uow:
            uow.counters.get(key, "w")  # connect before the race
        barrier.wait(TIMEOUT)
        for _ in range(INCREMENTS):
            with ctx.uow() as uow:
                seen.append(uow.counters.increment(key, "w", expires_at))
        results.put(("ok", seen))
    except BaseException as error:
        results.put(("unhandled", f"{type(error).__name__}: {error}"))
    finally:
        composition.dispose()


def run_workers(target: Any, args: tuple[Any, ...], expected_results: int) -> list[Any]:
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(PROCESSES)
    results: Queue[Any] = spawn.Queue()
    processes = [
        spawn.Process(target=target, args=(*args, barrier, results), daemon=True)
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    try:
        collected = [results.get(timeout=TIMEOUT) for _ in range(expected_results)]
    finally:
        for process in processes:
            process.join(TIMEOUT)
            if process.is_alive():
                process.kill()
    assert [p.exitcode for p in processes] == [0] * PROCESSES
    return collected


def test_two_processes_add_the_same_new_user(
    ctx: ServiceContext, world: World, database_url: str
) -> None:
    emails = [unique_email("race") for _ in range(ROUNDS)]
    outcomes = run_workers(
        add_same_emails, (database_url, world.a.id, emails), expected_results=ROUNDS * PROCESSES
    )

    unhandled = [o for o in outcomes if o[1] == "unhandled"]
    assert unhandled == []
    for email in emails:
        mine = sorted(o[1:] for o in outcomes if o[0] == email)
        assert len(mine) == PROCESSES
        assert [kind for kind, _ in mine] == ["added", "refused"], mine
        assert mine[1][1] in {ErrorCode.ALREADY_MEMBER.value, ErrorCode.CONFLICT.value}

    with ctx.uow(readonly=True) as uow:
        for email in emails:
            user = uow.users.find_by_email(email)
            assert user is not None
            assert len(uow.memberships.for_user(user.id)) == 1
            assert len(uow.invitations.open_for(user.id, world.a.id)) == 1
        created = uow.audit.query(account_ids=[world.a.id], action="user.create", limit=1000)
        raced = {user.id for user in uow.users.find_by_emails(emails).values()}
    assert sorted(e.target_id for e in created if e.target_id in raced) == sorted(raced)
    page = members.list_members(ctx, OPERATOR, world.a.id, limit=1000)
    assert sorted(m.user.email for m in page.items if m.user.email in emails) == sorted(emails)


def test_two_processes_increment_one_counter(ctx: ServiceContext, database_url: str) -> None:
    expires_at = ctx.now().replace(year=ctx.now().year + 1)
    outcomes = run_workers(
        increment_counter, (database_url, "race:counter", expires_at), expected_results=PROCESSES
    )
    assert [kind for kind, _ in outcomes] == ["ok"] * PROCESSES, outcomes
    returned = sorted(value for _, values in outcomes for value in values)
    # Every increment saw a distinct count: none was lost or applied twice.
    assert returned == list(range(1, PROCESSES * INCREMENTS + 1))
    with ctx.uow(readonly=True) as uow:
        assert uow.counters.get("race:counter", "w") == PROCESSES * INCREMENTS


def remove_one_admin_each(
    url: str, rounds: list[tuple[str, list[str]]], barrier: Barrier, results: Queue[Any]
) -> None:
    """Each process removes its own admin of an account that has two, at the same moment."""
    composition = _context(url)
    ctx = composition.context
    try:
        mine = int(multiprocessing.current_process().name.rsplit("-", 1)[-1]) % PROCESSES
        members.list_members(ctx, OPERATOR, rounds[0][0])  # connect before the race
        for account_id, admins in rounds:
            barrier.wait(TIMEOUT)
            try:
                members.remove_member(ctx, OPERATOR, account_id, admins[mine])
            except DomainError as error:
                results.put((account_id, "refused", error.code.value))
            except BaseException as error:
                results.put((account_id, "unhandled", f"{type(error).__name__}: {error}"))
            else:
                results.put((account_id, "removed", None))
    finally:
        composition.dispose()


def test_two_processes_cannot_remove_an_accounts_last_admins_together(
    ctx: ServiceContext, world: World, database_url: str
) -> None:
    """Two calls that each take away one of two admins: one of them is refused, whichever
    engine (a hostile review emptied an account this way on PostgreSQL)."""
    rounds = []
    for _ in range(ROUNDS):
        account = make_account(ctx, parent=world.host, name="Two admins")
        rounds.append((account.id, [make_member(ctx, account, role="admin").id for _ in "ab"]))
    outcomes = run_workers(
        remove_one_admin_each, (database_url, rounds), expected_results=ROUNDS * PROCESSES
    )
    assert [o for o in outcomes if o[1] == "unhandled"] == []
    for account_id, _ in rounds:
        kinds = sorted(kind for acc, kind, _ in outcomes if acc == account_id)
        assert kinds == ["refused", "removed"], (account_id, outcomes)
        page = members.list_members(ctx, OPERATOR, account_id)
        assert [m.role.key for m in page.items] == ["admin"]
