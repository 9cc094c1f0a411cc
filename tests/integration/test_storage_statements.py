"""How many SQL statements the hot paths send, on every engine.

The bounds are what was measured when the statements were last reduced; a change that adds
statements to these paths has to raise a bound here, in review, on purpose.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tenantry.domain.audit import AuditEvent
from tenantry.domain.errors import Unauthenticated
from tenantry.domain.memberships import Membership, MembershipStatus, Scope
from tenantry.domain.users import NotificationEmail, User
from tenantry.services import accounts, auth, credentials, managed_users, provisioning_groups
from tenantry.services.context import ServiceContext
from tenantry.services.membership_changes import apply_membership_changes
from tenantry.services.membership_commands import (
    ChangeRole,
    MembershipChange,
    NewMember,
    RemoveMember,
)
from tenantry.services.provisioning_groups import EditAction, MemberEdit

from factories import (
    OPERATOR,
    World,
    add_in_batch,
    as_user,
    listed_users,
    make_member,
    managed_user,
    set_policy,
    statements,
    unique_email,
)

BULK_USERS = 20
# A batch of adds reads ahead and writes in batches, whatever its size: BEGIN, the account's
# chain, the account's custom roles and the users behind every address; then one INSERT each
# for the users, the memberships, the invitations and the audit events. 5 per user and 10 more
# before (110 for 20 users), when each user had a savepoint and statements of its own. One
# more reads who hears the account's events (webhooks), once per transaction.
BULK_STATEMENTS = 9
# A batch of every kind of change (new people, people of another account, role changes,
# removals by address and by id, app scopes), as an admin: BEGIN, the chain, the actor's
# memberships, the custom roles, the users by address and by id, their memberships
# everywhere, the admin count, the apps; then a DELETE, an UPDATE and an INSERT for
# memberships, a revoking UPDATE and an INSERT of invitations, and the INSERTs of users and
# audit events, and who hears the account's events (webhooks). (People still pending elsewhere
# add one read of their open invitations.) On PostgreSQL one more: the lock of the account's
# row, which the last-admin rule takes before it counts the admins.
MIXED_STATEMENTS = {"sqlite": 18, "postgresql": 19}
# A network's full replacement that adds, changes, moves and removes users: BEGIN, the
# network, on PostgreSQL the lock of the account's row (the last-admin rule weighs its
# members), its roles, its members with their addresses, the users it names elsewhere, their
# placements, the owners of the addresses taken; the users' own rows (an UPDATE and the
# addresses' DELETE and INSERT); then the membership changes service's reads (roles, people
# by address and by id, their memberships, the admin count, the network's ids) and writes
# (users and their addresses, memberships deleted, updated and inserted, invitations
# revoked); the orphans' addresses and rows; one audit event, and who hears the network's
# events (webhooks). 21 when the replacement wrote its memberships itself, without the
# service's reads. On PostgreSQL the lock is taken twice (by the replacement, then by the
# membership changes service).
NETWORK_REPLACE_STATEMENTS = {"sqlite": 30, "postgresql": 32}
PASSWORD = "Correct-Horse-42-battery"


def _engine_name(ctx: ServiceContext) -> str:
    return str(ctx.uow.engine.dialect.name)  # type: ignore[attr-defined]


def _on_counters(sent: list[str]) -> list[str]:
    return [s for s in sent if re.search(r"\bcounters\b", s)]


def test_authenticating_a_token_reads_the_token_and_its_user(
    ctx: ServiceContext, world: World
) -> None:
    _, token, _ = credentials.create_api_token(ctx, OPERATOR, world.a.id)
    credentials.authenticate(ctx, token, face="test")  # notes the token's first use
    with statements(ctx) as sent:
        actor = credentials.authenticate(ctx, token, face="test")
    assert actor.home_account_id == world.a.id
    assert len(sent) <= 2, sent  # 3 before: the user's other e-mail addresses were read too


def test_a_user_is_read_in_one_statement_unless_they_have_other_addresses(
    ctx: ServiceContext,
) -> None:
    plain = User(id="u-plain", email=unique_email(), created_at=ctx.now())
    extra = [NotificationEmail(unique_email("alt")), NotificationEmail(unique_email("alt"), False)]
    with_extra = User(
        id="u-extra", email=unique_email(), notification_emails=extra, created_at=ctx.now()
    )
    with ctx.uow() as uow:
        uow.users.add_many([plain, with_extra])
    with ctx.uow(readonly=True) as uow, statements(ctx) as sent:
        found_plain = uow.users.find_by_email(plain.email)
        one = len(sent)
        found_extra = uow.users.find(with_extra.id)
        both = uow.users.find_many([plain.id, with_extra.id])
    assert one == 1, sent
    assert len(sent) == 1 + 2 + 2, sent
    assert found_plain is not None
    assert found_plain.notification_emails == []
    assert found_extra is not None
    assert found_extra.notification_emails == extra
    assert both[with_extra.id].notification_emails == extra
    assert both[plain.id].notification_emails == []


def test_adding_many_rows_takes_one_statement_a_table(ctx: ServiceContext, world: World) -> None:
    now = ctx.now()
    users = [
        User(
            id=f"u-many-{n}",
            email=unique_email("many"),
            notification_emails=[NotificationEmail(unique_email("alt"))],
            created_at=now,
        )
        for n in range(3)
    ]
    memberships = [
        Membership(
            u.id,
            world.a.id,
            "qa",
            MembershipStatus.ACTIVE,
            Scope(geos=("us",), all_future_apps=True),
            created_at=now + timedelta(seconds=n),
        )
        for n, u in enumerate(users)
    ]
    events = [
        AuditEvent(
            action=f"test.many.{n}",
            target_type="user",
            target_id=u.id,
            account_id=world.a.id,
            actor_kind="system",
            actor_id="system",
            actor_label="test",
            face="test",
            request_id=None,
            after={"n": n},
            at=now,
        )
        for n, u in enumerate(users)
    ]
    with ctx.uow() as uow, statements(ctx) as sent:
        uow.users.add_many(users)
        uow.memberships.add_many(memberships)
        uow.audit.add_many(events)
        uow.users.add_many([])
        uow.memberships.add_many([])
        uow.audit.add_many([])
    inserts = [s for s in sent if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 4, sent  # users, their addresses, memberships, audit events
    with ctx.uow(readonly=True) as uow:
        found = uow.users.find_many([u.id for u in users])
        members = uow.memberships.members(world.a.id, limit=100)
        trail = uow.audit.query(account_ids=[world.a.id], limit=3)
    assert {k: v.notification_emails for k, v in found.items()} == {
        u.id: u.notification_emails for u in users
    }
    assert [(u.id, m.scope) for u, m in members if u.id in found] == [
        (m.user_id, m.scope) for m in memberships
    ]
    assert [e.action for e in trail] == [e.action for e in reversed(events)]


def test_bulk_adding_20_users_stays_within_the_measured_statements(
    ctx: ServiceContext, world: World
) -> None:
    items = [(n, NewMember(email=unique_email("bulk"), role_key="qa")) for n in range(BULK_USERS)]
    with statements(ctx) as sent:
        result = add_in_batch(ctx, OPERATOR, world.a.id, items)
    assert result.errors == []
    assert len(result.applied) == BULK_USERS
    assert len(sent) <= BULK_STATEMENTS, f"{len(sent)} statements:\n" + "\n".join(sent)
    with ctx.uow(readonly=True) as uow:
        created = uow.audit.query(account_ids=[world.a.id], action="user.create", limit=100)
        joined = uow.audit.query(account_ids=[world.a.id], action="membership.create", limit=100)
    added = {a.user.id for _, a in result.applied}
    assert added <= {e.target_id for e in created}
    assert added <= {e.target_id for e in joined}


def _statements_for(ctx: ServiceContext, world: World, changes: list[MembershipChange]) -> int:
    with statements(ctx) as sent:
        report = apply_membership_changes(ctx, as_user(world.a_admin), world.a.id, changes)
    assert report.errors == [], report.errors
    assert len(report.applied) == len(changes)
    return len(sent)


def test_a_batch_of_adds_sends_as_many_statements_at_any_size(
    ctx: ServiceContext, world: World
) -> None:
    counts = [
        _statements_for(ctx, world, [NewMember(unique_email("size"), "qa") for _ in range(n)])
        for n in (5, 50)
    ]
    # As a person: their memberships in the account's chain, once more.
    assert counts[0] == counts[1] <= BULK_STATEMENTS + 1, counts


def _every_kind(ctx: ServiceContext, world: World, n: int) -> list[MembershipChange]:
    """`n` changes of each kind: people new to tenantry and people of account B joining A
    (with apps), role changes, removals by address and by id."""
    elsewhere = [make_member(ctx, world.b, role="qa") for _ in range(n)]
    staying = [make_member(ctx, world.a, role="qa") for _ in range(n)]
    leaving = [make_member(ctx, world.a, role="qa") for _ in range(2 * n)]
    return [
        *(NewMember(unique_email("new"), "qa", app_ids=["com.example.one"]) for _ in range(n)),
        *(NewMember(person.email, "marketing") for person in elsewhere),
        *(ChangeRole(person.id, "view") for person in staying),
        *(RemoveMember(email=person.email) for person in leaving[:n]),
        *(RemoveMember(user_id=person.id) for person in leaving[n:]),
    ]


def test_a_batch_of_every_kind_of_change_sends_as_many_statements_at_any_size(
    ctx: ServiceContext, world: World
) -> None:
    accounts.add_app(ctx, OPERATOR, world.a.id, "com.example.one")
    for account in (world.a, world.b):
        set_policy(ctx, account.id, multi_account_users=True)
    counts = [_statements_for(ctx, world, _every_kind(ctx, world, n)) for n in (2, 20)]
    assert counts[0] == counts[1] <= MIXED_STATEMENTS[_engine_name(ctx)], counts


def test_a_batch_of_removals_sends_as_many_statements_at_any_size(
    ctx: ServiceContext, world: World
) -> None:
    counts = []
    for n in (5, 50):
        people = [make_member(ctx, world.a, role="qa") for _ in range(n)]
        changes: list[MembershipChange] = [RemoveMember(email=p.email) for p in people]
        counts.append(_statements_for(ctx, world, changes))
    assert counts[0] == counts[1], counts


def test_moving_members_into_a_group_sends_as_many_statements_at_any_size(
    ctx: ServiceContext, world: World
) -> None:
    """An identity provider's PATCH of a group: read, edited and written in one transaction."""
    counts = []
    for n in (2, 20):
        people = [make_member(ctx, world.a, role="qa") for _ in range(n)]
        edits = [MemberEdit(EditAction.ADD, [person.id for person in people])]
        with statements(ctx) as sent:
            group = provisioning_groups.edit_group(ctx, OPERATOR, world.a.id, "view", edits)
        assert group.member_ids is not None
        assert {person.id for person in people} <= set(group.member_ids)
        counts.append(len(sent))
    assert counts[0] == counts[1], counts
    assert sum(s.lstrip().upper().startswith("BEGIN") for s in sent) <= 1, sent


def test_a_sign_in_throttle_reads_once_and_a_failure_counts_once(
    ctx: ServiceContext, world: World
) -> None:
    user = make_member(ctx, world.a, role="manage")
    with ctx.uow() as uow:
        user.password_hash = ctx.passwords.hash(PASSWORD)
        uow.users.update(user)
    origin = auth.Origin(source="192.0.2.1")
    with statements(ctx) as sent:
        with pytest.raises(Unauthenticated):
            auth.sign_in(ctx, user.email, "wrong", origin)
        auth.sign_in(ctx, user.email, PASSWORD, origin)
    # Each attempt reads its three totals in one statement; the failure adds to them in one.
    # 8 before: a read per key and attempt, and an upsert and a read per key for the failure.
    assert len(_on_counters(sent)) == 3, _on_counters(sent)


def test_the_client_credentials_throttle_reads_once_and_a_failure_counts_once(
    ctx: ServiceContext, world: World
) -> None:
    created, secret = credentials.create_api_account(ctx, OPERATOR, world.a.id, "counted")
    with statements(ctx) as sent:
        with pytest.raises(Unauthenticated):
            credentials.issue_access_token(ctx, created.client_id, "wrong", source="192.0.2.1")
        credentials.issue_access_token(ctx, created.client_id, secret, source="192.0.2.1")
    assert len(_on_counters(sent)) == 3, _on_counters(sent)


def _network_replace_statements(ctx: ServiceContext, world: World, n: int) -> int:
    """A network's full replacement of `n` users of which a quarter change role, a quarter
    leave (and are deleted), a quarter are new and one changes address: the statements of
    the replacement itself, after a first one that made the `n` users."""
    roles = ("admin", "manage", "member", "view")
    before = [
        managed_user(f"r{n}-{i}", role=roles[i % 4], emails=(f"r{n}-{i}@example.com",))
        for i in range(n)
    ]
    managed_users.replace_network_users(ctx, OPERATOR, world.host.id, listed_users(*before))
    quarter = n // 4
    after = [
        *before[: 2 * quarter],
        *(
            managed_user(s.id_from_network, role="view", emails=tuple(e.address for e in s.emails))
            for s in before[2 * quarter : 3 * quarter]
        ),
        *(managed_user(f"r{n}-new-{i}", role="member") for i in range(quarter)),
    ]
    moved = (f"r{n}-moved@example.com",)
    after[1] = managed_user(after[1].id_from_network, role=after[1].role_key, emails=moved)
    with statements(ctx) as sent:
        view = managed_users.replace_network_users(
            ctx, OPERATOR, world.host.id, listed_users(*after)
        )
    assert len(view.members) == n + 1  # and the host's admin
    return len(sent)


def test_a_network_replacement_sends_as_many_statements_at_any_size(
    ctx: ServiceContext, world: World
) -> None:
    counts = [_network_replace_statements(ctx, world, n) for n in (20, 200)]
    assert counts[0] == counts[1] <= NETWORK_REPLACE_STATEMENTS[_engine_name(ctx)], counts
