"""Searches are planned on indexes, not as a scan of every user or account, on both engines.

Each search runs through its service once, with the statements it sends recorded; the engine
then explains each recorded statement (EXPLAIN on PostgreSQL, EXPLAIN QUERY PLAN on SQLite).
No timing: the plan is what makes a search cost the same with a million users as with ten
thousand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tenantry.domain.accounts import Account, AccountKind
from tenantry.domain.ids import new_account_id
from tenantry.domain.users import User, UserStatus
from tenantry.services import accounts, member_browsing, members, provisioning
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.member_query import Compare, Operator, UserAttribute, UserQuery
from tenantry.services.ports import MemberSort

from factories import make_account, statements, write_joined

SYSTEM = Actor.system(face="test")
LARGE = 8_000  # members of the large account; enough for PostgreSQL to prefer an index
SMALL = 40
OTHER_ACCOUNTS = 1_500


@pytest.fixture
def population(ctx: ServiceContext) -> tuple[Account, Account]:
    """A large account, a small one, and many more accounts; statistics gathered."""
    large = make_account(ctx, name="Large advertiser")
    small = make_account(ctx, name="Small advertiser")
    start = datetime.now(UTC) - timedelta(days=1)
    users = [
        User(
            id=f"00000000-0000-4000-8000-{n:012d}",
            email=f"user{n:06d}@domain{n % 50:02d}.example.com",
            name=f"Person {n:06d}",
            status=UserStatus.ACTIVATED,
            created_at=start,
        )
        for n in range(LARGE + SMALL)
    ]
    joined = [(user, large if n < LARGE else small) for n, user in enumerate(users)]
    write_joined(ctx, users, joined, start=start)
    with ctx.uow() as uow:
        for n in range(OTHER_ACCOUNTS):
            uow.accounts.add(
                Account(
                    id=new_account_id(),
                    name=f"Brand {n:05d}",
                    kind=AccountKind.ADVERTISER,
                    created_at=start,
                )
            )
    engine: sa.Engine = ctx.uow.engine  # type: ignore[attr-defined]
    if engine.dialect.name == "postgresql":  # as autovacuum would; tenantry never runs
        with engine.begin() as conn:  # ANALYZE on SQLite, so its planner goes without
            conn.exec_driver_sql("ANALYZE")
    return large, small


@contextmanager
def plans(ctx: ServiceContext) -> Iterator[list[str]]:
    """The engine's plan of every statement sent while the block runs, one text each."""
    engine: sa.Engine = ctx.uow.engine  # type: ignore[attr-defined]
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    found: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield found
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            # With thousands of users rather than a million, reading the table is cheaper
            # than any index and PostgreSQL rightly does so; made dear, a plan shows whether
            # an index can serve the statement as it is written (docs/performance.md shows
            # the plans PostgreSQL chooses by itself with a million users).
            conn.exec_driver_sql("SET enable_seqscan = off")
            conn.exec_driver_sql("SET enable_indexscan = off")
        for statement, parameters in sent:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            rows = conn.exec_driver_sql(explain + statement, parameters).all()
            found.append("\n".join(str(row[-1]) for row in rows))


def whole_scans(plan: str, *tables: str) -> list[str]:
    """The lines of `plan` that read every row of one of `tables`."""
    lines = plan.splitlines()
    marks = [f"Seq Scan on {t}" for t in tables] + [f"SCAN {t}" for t in tables]
    return [line for line in lines if any(mark in line for mark in marks)]


def uses(plan: str, *indexes: str) -> bool:
    return any(index in plan for index in indexes)


# Each engine's name for the key of memberships: a member read by key.
MEMBERSHIP_KEY = {"sqlite": "sqlite_autoindex_memberships_1", "postgresql": "pk_memberships"}


def membership_key(ctx: ServiceContext) -> str:
    return MEMBERSHIP_KEY[ctx.uow.engine.dialect.name]  # type: ignore[attr-defined]


def searched_plans(ctx: ServiceContext, search: Callable[[], object]) -> list[str]:
    search()  # the statements are compiled once before they are recorded
    with plans(ctx) as found:
        search()
    tables = ("users", "memberships", "search_member_text")
    return [plan for plan in found if any(table in plan for table in tables)]


def test_searching_members_reads_no_user_beyond_the_index(
    ctx: ServiceContext, population: tuple[Account, Account]
) -> None:
    large, small = population
    postgresql = ctx.uow.engine.dialect.name == "postgresql"  # type: ignore[attr-defined]
    for account, search in ((large, "user000123"), (large, "person 007"), (small, "user0080")):
        found = searched_plans(
            ctx,
            lambda a=account, s=search: member_browsing.browse_members(
                ctx, SYSTEM, a.id, search=s, sort=MemberSort.EMAIL, page=1, page_size=20
            ),
        )
        assert found, "the browse sent no statement to explain"
        for plan in found:
            assert whole_scans(plan, "users", "memberships", "search_member_text") == [], plan
            if "users" in plan:
                # The few members the member text names, each membership by key (in an
                # account of 40 members as in one of 8,000: reading each member's user
                # reads a page of the users table for each).
                assert uses(plan, membership_key(ctx)), plan
        # Read in one scan of the account's rows, or on PostgreSQL (which with a million
        # users prefers it for a rare text: docs/performance.md) through the index of the
        # account's trigrams.
        [text] = [plan for plan in found if "search_member_text" in plan]
        account_rows = "search_member_text_" if postgresql else "(account_id=?)"
        assert uses(text, account_rows), text
        listed = searched_plans(
            ctx, lambda a=account, s=search: members.list_members(ctx, SYSTEM, a.id, search=s)
        )
        for plan in listed:
            assert whole_scans(plan, "users", "memberships", "search_member_text") == [], plan


@pytest.mark.parametrize("operator", [Operator.CO, Operator.SW])
def test_scim_co_and_sw_read_no_user_beyond_the_index(
    ctx: ServiceContext, population: tuple[Account, Account], operator: Operator
) -> None:
    large, _ = population
    query = UserQuery(Compare(UserAttribute.EMAIL, operator, "USER000456", ignore_case=True))
    found = searched_plans(ctx, lambda: provisioning.list_users(ctx, SYSTEM, large.id, query))
    assert found
    for plan in found:
        assert whole_scans(plan, "users", "memberships", "search_member_text") == [], plan
    # the few the member text names, then each membership by key
    assert any(uses(plan, "search_member_text") for plan in found), found
    pages = [plan for plan in found if "users" in plan]
    assert all(uses(plan, membership_key(ctx)) for plan in pages), pages
    page = provisioning.list_users(ctx, SYSTEM, large.id, query)
    assert [p.user.email for p in page.items] == ["user000456@domain06.example.com"]


def test_searching_accounts_reads_no_account_beyond_the_index(
    ctx: ServiceContext, population: tuple[Account, Account]
) -> None:
    def search() -> list[Account]:
        return accounts.list_accounts(ctx, SYSTEM, search="brand 0123", limit=50)

    search()
    with plans(ctx) as found:
        listed = search()
    assert sorted(a.name for a in listed) == [f"Brand 0123{n}" for n in range(10)]
    [plan] = [p for p in found if "accounts" in p]
    if ctx.uow.engine.dialect.name == "postgresql":  # type: ignore[attr-defined]
        assert whole_scans(plan, "accounts") == [], plan
        assert uses(plan, "search_accounts_name"), plan


def test_common_texts_are_searched_through_the_members_and_rare_ones_by_name(
    ctx: ServiceContext, population: tuple[Account, Account]
) -> None:
    """A text more than `CUT_AT_MOST` members of a large account hold is searched through the
    members (in order, which a page can stop early), after a read of the member text that
    stops there; the console's browse then counts the matches in the member text. A small
    account's member text names all its matches: they are read by name."""
    large, small = population
    for account in (large, small):
        with statements(ctx) as sent:
            found = member_browsing.browse_members(ctx, SYSTEM, account.id, search="example")
            listed = members.list_members(ctx, SYSTEM, account.id, search="example", limit=5)
        searches = [s for s in sent if "LIKE" in s]
        read_text = ["search_member_text" in s for s in searches]
        expected = [True, True, False, True, False] if account is large else [True, False] * 2
        assert read_text == expected, (account.name, searches)
        named = any("IN (" in s for s in searches)
        assert named is (account is small), searches  # members named: the small account's
        assert found.total == (LARGE if account is large else SMALL)
        assert len(listed.items) == 5


@pytest.mark.parametrize("sort", [MemberSort.JOINED, MemberSort.EMAIL])
def test_a_common_text_in_a_large_account_reads_no_user_but_the_page(
    ctx: ServiceContext, population: tuple[Account, Account], sort: MemberSort
) -> None:
    """Counting the matches of a text every member holds through the members read every
    member's user: the member text counts them. The page then walks the account's index in
    joining order and stops at the page (no sort of every match), or, in order of address,
    is named by the member text (walked in that order by its index) and read by key."""
    large, _ = population

    def browse() -> object:
        page = member_browsing.browse_members(
            ctx, SYSTEM, large.id, search="example", sort=sort, page=3, page_size=20
        )
        return page.total, [m.user.email for m in page.items]

    emails = [f"user{n:06d}@domain{n % 50:02d}.example.com" for n in range(LARGE)]
    in_order = emails if sort is MemberSort.JOINED else sorted(emails)
    assert browse() == (LARGE, in_order[40:60])
    with statements(ctx) as sent, plans(ctx) as found:
        browse()
    assert any("count(*)" in s and "search_member_text" in s for s in sent), sent
    [page] = [s for s in sent if s.startswith("SELECT users.")]
    assert "over" not in page.lower(), page  # no window over every match
    [read] = [plan for plan in found if "users" in plan.split()]
    if sort is MemberSort.EMAIL:
        assert "IN (" in page, page
        assert uses(read, membership_key(ctx)), read  # each named member by key
    if ctx.uow.engine.dialect.name != "sqlite":  # type: ignore[attr-defined]
        return  # `plans` makes PostgreSQL's walks along an index dear: no plan to look at
    if sort is MemberSort.EMAIL:
        # named by a walk of the account's member text in order of address, which stops at
        # the page: no sort of every match
        walks = [plan for plan in found if "search_member_text_ordered" in plan]
        assert walks, found
        assert not [plan for plan in walks if "TEMP B-TREE" in plan], walks
    else:
        assert uses(read, "ix_memberships_account_created"), read
        assert "USE TEMP B-TREE FOR ORDER BY" not in read, read  # stops at the page


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_searches_are_planned_for_their_text_every_time(
    ctx: ServiceContext, population: tuple[Account, Account]
) -> None:
    """A search's best plan depends on how common its text is (a walk of the account's
    members for `example`, the trigrams of its member text for one address): no statement
    holding a text is prepared, so PostgreSQL never keeps one generic plan for every text.
    The authorization's statements are prepared as usual (the control)."""
    large, _ = population
    query = UserQuery(Compare(UserAttribute.EMAIL, Operator.CO, "example", ignore_case=True))
    for sort in (MemberSort.JOINED, MemberSort.EMAIL) * 4:
        member_browsing.browse_members(ctx, SYSTEM, large.id, search="example", sort=sort)
        provisioning.list_users(ctx, SYSTEM, large.id, query)
        members.list_members(ctx, SYSTEM, large.id, search="user00001", limit=5)
    engine: sa.Engine = ctx.uow.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:  # the one pooled connection the calls above used
        prepared = list(conn.exec_driver_sql("SELECT statement FROM pg_prepared_statements"))
    assert prepared, "nothing prepared at all: the check would prove nothing"
    assert not [row for row in prepared if "LIKE" in row[0]], prepared
