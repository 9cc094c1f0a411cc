"""A page of an account's members for people to look through (the console's users list):
filtered by text, role and state, ordered by any column, paged by number, and counted."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tenantry.domain.memberships import Membership, MembershipStatus
from tenantry.domain.users import User, UserStatus
from tenantry.services.ports import MemberQuery, MemberSort, MemberState
from tenantry.storage.engine import planned_for_their_values
from tenantry.storage.repositories.base import in_byte_order, like_pattern
from tenantry.storage.repositories.member_text import (
    SearchPlan,
    TextSearch,
    member_text_count,
    members_by_address,
    searched,
    text_search,
)
from tenantry.storage.repositories.membership_rows import (
    MEMBERSHIP_COLUMNS,
    WITH_USERS,
    to_membership,
)
from tenantry.storage.repositories.users import USER_COLUMNS, USER_WIDTH, to_user
from tenantry.storage.tables import memberships, users

_ACTIVE = MembershipStatus.ACTIVE.value
_USER_DEACTIVATED = int(UserStatus.DEACTIVATED)
_STATE_FILTERS: dict[MemberState, sa.ColumnElement[bool]] = {
    MemberState.DEACTIVATED: users.c.status == _USER_DEACTIVATED,
    MemberState.PENDING: sa.and_(
        memberships.c.status == MembershipStatus.PENDING.value,
        users.c.status != _USER_DEACTIVATED,
    ),
    MemberState.ACTIVE: sa.and_(
        memberships.c.status == _ACTIVE, users.c.status != _USER_DEACTIVATED
    ),
}


def _filters(
    account_id: str, query: MemberQuery, plan: SearchPlan | None
) -> list[sa.ColumnElement[bool]]:
    where = [memberships.c.account_id == account_id]
    if query.search and plan is not None:
        where.append(searched(like_pattern(query.search), plan))
    if query.role_key:
        where.append(memberships.c.role_key == query.role_key)
    if query.state is not None:
        where.append(_STATE_FILTERS[query.state])
    return where


def _order(query: MemberQuery, dialect: str) -> list[sa.ColumnElement[Any]]:
    """The sort keys, then the user id, all in the one direction, so that the descending
    order is the ascending one reversed and paging by offset is stable. Addresses in byte
    order, the member text's (`members_by_address`)."""
    keys: list[sa.ColumnElement[Any]]
    if query.sort is MemberSort.EMAIL:
        keys = [in_byte_order(users.c.email, dialect)]
    elif query.sort is MemberSort.NAME:
        keys = [sa.func.lower(users.c.name)]
    elif query.sort is MemberSort.LAST_LOGIN:
        # Never signed in sorts as the oldest, on every engine (their NULL order differs).
        never = sa.case((users.c.last_login_at.is_(None), 0), else_=1)
        keys = [never, users.c.last_login_at]
    elif query.sort is MemberSort.ROLE:
        position = {key: n for n, key in enumerate(query.role_order)}
        keys = [
            sa.case(position, value=memberships.c.role_key, else_=len(position))
            if position
            else sa.literal(0),
            memberships.c.role_key,
        ]
    else:
        keys = [memberships.c.created_at]
    keys.append(memberships.c.user_id)
    return [key.desc() if query.descending else key.asc() for key in keys]


def _page(
    conn: sa.Connection,
    where: list[sa.ColumnElement[bool]],
    query: MemberQuery,
    counts: tuple[Any, ...],
) -> sa.Select[Any]:
    """The members `where` keeps, users' columns then the membership's, in `query`'s order."""
    return (
        sa.select(*USER_COLUMNS, *MEMBERSHIP_COLUMNS, *counts)
        .select_from(WITH_USERS)
        .where(*where)
        .order_by(*_order(query, conn.dialect.name))
    )


def _counted_by_text(query: MemberQuery) -> bool:
    """Whether the member text alone answers how many members the query keeps (no filter
    but the text), and pages them faster than the members (orders it can stop early in or
    holds itself)."""
    plain = not query.role_key and query.state is None
    return plain and query.sort in (MemberSort.JOINED, MemberSort.EMAIL)


def browse_members(
    conn: sa.Connection, account_id: str, query: MemberQuery, *, limit: int, offset: int
) -> tuple[list[tuple[User, Membership]], int]:
    """One page of an account's members, filtered and ordered as `query` says, and how
    many members match in all: two statements at most, whatever the page, one with a
    search (and before it one choosing how to search, reading the account's member text;
    and for a text many of its members hold one or two more: `_common_text`). A search's
    statements are planned for its text each time: how common it is decides the plan."""
    if not query.search:
        return _browse(conn, account_id, query, limit, offset)
    with planned_for_their_values(conn):
        return _browse(conn, account_id, query, limit, offset)


def _browse(
    conn: sa.Connection, account_id: str, query: MemberQuery, limit: int, offset: int
) -> tuple[list[tuple[User, Membership]], int]:
    how = None
    if query.search:
        pattern = like_pattern(query.search)
        how = text_search(conn, account_id, query.search, pattern)
        if how.common and _counted_by_text(query):
            return _common_text(conn, account_id, query, pattern, limit, offset)
        if how.names_every_match and _counted_by_text(query):
            return _named_by_text(conn, account_id, query, how, limit, offset)
    elif query.sort is MemberSort.EMAIL and _counted_by_text(query):
        return _by_address(conn, account_id, query, limit, offset)
    where = _filters(account_id, query, how.plan if how else None)
    cut = how.cut if how else {}
    # A search reads every match of the account to filter (and mostly to order) them: the
    # page counts them too, with a window over the matches, in the same statement.
    counts = (sa.func.count().over(),) if query.search else ()
    page = _page(conn, where, query, counts).limit(limit).offset(offset)
    found = conn.execute(page, cut).all()
    rows = [(to_user(row), to_membership(row, USER_WIDTH)) for row in found]
    if counts and found:
        return rows, found[0][-1]
    if len(rows) < limit and (rows or offset == 0):
        return rows, offset + len(rows)  # the last page: no need to count
    # Without a filter on users, the account's index on memberships counts alone.
    counted = WITH_USERS if query.search or query.state is not None else memberships
    count = sa.select(sa.func.count()).select_from(counted).where(*where)
    total: int = conn.execute(count, cut).scalar_one()
    return rows, total


def _common_text(
    conn: sa.Connection, account_id: str, query: MemberQuery, pattern: str, limit: int, offset: int
) -> tuple[list[tuple[User, Membership]], int]:
    """A text that many members of a large account hold, and no other filter. Counting the
    matches through the members read every member's user (on SQLite 700 ms for 100,000
    among a million users): the member text counts them. The page is read on its own: in
    joining order the account's index walks to it and stops there; in order of address the
    member text names its members."""
    total = member_text_count(conn, account_id, pattern)
    if query.sort is not MemberSort.EMAIL:
        return _plain_page(conn, account_id, query, SearchPlan.MEMBERS, {}, limit, offset), total
    named = members_by_address(
        conn, account_id, pattern, descending=query.descending, limit=limit, offset=offset
    )
    cut = {"cut": named}
    return _plain_page(conn, account_id, query, SearchPlan.MEMBER_TEXT, cut, limit, 0), total


def _by_address(
    conn: sa.Connection, account_id: str, query: MemberQuery, limit: int, offset: int
) -> tuple[list[tuple[User, Membership]], int]:
    """Every member, in order of address. Ordering them through the members reads every
    member's user (a page of the users table each: on SQLite 7 to 12 ms for 900 members
    among a million users); the member text holds the addresses in the account's own rows,
    names the page's members in their order, and they are read by key. The account's index
    counts them."""
    named = members_by_address(
        conn, account_id, "%", descending=query.descending, limit=limit, offset=offset
    )
    where = [memberships.c.account_id == account_id, memberships.c.user_id.in_(named)]
    found = conn.execute(_page(conn, where, query, ()).limit(limit)).all()
    rows = [(to_user(row), to_membership(row, USER_WIDTH)) for row in found]
    if len(rows) < limit and (rows or offset == 0):
        return rows, offset + len(rows)  # the last page: no need to count
    count = sa.select(sa.func.count()).select_from(memberships).where(where[0])
    total: int = conn.execute(count).scalar_one()
    return rows, total


def _named_by_text(
    conn: sa.Connection,
    account_id: str,
    query: MemberQuery,
    how: TextSearch,
    limit: int,
    offset: int,
) -> tuple[list[tuple[User, Membership]], int]:
    """The members the member text names exactly (`TextSearch.names_every_match`), and no
    other filter. They are counted already, and the page is read on its own: in order of
    address their member texts order them, and the page's members are read by key; in
    joining order the account's index walks to the page and stops there."""
    named = how.matches
    if query.sort is MemberSort.EMAIL:
        named = how.by_address(descending=query.descending)[offset : offset + limit]
        offset = 0
    cut = {"cut": named}
    page = _plain_page(conn, account_id, query, SearchPlan.MEMBER_TEXT, cut, limit, offset)
    return page, len(how.found)


def _plain_page(
    conn: sa.Connection,
    account_id: str,
    query: MemberQuery,
    plan: SearchPlan,
    cut: dict[str, list[str]],
    limit: int,
    offset: int,
) -> list[tuple[User, Membership]]:
    """A page of the members `query`'s text keeps, searched as `plan` says, not counted."""
    where = _filters(account_id, query, plan)
    page = _page(conn, where, query, ()).limit(limit).offset(offset)
    found = conn.execute(page, cut).all()
    return [(to_user(row), to_membership(row, USER_WIDTH)) for row in found]
