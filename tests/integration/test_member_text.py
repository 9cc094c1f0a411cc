"""Searching through the member text answers exactly what reading the members answers.

A search of an account's members goes through its member text first (migrations 0017 and
0018), a first cut kept in step with memberships and users by triggers. Here one account is
searched both ways, with the cut and without it, and every answer (the console's browse, the
member list, SCIM filters) must be the same; on both engines the triggers must keep the member
text equal to what the memberships and users say, through every kind of write.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tenantry.domain.accounts import Account
from tenantry.domain.users import User, UserStatus
from tenantry.services import member_browsing, members, provisioning
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.member_query import (
    AllOf,
    AnyOf,
    Compare,
    Filter,
    Negation,
    Operator,
    UserAttribute,
    UserQuery,
)
from tenantry.services.ports import MemberSort, MemberState
from tenantry.storage.migrations import upgrade_database
from tenantry.storage.repositories import member_browse, member_search, member_text

from factories import make_account, statements, write_joined

SYSTEM = Actor.system(face="test")
NAMES = [
    "Person 001",
    "MIXED Case Name",
    "Zoë Ünal",
    "100% Real_Name",
    "back\\slash",
    "Ann Example",
    "ann",
    "Éloïse Ørsted",
]
TEXTS = [
    "user",
    "USER00",
    "example.com",
    "person 0",
    "ann",
    "case",
    "zoë",
    "ÜNAL",
    "é",
    "%",
    "_",
    "\\",
    "0%",
    "com\nperson",  # crosses from the address to the name: matches neither
    "\n",
    " ",
    "xyz",
]


@pytest.fixture
def account(ctx: ServiceContext) -> Account:
    """An account of 24 members with varied addresses and names, and a neighbour whose
    members match the same texts (which must never show up)."""
    here, neighbour = make_account(ctx, name="Searched"), make_account(ctx, name="Neighbour")
    start = datetime.now(UTC) - timedelta(days=1)
    users = [
        User(
            id=f"00000000-0000-4000-8000-{n:012d}",
            email=f"user{n:03d}@{'example.com' if n % 3 else 'ann.example.org'}",
            name=NAMES[n % len(NAMES)],
            status=UserStatus.ACTIVATED,
            created_at=start,
        )
        for n in range(30)
    ]
    placed = [(user, here if n < 24 else neighbour) for n, user in enumerate(users)]
    write_joined(ctx, users, placed, start=start)
    return here


def both_ways(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch, search: Callable[[], object]
) -> tuple[object, object, list[str]]:
    """The answer read through the account's members, then through the member text, and the
    statements of the second."""
    with monkeypatch.context() as patched:
        # No text may be cut by the member text: the members are read.
        patched.setattr(member_text, "cuttable", lambda _text: False)
        patched.setattr(member_search, "cuttable", lambda _text: False)
        plain = search()
    with statements(ctx) as sent:
        through_index = search()
    return plain, through_index, sent


def six_pages(ctx: ServiceContext, account: Account, **query: Any) -> list[tuple[int, list[str]]]:
    """The console's browse, pages 1 to 6 of 5 members (the last ones past the end): each
    page's total and addresses."""
    pages = [
        member_browsing.browse_members(ctx, SYSTEM, account.id, page=number, page_size=5, **query)
        for number in range(1, 7)
    ]
    return [(p.total, [m.user.email for m in p.items]) for p in pages]


def scim_page(
    ctx: ServiceContext, account: Account, user_filter: Filter, *, limit: int = 100
) -> Callable[[], object]:
    """A SCIM search of the account, as a call answering its total and addresses."""

    def search() -> object:
        page = provisioning.list_users(ctx, SYSTEM, account.id, UserQuery(user_filter, limit=limit))
        return page.total, [r.user.email for r in page.items]

    return search


def assert_went_through_the_index(sent: list[str]) -> None:
    assert any("search_member_text" in s for s in sent), sent


@pytest.mark.parametrize("text", TEXTS, ids=repr)
def test_browsing_and_listing_answer_alike_both_ways(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch, account: Account, text: str
) -> None:
    def browse() -> object:
        page = member_browsing.browse_members(
            ctx, SYSTEM, account.id, search=text, sort=MemberSort.NAME, page=1, page_size=50
        )
        return page.total, [m.user.email for m in page.items]

    def listed() -> object:
        page = members.list_members(ctx, SYSTEM, account.id, search=text, limit=50)
        return [m.user.email for m in page.items]

    for search in (browse, listed):
        plain, through_index, sent = both_ways(ctx, monkeypatch, search)
        assert through_index == plain, (search.__name__, text)
        if text.strip() and "\n" not in text:  # blank is no search at all
            assert_went_through_the_index(sent)
        elif "\n" in text:  # its own condition finds it wherever it is
            assert not any("search_member_text" in s for s in sent), sent


def test_the_searches_find_what_they_should(ctx: ServiceContext, account: Account) -> None:
    # Both ways agreeing on nothing would pass the test above: some texts must match.
    def emails(text: str) -> list[str]:
        return [
            m.user.email for m in members.list_members(ctx, SYSTEM, account.id, search=text).items
        ]

    assert len(emails("user")) == 24
    assert emails("com\nperson") == []
    assert emails("0%") == ["user003@ann.example.org", "user011@example.com", "user019@example.com"]
    assert len(emails("zoë")) == 3


SCIM_FILTERS: list[Filter] = [
    Compare(attribute, operator, value, ignore_case=True)
    for attribute in (UserAttribute.EMAIL, UserAttribute.DISPLAY_NAME)
    for operator in (Operator.CO, Operator.SW, Operator.EW)
    for value in ("USER01", "ann", "example.com", "name", "zoë", "%", "\\", "g\nann", "1")
]
SCIM_FILTERS += [
    Negation(Compare(UserAttribute.EMAIL, Operator.CO, "ann", ignore_case=True)),
    AnyOf(
        (
            Compare(UserAttribute.DISPLAY_NAME, Operator.SW, "person", ignore_case=True),
            Compare(UserAttribute.EMAIL, Operator.EW, ".org", ignore_case=True),
        )
    ),
    Negation(Compare(UserAttribute.DISPLAY_NAME, Operator.EW, "NAME", ignore_case=True)),
    Compare(UserAttribute.DISPLAY_NAME, Operator.CO, "Case", ignore_case=False),
]


@pytest.mark.parametrize("user_filter", SCIM_FILTERS, ids=repr)
def test_scim_filters_answer_alike_both_ways(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch, account: Account, user_filter: Filter
) -> None:
    search = scim_page(ctx, account, user_filter, limit=50)
    plain, through_index, sent = both_ways(ctx, monkeypatch, search)
    assert through_index == plain
    compares = isinstance(user_filter, Compare)
    exact = compares and not user_filter.ignore_case  # type: ignore[union-attr]
    if not exact and not (compares and "\n" in user_filter.value):  # type: ignore[union-attr]
        assert_went_through_the_index(sent)


sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


# One line feed, between the address and the name; any other written as a carriage return.
EXPECTED_TEXT = """
    SELECT memberships.account_id, memberships.user_id,
        replace(lower(users.email), '\n', '\r') || '\n'
        || replace(coalesce(lower(users.name), ''), '\n', '\r')
    FROM memberships JOIN users ON users.id = memberships.user_id
"""


def assert_in_step(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        held = set(conn.exec_driver_sql("SELECT * FROM search_member_text").all())
        expected = set(conn.exec_driver_sql(EXPECTED_TEXT).all())
    assert held == expected
    return len(held)


def test_triggers_keep_the_member_text_in_step(ctx: ServiceContext, account: Account) -> None:
    engine: sa.Engine = ctx.uow.engine  # type: ignore[attr-defined]
    assert assert_in_step(engine) == 30
    other = make_account(ctx, name="Other")
    writes = [
        # a person's address and name change (every membership of theirs follows)
        "UPDATE users SET email = 'renamed@new.example', name = 'New NAME' WHERE id LIKE '%0001'",
        "UPDATE users SET name = 'Only The Name' WHERE id LIKE '%0002'",
        # a membership added, moved to another account, removed
        f"INSERT INTO memberships (user_id, account_id, role_key, status, all_future_apps,"
        f" created_at) SELECT id, '{other.id}', 'view', 'active', TRUE, created_at FROM users"
        f" WHERE id LIKE '%0003'",
        f"UPDATE memberships SET account_id = '{other.id}' WHERE user_id LIKE '%0004'",
        "DELETE FROM memberships WHERE user_id LIKE '%0005'",
        # a person deleted, an account deleted: their memberships go by cascade
        "DELETE FROM users WHERE id LIKE '%0006'",
        f"DELETE FROM accounts WHERE id = '{account.id}'",
    ]
    sizes = []
    for statement in writes:
        with engine.begin() as conn:
            conn.execute(sa.text(statement))
        sizes.append(assert_in_step(engine))
    # The searched account's 21 members left at the end go with it.
    assert sizes == [30, 30, 31, 31, 30, 29, 8]


def test_the_migration_fills_the_member_text_from_what_is_there(
    ctx: ServiceContext, account: Account, database_url: str
) -> None:
    engine: sa.Engine = ctx.uow.engine  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM search_member_text")
        conn.exec_driver_sql("DELETE FROM alembic_version")
        conn.exec_driver_sql("INSERT INTO alembic_version VALUES ('0016')")
    upgrade_database(database_url)
    assert assert_in_step(engine) == 30


def test_a_rewrite_of_the_same_address_and_name_leaves_the_member_text_alone(
    ctx: ServiceContext, account: Account
) -> None:
    # The repositories write every column of a user on any update (a sign-in, say): only a
    # real change of address or name may rewrite the member's rows, one per membership.
    engine: sa.Engine = ctx.uow.engine  # type: ignore[attr-defined]
    other = make_account(ctx, name="Other")
    user = {"user_id": "00000000-0000-4000-8000-000000000001"}
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO memberships (user_id, account_id, role_key, status,"
                " all_future_apps, created_at) SELECT id, :account_id, 'view', 'active', TRUE,"
                " created_at FROM users WHERE id = :user_id"
            ),
            {**user, "account_id": other.id},
        )

    def rows_rewritten(statement: str) -> int:
        """How many of the member's rows of member text `statement` writes: SQLite counts
        the rows each statement changes; PostgreSQL gives a rewritten row a new version."""
        with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                before = conn.exec_driver_sql("SELECT total_changes()").scalar_one()
                conn.execute(sa.text(statement), user)
                after = conn.exec_driver_sql("SELECT total_changes()").scalar_one()
                return int(after - before) - 1  # the user's own row
            versions = sa.text(
                "SELECT account_id, xmin::text FROM search_member_text WHERE user_id = :user_id"
            )
            before = set(conn.execute(versions, user).all())
            conn.execute(sa.text(statement), user)
            return len(set(conn.execute(versions, user).all()) - before)

    assert rows_rewritten("UPDATE users SET email = email, name = name WHERE id = :user_id") == 0
    assert rows_rewritten("UPDATE users SET name = 'Someone Else' WHERE id = :user_id") == 2
    assert_in_step(engine)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("first", ["rename", "join"])
@pytest.mark.parametrize("column", ["name", "email"])
def test_a_rename_and_a_new_membership_at_once_leave_the_member_text_in_step(
    ctx: ServiceContext, account: Account, first: str, column: str
) -> None:
    # PostgreSQL runs both at once: without the new member's trigger locking the user, a
    # rename (which changes no key the foreign key's lock guards) and the new membership
    # each missed the other, and the new row kept the old name for good. SQLite runs one
    # writer at a time.
    engine: sa.Engine = ctx.uow.engine  # type: ignore[attr-defined]
    other = make_account(ctx, name="Other")
    parameters = {
        "user_id": "00000000-0000-4000-8000-000000000001",
        "account_id": other.id,
        "value": "zebra@new.example" if column == "email" else "Zebra Person",
    }
    statements = {
        "rename": sa.text(f"UPDATE users SET {column} = :value WHERE id = :user_id"),
        "join": sa.text(
            "INSERT INTO memberships (user_id, account_id, role_key, status, all_future_apps,"
            " created_at) VALUES (:user_id, :account_id, 'view', 'active', TRUE, now())"
        ),
    }
    second = "join" if first == "rename" else "rename"
    with engine.connect() as one, engine.connect() as two:
        one.begin()
        one.execute(statements[first], parameters)

        def run_second() -> None:
            with two.begin():
                two.execute(statements[second], parameters)

        thread = threading.Thread(target=run_second)
        thread.start()
        thread.join(0.5)  # it reaches its statement, and waits there for the first
        one.commit()
        thread.join(10)
        assert not thread.is_alive()
    assert assert_in_step(engine) == 31


@sqlite_only
def test_texts_the_cut_cannot_serve_are_searched_without_it(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch, account: Account
) -> None:
    # SQLite's LIKE refuses patterns past 50,000 bytes and stops at a NUL character: such a
    # text is searched by the condition alone, with the same answer as a small account gets.
    long_value = Compare(UserAttribute.EMAIL, Operator.CO, "x" * 50_001, ignore_case=True)

    scim = scim_page(ctx, account, long_value)

    def with_nul() -> object:
        page = members.list_members(ctx, SYSTEM, account.id, search="example.com\x00")
        return [m.user.email for m in page.items]

    for search in (scim, with_nul):
        plain, through_index, sent = both_ways(ctx, monkeypatch, search)
        assert through_index == plain
        assert not any("search_member_text" in s for s in sent), sent
    assert len(plain) == 16  # type: ignore[arg-type]  # the NUL search: addresses ending so
    assert scim() == (0, [])


@pytest.mark.parametrize(
    ("value", "cut"),
    [
        ("x" * 5_000, True),
        ("é" * 16_000, True),  # two bytes each
        ("%" * 24_400, True),  # escaped: 48,800 bytes
        ("%" * 24_600, False),  # 49,200: past what the statements may add to
    ],
    ids=["5,000 letters", "16,000 accented", "24,400 wildcards", "24,600 wildcards"],
)
def test_long_texts_are_cut_up_to_the_pattern_limit(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch, account: Account, value: str, cut: bool
) -> None:
    # No member holds them: through the member text the answer is found in one read of it,
    # where the condition alone reads every member of the account (100 to 240 ms at 100,000).
    in_names = Compare(UserAttribute.DISPLAY_NAME, Operator.CO, value, ignore_case=True)
    plain, through_index, sent = both_ways(ctx, monkeypatch, scim_page(ctx, account, in_names))
    assert through_index == plain == (0, [])
    assert any("search_member_text" in s for s in sent) is cut, sent


def test_a_name_holding_a_line_feed_is_counted_as_its_search_says(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch, account: Account
) -> None:
    # The services refuse such a name; another tool may write one. Its line feed must not
    # pass for the boundary between address and name: the member text holds it as a
    # carriage return, and a count past the cut is the search's own.
    engine: sa.Engine = ctx.uow.engine  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE users SET name = :name WHERE id = :user_id"),
            {
                "name": "Bob example.com\nSecond line",
                "user_id": "00000000-0000-4000-8000-000000000000",
            },
        )
    assert_in_step(engine)
    monkeypatch.setattr(member_text, "CUT_AT_MOST", 2)
    ends = Compare(UserAttribute.EMAIL, Operator.EW, "example.com", ignore_case=True)

    plain, through_index, sent = both_ways(ctx, monkeypatch, scim_page(ctx, account, ends, limit=2))
    assert through_index == plain
    assert plain[0] == 16  # type: ignore[index]  # not user000@ann.example.org, whose name it is
    assert any("count(*)" in s and "search_member_text" in s for s in sent), sent


def test_a_member_search_looks_no_further_than_the_longest_address(
    ctx: ServiceContext, account: Account
) -> None:
    # Cut to 254 characters, as the console's search is: 60,000 wildcards would otherwise
    # reach past SQLite's LIKE pattern limit (an error, not an answer).
    assert members.list_members(ctx, SYSTEM, account.id, search="%" * 60_000).items == []
    found = members.list_members(ctx, SYSTEM, account.id, search="0" * 254 + "ignored")
    assert found.items == []  # the text as cut: no address holds 254 zeros
    assert len(members.list_members(ctx, SYSTEM, account.id, search="  user01  ").items) == 10


def test_a_filter_that_names_one_member_by_key_goes_without_the_cut(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch, account: Account
) -> None:
    # A cut beside a key would only add a scan of the whole account's member text.
    user_id = "00000000-0000-4000-8000-000000000008"
    query = UserQuery(
        AllOf(
            (
                Compare(UserAttribute.USER_ID, Operator.EQ, user_id),
                Compare(UserAttribute.EMAIL, Operator.CO, "example", ignore_case=True),
            )
        )
    )

    def search() -> object:
        page = provisioning.list_users(ctx, SYSTEM, account.id, query)
        return [r.user.id for r in page.items]

    plain, through_index, sent = both_ways(ctx, monkeypatch, search)
    assert through_index == plain == [user_id]
    assert not any("search_member_text" in s for s in sent), sent


def test_a_text_too_common_for_the_cut_is_searched_through_the_members(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch, account: Account
) -> None:
    # Past `CUT_AT_MOST` matches, naming them all would cost more than reading the members.
    monkeypatch.setattr(member_text, "CUT_AT_MOST", 3)

    def search() -> object:
        page = member_browsing.browse_members(ctx, SYSTEM, account.id, search="example")
        return page.total, [m.user.email for m in page.items]

    plain, through_index, sent = both_ways(ctx, monkeypatch, search)
    assert through_index == plain
    assert plain[0] == 24  # type: ignore[index]
    assert any("search_member_text" in s for s in sent), sent
    assert not any("IN (" in s for s in sent if "users" in s), sent


@pytest.mark.parametrize("sort", [MemberSort.JOINED, MemberSort.EMAIL, MemberSort.NAME])
@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("common", [True, False], ids=["past the cut", "named"])
def test_a_text_pages_and_counts_alike_both_ways(
    ctx: ServiceContext,
    monkeypatch: pytest.MonkeyPatch,
    account: Account,
    sort: MemberSort,
    descending: bool,
    common: bool,
) -> None:
    """The member text counts a text's matches: past the cut in a scan of its own,
    otherwise by naming them all; in order of address it names each page's members. Every
    page, in both directions, is the plain one."""
    if common:
        monkeypatch.setattr(member_text, "CUT_AT_MOST", 3)
    # Across the line feed: the search, which looks into the address and the name, finds
    # nobody, and reads no member text (which would find four: past the cut).
    for text in ("example", "ann", "user01", "0", "m\na"):

        def search(text: str = text) -> object:
            return six_pages(ctx, account, search=text, sort=sort, descending=descending)

        plain, through_index, sent = both_ways(ctx, monkeypatch, search)
        assert through_index == plain, text
        found = plain[0][0]  # type: ignore[index]
        assert found > 3 if "\n" not in text else found == 0, text  # past the cut, or none
        by_text = sort is not MemberSort.NAME and "\n" not in text
        counted = [s for s in sent if "count(*)" in s and "search_member_text" in s]
        assert bool(counted) is (by_text and common), (text, sent)
        windowed = [s for s in sent if "count(*) over" in s.lower()]
        assert bool(windowed) is not by_text, (text, sent)  # counted already otherwise
        named = [s for s in sent if "IN (" in s and "users" in s]
        cut = "\n" not in text
        assert bool(named) is ((by_text and sort is MemberSort.EMAIL) or (cut and not common)), (
            text,
            sent,
        )


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("state", [None, MemberState.ACTIVE], ids=["everyone", "active"])
def test_members_in_order_of_address_page_alike_both_ways(
    ctx: ServiceContext,
    monkeypatch: pytest.MonkeyPatch,
    account: Account,
    descending: bool,
    state: MemberState | None,
) -> None:
    """Without a search, in order of address, the member text names each page's members
    (unless a filter needs the members): every page is the one the members give."""

    def browse() -> object:
        return six_pages(ctx, account, sort=MemberSort.EMAIL, descending=descending, state=state)

    with monkeypatch.context() as patched:
        patched.setattr(member_browse, "_counted_by_text", lambda _query: False)
        plain = browse()
    with statements(ctx) as sent:
        through_text = browse()
    assert through_text == plain
    assert plain[0][0] == 24  # type: ignore[index]
    assert any("search_member_text" in s for s in sent) is (state is None), sent


def test_a_scim_page_and_its_count_read_the_member_text_once(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch, account: Account
) -> None:
    """A full page needs a count too; both share the one read of the member text."""
    user_filter = Compare(UserAttribute.EMAIL, Operator.CO, "example.com", ignore_case=True)

    search = scim_page(ctx, account, user_filter, limit=5)
    plain, through_index, sent = both_ways(ctx, monkeypatch, search)
    assert through_index == plain
    assert plain[0] == 16  # type: ignore[index]  # two in three addresses; the page holds 5
    read = [
        s
        for s in sent
        if s.startswith("SELECT search_member_text.text, search_member_text.user_id")
    ]
    assert len(read) == 1, sent


@pytest.mark.parametrize(
    "user_filter", [f for f in SCIM_FILTERS if isinstance(f, Compare) and f.ignore_case], ids=repr
)
def test_a_common_scim_comparison_counts_alike_both_ways(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch, account: Account, user_filter: Compare
) -> None:
    """Past the cut, one comparison is counted in the member text when its pattern looks
    only where the comparison does (no line feed in the value): the same total."""
    monkeypatch.setattr(member_text, "CUT_AT_MOST", 2)

    search = scim_page(ctx, account, user_filter, limit=2)
    plain, through_index, sent = both_ways(ctx, monkeypatch, search)
    assert through_index == plain, user_filter
    total = plain[0]  # type: ignore[index]
    counted = any("count(*)" in s and "search_member_text" in s for s in sent)
    assert counted is (total > 2 and "\n" not in user_filter.value), (user_filter, sent)
