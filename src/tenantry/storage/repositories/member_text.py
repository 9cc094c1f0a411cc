"""Searching an account's members by text: the condition, and the choice between reading the
account's members and asking the account's member text first (migration 0017 on SQLite, 0018
on PostgreSQL): each membership's lowered address, a line feed, and lowered name, kept by
triggers in step with every write, in rows clustered or indexed by account."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import cast

import sqlalchemy as sa

from tenantry.storage.engine import planned_for_their_values
from tenantry.storage.repositories.base import escape_like
from tenantry.storage.repositories.driver_reads import read_rows
from tenantry.storage.tables import memberships, users

_SEARCHED = (users.c.email, users.c.name)

# Not one of the tables, which SQLAlchemy creates alike on both engines: each engine's
# migration makes it as that engine indexes it best.
_MEMBER_TEXT = sa.table(
    "search_member_text", sa.column("account_id"), sa.column("user_id"), sa.column("text")
)
TEXT_SEPARATOR = "\n"
_NOT_CUT = ("\x00", TEXT_SEPARATOR, "\r")
_LONGEST_PATTERN = 49_000
"""Bytes of the LIKE pattern of a text the member text is asked for, at most: SQLite refuses
patterns past 50,000 (its default `SQLITE_MAX_LIKE_PATTERN_LENGTH`), and the statements add
a few bytes of wildcards and line feed to the escaped text. A longer text is searched by the
condition alone, which reads every member of the account (no service writes texts that
long: an address of at most 254 characters, a name of at most 200); anything shorter is
answered by the member text at the cost of any other search, where the condition alone took
100 to 240 ms in the account of 100,000 members among a million users."""


def cuttable(text: str) -> bool:
    """Whether a search for `text` may be cut by the member text: its pattern within
    `_LONGEST_PATTERN`; without a NUL character, at which SQLite's LIKE stops reading the
    pattern (the cut would then test less than the condition does, and could drop a match;
    PostgreSQL's text holds none); and without a line feed or a carriage return, since the
    member text holds one line feed, between the address and the name, and writes any other
    as a carriage return (migration 0019): a pattern with neither looks only where the
    search does."""
    if any(c in text for c in _NOT_CUT) or len(text) > _LONGEST_PATTERN:
        return False
    return len(escape_like(text.lower()).encode()) <= _LONGEST_PATTERN


class SearchPlan(enum.Enum):
    """How a search of one account's members by text reads them."""

    MEMBERS = "members"
    """Each member of the account, by the account's index, and each user by key."""
    MEMBER_TEXT = "member text"
    """The members the account's member text names (`TextSearch.matches`, at most
    `CUT_AT_MOST`), each membership and user by key."""


CUT_AT_MOST = 1_000
"""A text that more of an account's members hold than this is searched through the
account's members, in order, which a page of such a text can stop early; fewer are named in
the statements (`TextSearch.matches`), found in one scan of the account's member text that
stops at the first match past this many."""

_TEXT_MATCHES = (
    _MEMBER_TEXT.c.account_id == sa.bindparam("account_id"),
    _MEMBER_TEXT.c.text.like(sa.bindparam("pattern", type_=sa.String), "\\"),
)
_LIMIT = sa.bindparam("limit", type_=sa.Integer)
_MATCHING = (
    sa.select(_MEMBER_TEXT.c.text, _MEMBER_TEXT.c.user_id).where(*_TEXT_MATCHES).limit(_LIMIT)
)
_COUNT_MATCHING = sa.select(sa.func.count()).select_from(_MEMBER_TEXT).where(*_TEXT_MATCHES)
_BY_ADDRESS = {
    descending: sa.select(_MEMBER_TEXT.c.user_id)
    .where(*_TEXT_MATCHES)
    .order_by(
        *(key.desc() if descending else key.asc() for key in _MEMBER_TEXT.c["text", "user_id"])
    )
    .limit(_LIMIT)
    .offset(sa.bindparam("offset", type_=sa.Integer))
    for descending in (False, True)
}


@dataclass(frozen=True, slots=True)
class TextSearch:
    """How to search one account's members for one text."""

    plan: SearchPlan
    found: list[tuple[str, str]] = field(default_factory=list)
    """MEMBER_TEXT: the members whose member text holds the text, as (member text, user
    id): those the search's condition keeps (the same lowered texts)."""
    common: bool = False
    """More than `CUT_AT_MOST` of the account's members hold the text (the plan is then
    MEMBERS). The member text matches exactly the members the search keeps (a `cuttable`
    text looks only where the search does): it may count them (`member_text_count`) and
    order them by address (`members_by_address`), faster than the members can."""

    @property
    def names_every_match(self) -> bool:
        """The member text names every member the search keeps, and no other (MEMBER_TEXT)."""
        return self.plan is SearchPlan.MEMBER_TEXT

    @property
    def matches(self) -> list[str]:
        """The user ids of `found`."""
        return [user_id for _, user_id in self.found]

    @property
    def cut(self) -> dict[str, list[str]]:
        """The parameters `searched` adds to a statement."""
        return {"cut": self.matches} if self.plan is SearchPlan.MEMBER_TEXT else {}

    def by_address(self, *, descending: bool) -> list[str]:
        """MEMBER_TEXT: the user ids of `found` in the order of their addresses
        (`users.email`, user id breaking ties; see `members_by_address`)."""
        return [user_id for _, user_id in sorted(self.found, reverse=descending)]


def searched(pattern: sa.ColumnElement[str] | str, plan: SearchPlan) -> sa.ColumnElement[bool]:
    """The member's address or name holds the LIKE `pattern` (lowered, as the text is),
    among the members `TextSearch.cut` names where `plan` is MEMBER_TEXT."""
    condition = sa.or_(*(sa.func.lower(column).like(pattern, "\\") for column in _SEARCHED))
    if plan is not SearchPlan.MEMBER_TEXT:
        return condition
    named = memberships.c.user_id.in_(sa.bindparam("cut", expanding=True))
    return sa.and_(named, condition)


def text_search(conn: sa.Connection, account_id: str, text: str, pattern: str) -> TextSearch:
    """How to search the account's members for `text` (as the LIKE `pattern` over member
    text): through the account's member text first, whatever its size. Its rows lie together
    (SQLite) or are indexed by account (PostgreSQL) and are short, where reading each
    member's user takes a page of the users table each (on SQLite 7 to 17 ms for 900 members
    among a million users, the member text under 1); and PostgreSQL's index of their
    trigrams finds a rare text among the account's rows alone."""
    if not cuttable(text):
        return TextSearch(SearchPlan.MEMBERS)
    found = member_text_found(conn, account_id, pattern)
    if found is None:
        return TextSearch(SearchPlan.MEMBERS, common=True)
    return TextSearch(SearchPlan.MEMBER_TEXT, found)


def member_text_matches(conn: sa.Connection, account_id: str, pattern: str) -> list[str] | None:
    """The members of the account whose member text matches the LIKE `pattern`, or
    None past `CUT_AT_MOST` of them."""
    found = member_text_found(conn, account_id, pattern)
    return None if found is None else [user_id for _, user_id in found]


def member_text_found(
    conn: sa.Connection, account_id: str, pattern: str
) -> list[tuple[str, str]] | None:
    """`member_text_matches`, each with its member text: (text, user id)."""
    parameters = {"account_id": account_id, "pattern": pattern, "limit": CUT_AT_MOST + 1}
    # Through the driver: a common text answers the whole `CUT_AT_MOST` + 1 rows, which
    # SQLAlchemy's result took 1 to 2 ms to hand over one by one.
    with planned_for_their_values(conn):
        rows = read_rows(conn, _MATCHING, parameters)
    return None if len(rows) > CUT_AT_MOST else cast("list[tuple[str, str]]", rows)


def member_text_count(conn: sa.Connection, account_id: str, pattern: str) -> int:
    """How many members of the account have member text matching the LIKE `pattern`: one
    scan of the account's member text, where counting through the members reads each
    member's user (on SQLite 700 ms for 100,000 members among a million users; 12 ms this
    way, 25 on PostgreSQL)."""
    parameters = {"account_id": account_id, "pattern": pattern}
    with planned_for_their_values(conn):
        count: int = conn.execute(_COUNT_MATCHING, parameters).scalar_one()
    return count


def members_by_address(
    conn: sa.Connection,
    account_id: str,
    pattern: str,
    *,
    descending: bool,
    limit: int,
    offset: int,
) -> list[str]:
    """`limit` members of the account from `offset`, among those whose member text
    matches the LIKE `pattern`, in the order of their addresses (`users.email` in byte
    order, user id breaking ties). The same order: a member text starts with the address
    (stored lower-case) and a line feed, which sorts before every character an address may
    hold. On PostgreSQL the account's index of the text walks them in that order."""
    parameters = {"account_id": account_id, "pattern": pattern, "limit": limit, "offset": offset}
    with planned_for_their_values(conn):
        return list(conn.execute(_BY_ADDRESS[descending], parameters).scalars())
