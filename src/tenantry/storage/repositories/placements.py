"""Where people hold roles, read for listings that show many people at once (GraphQL's
tenant → users → roles, a user's tenants): at most `per_user` memberships of each person, the
first they got, so that someone who holds roles in thousands of accounts costs a listing a
bounded number of rows. A caller asks for one more than it shows, to tell when there are more.

Ranking each person's memberships (a window function) doubles what the read costs (0.2 →
0.4 ms for a tenant of 50 people on SQLite), and nearly everyone holds a few roles: so the
plain read comes first, stopped after `ROWS_PER_PERSON` rows a person on average, and the
ranked one only where that was not enough. Either way the answer is the same."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from tenantry.domain.users import UserStatus
from tenantry.services.ports import MemberPlacementRow
from tenantry.storage.tables import memberships, users

ROWS_PER_PERSON = 8
PER_USER = sa.bindparam("per_user", type_=sa.Integer)
ROWS = sa.bindparam("rows", type_=sa.Integer)
_USER_STATUSES = {int(status): status for status in UserStatus}


def ranked_by_user(
    user_id: sa.ColumnElement[str], *order: sa.ColumnElement[object]
) -> sa.Label[int]:
    """Each row's place among the rows of its user, in `order`: 1 for the first."""
    return sa.func.row_number().over(partition_by=user_id, order_by=order).label("rank")


def first_per_user(
    conn: sa.Connection,
    plain: sa.Select[Any],
    ranked: sa.Select[Any],
    parameters: Mapping[str, Any],
    *,
    people: int,
    per_user: int,
) -> Sequence[Sequence[Any]]:
    """Each person's first `per_user` rows: of `plain` (every row of the people, the user id
    first, in order, stopped after `ROWS` rows) when the people hold few, else of `ranked`
    (the same rows ranked by person, kept up to `PER_USER`)."""
    rows_read = people * ROWS_PER_PERSON
    rows = conn.execute(plain, {**parameters, "rows": rows_read + 1}).all()
    if len(rows) > rows_read:
        return conn.execute(ranked, {**parameters, "per_user": per_user}).all()
    if len(rows) <= per_user:
        return rows  # nobody can hold more
    held: Counter[str] = Counter()
    kept: list[Sequence[Any]] = []
    for row in rows:
        held[row[0]] += 1
        if held[row[0]] <= per_user:
            kept.append(row)
    return kept


_FIRST = (
    sa.select(memberships.c.user_id, memberships.c.created_at)
    .where(memberships.c.account_id == sa.bindparam("account_id"))
    .order_by(memberships.c.created_at, memberships.c.user_id)
    .limit(sa.bindparam("limit", type_=sa.Integer))
    .subquery("first")
)
_OTHER = memberships.alias("other")
_PLACED = _FIRST.join(users, users.c.id == _FIRST.c.user_id).join(
    _OTHER, _OTHER.c.user_id == _FIRST.c.user_id
)
_SHOWN = (users.c.id, users.c.email, users.c.status, users.c.expires_on)
_HELD = (_OTHER.c.account_id, _OTHER.c.role_key)
# The first members of an account with every membership they hold (this one included), in
# the members' joining order, then each one's memberships in theirs: one statement for what
# a GraphQL tenant → users → roles walk shows, as plain rows (no domain objects).
_MEMBER_PLACEMENTS = (
    sa.select(*_SHOWN, *_HELD)
    .select_from(_PLACED)
    .order_by(_FIRST.c.created_at, _FIRST.c.user_id, _OTHER.c.created_at, _OTHER.c.account_id)
    .limit(ROWS)
)
_RANKED_PLACEMENTS = (
    sa.select(
        *_SHOWN,
        *_HELD,
        _FIRST.c.created_at.label("joined"),
        _OTHER.c.created_at.label("got"),
        ranked_by_user(_FIRST.c.user_id, _OTHER.c.created_at, _OTHER.c.account_id),
    )
    .select_from(_PLACED)
    .subquery("ranked")
)
_FIRST_PLACEMENTS = (
    sa.select(
        *(
            _RANKED_PLACEMENTS.c[name]
            for name in ("id", "email", "status", "expires_on", "account_id", "role_key")
        )
    )
    .where(_RANKED_PLACEMENTS.c.rank <= PER_USER)
    .order_by(
        _RANKED_PLACEMENTS.c.joined,
        _RANKED_PLACEMENTS.c.id,
        _RANKED_PLACEMENTS.c.got,
        _RANKED_PLACEMENTS.c.account_id,
    )
)


def member_placements(
    conn: sa.Connection, account_id: str, *, limit: int, per_user: int
) -> list[MemberPlacementRow]:
    """The account's first `limit` members, in joining order, each with the first `per_user`
    memberships they hold, in the order they got them: plain rows `(user id, e-mail, user
    status, expires on, account id, role key)`."""
    statuses = _USER_STATUSES
    rows = first_per_user(
        conn,
        _MEMBER_PLACEMENTS,
        _FIRST_PLACEMENTS,
        {"account_id": account_id, "limit": limit},
        people=limit,
        per_user=per_user,
    )
    return [
        (user_id, email, statuses[status], expires_on, account, role_key)
        for user_id, email, status, expires_on, account, role_key in rows
    ]
