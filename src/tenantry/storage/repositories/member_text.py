"""Searching an account's members by text: the condition, and on PostgreSQL the choice
between reading the account's members and asking the trigram indexes (migration 0013)."""

from __future__ import annotations

import sqlalchemy as sa

from tenantry.storage.tables import memberships, users

_SEARCHED = (users.c.email, users.c.name)

_FIRST_MEMBERS = (
    sa.select(sa.literal(1))
    .where(memberships.c.account_id == sa.bindparam("account_id"))
    .limit(sa.bindparam("limit", type_=sa.Integer))
    .subquery()
)
_COUNT_UP_TO = sa.select(sa.func.count()).select_from(_FIRST_MEMBERS)

SMALL_ACCOUNT = 2_000
"""On PostgreSQL, an account of at most this many members is searched through its members
(the account's index, then each user by key): a bounded read whatever the text. A larger one
is searched through the trigram indexes, which find the few users a rare text names. Left to
choose, the planner took the trigram indexes for small accounts too, and a text that nearly
every address holds (a company's domain) then read every such user of the database: 400 ms
for an account of 100 members among 100,000 users."""


def searched(pattern: sa.ColumnElement[str] | str, *, indexed: bool) -> sa.ColumnElement[bool]:
    """The user's address or name holds the LIKE `pattern`, each written as the expression
    PostgreSQL's trigram indexes cover (addresses are stored lower-case: same answer), or with
    `indexed` false as one no index covers (the same text with nothing appended), so that the
    account's own members are read instead."""
    return sa.or_(
        *(
            (lowered if indexed else lowered.op("||")("")).like(pattern, "\\")
            for lowered in (sa.func.lower(column) for column in _SEARCHED)
        )
    )


def search_by_index(conn: sa.Connection, account_id: str) -> bool:
    """Whether to search the account's members through the trigram indexes: on PostgreSQL,
    past `SMALL_ACCOUNT` members (counted no further than that, from the account's index).
    SQLite has no such index: the one statement reads the account's members."""
    if conn.dialect.name != "postgresql":
        return True
    limit = SMALL_ACCOUNT + 1
    counted = conn.execute(_COUNT_UP_TO, {"account_id": account_id, "limit": limit})
    return bool(counted.scalar_one() > SMALL_ACCOUNT)
