"""A network's full replacement of thousands of users: one transaction, a constant number of
statements whatever the number of users, and only the changed rows written."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa

from tenantry.domain.accounts import Account
from tenantry.domain.managed import InvalidNetworkInput, ManagedUserSpec
from tenantry.domain.users import NOTIFICATION_FLAGS
from tenantry.services import managed_users, setup
from tenantry.services.context import ServiceContext

from factories import OPERATOR, listed_users, managed_user

USERS = 2_000


@dataclass
class Recorded:
    statements: list[tuple[str, int]] = field(default_factory=list)  # (SQL, rows touched)
    commits: int = 0

    def writes(self, table: str) -> int:
        """Rows inserted, updated or deleted in `table`."""
        verbs = ("INSERT INTO " + table, "UPDATE " + table, "DELETE FROM " + table)
        return sum(rows for sql, rows in self.statements if sql.lstrip().startswith(verbs))

    @property
    def writing(self) -> list[str]:
        verbs = ("INSERT", "UPDATE", "DELETE")
        return [sql for sql, _ in self.statements if sql.lstrip().upper().startswith(verbs)]


@contextmanager
def recording(ctx: ServiceContext) -> Iterator[Recorded]:
    engine = ctx.uow.engine  # type: ignore[attr-defined]
    recorded = Recorded()

    def statement(_c: Any, cursor: Any, sql: str, *_: Any) -> None:
        # Rows the statement touched, as the driver counts them (-1 for reads).
        recorded.statements.append((sql, max(cursor.rowcount, 0)))

    def commit(_c: Any) -> None:
        recorded.commits += 1

    sa.event.listen(engine, "after_cursor_execute", statement)
    sa.event.listen(engine, "commit", commit)
    try:
        yield recorded
    finally:
        sa.event.remove(engine, "after_cursor_execute", statement)
        sa.event.remove(engine, "commit", commit)


def user(n: int, **fields: Any) -> ManagedUserSpec:
    notifications = dict.fromkeys(NOTIFICATION_FLAGS, False) | {"notify_on_budgets": n % 2 == 0}
    values: dict[str, Any] = {
        "emails": (f"u{n}@example.com",),
        "first_name": "User",
        "last_name": str(n),
        "contact_phone_number": "805-555-5555",
        "role": ("admin", "manage", "member", "view")[n % 4],
        "notifications": notifications,
        **fields,
    }
    return managed_user(f"net-{n}", **values)


@pytest.fixture
def host(ctx: ServiceContext) -> Account:
    init = setup.initialize(ctx)
    with ctx.uow(readonly=True) as uow:
        return uow.accounts.get(init.account_id)


def replace(
    ctx: ServiceContext, host: Account, users: list[ManagedUserSpec]
) -> managed_users.NetworkView:
    return managed_users.replace_network_users(ctx, OPERATOR, host.id, listed_users(*users))


def test_creating_2000_users_is_one_transaction_of_few_statements(
    ctx: ServiceContext, host: Account
) -> None:
    with recording(ctx) as few:
        replace(ctx, host, [user(n) for n in range(20)])
    with recording(ctx) as many:
        replace(ctx, host, [user(n) for n in range(USERS)])
    assert many.commits == 1
    assert len(many.statements) <= len(few.statements) + 12, (few.statements, many.statements)
    assert len(many.statements) < 40
    assert many.writes("users") == USERS - 20
    view = managed_users.get_network(ctx, OPERATOR, host.id)
    assert len(view.members) == USERS + 1  # and the host's admin


def test_repeating_a_2000_user_replacement_writes_nothing(
    ctx: ServiceContext, host: Account
) -> None:
    users = [user(n) for n in range(USERS)]
    replace(ctx, host, users)
    with recording(ctx) as again:
        replace(ctx, host, users)
    assert again.writing == []
    assert len(again.statements) < 20


def test_a_replacement_writes_only_what_changed(ctx: ServiceContext, host: Account) -> None:
    users = [user(n) for n in range(USERS)]
    replace(ctx, host, users)
    changed = list(users)
    changed[5] = user(5, first_name="Changed")  # a field
    changed[6] = user(6, role="view" if users[6].role_key != "view" else "member")
    changed[7] = user(7, emails=("moved@example.com",))  # an address
    del changed[10:13]  # three removed (they belong nowhere else: deleted)
    changed.append(user(USERS + 1))  # one new
    with recording(ctx) as diff:
        view = replace(ctx, host, changed)
    assert diff.commits == 1
    assert diff.writes("users") == 2 + 3 + 1  # two changed, three deleted, one new
    assert diff.writes("memberships") == 1 + 3 + 1  # a role, three removed, one joined
    assert diff.writes("audit_events") == 1
    assert len(view.members) == USERS - 3 + 1 + 1
    shown = {m.user.id_from_network: m for m in view.members}
    assert shown["net-5"].user.first_name == "Changed"
    assert shown["net-7"].user.email == "moved@example.com"
    assert "net-10" not in shown


def test_a_refused_replacement_leaves_everything_as_it_was(
    ctx: ServiceContext, host: Account
) -> None:
    users = [user(n) for n in range(50)]
    replace(ctx, host, users)
    clash = user(60, emails=(users[3].email,))
    with pytest.raises(InvalidNetworkInput) as refused:
        replace(ctx, host, [*users[:40], clash])
    assert [p.path for p in refused.value.problems] == [
        ("users", 40, "email_settings", 0, "email_address")
    ]
    assert len(managed_users.get_network(ctx, OPERATOR, host.id).members) == 51


def test_the_addresses_of_users_deleted_in_a_call_go_to_users_of_the_same_call(
    ctx: ServiceContext, host: Account
) -> None:
    replace(ctx, host, [user(n) for n in range(4)])
    # 0 and 1 leave and are deleted; a new user takes 0's address, user 2 takes 1's.
    after = [user(2, emails=("u1@example.com",)), user(3), user(9, emails=("u0@example.com",))]
    view = replace(ctx, host, after)
    shown = {m.user.id_from_network: m.user.email for m in view.members if m.user.id_from_network}
    assert shown == {
        "net-2": "u1@example.com",
        "net-3": "u3@example.com",
        "net-9": "u0@example.com",
    }
    again = managed_users.get_network(ctx, OPERATOR, host.id)
    assert [m.user.id_from_network for m in again.members][1:] == ["net-2", "net-3", "net-9"]
    # One audit event for the call, the new user in it with the id they were given.
    with ctx.uow(readonly=True) as uow:
        [event] = uow.audit.query(account_ids=[host.id], action="network.users.replace", limit=1)
    assert event.after is not None
    assert event.before is not None
    assert list(event.after["users"]) == ["net-2", "net-9"]
    assert event.after["users"]["net-9"]["id"] == again.members[-1].user.id
    assert set(event.before["users"]) == {"net-0", "net-1", "net-2"}
