"""Where people hold roles, read for listings that show many people at once (GraphQL's
tenant → users → roles, a user's tenants): at most `per_user` memberships of each person, the
first they got, so that someone who holds roles in thousands of accounts costs a listing a
bounded number of rows. A caller asks for one more than it shows, to tell when there are more."""

from __future__ import annotations

import sqlalchemy as sa

from tenantry.domain.users import UserStatus
from tenantry.services.ports import MemberPlacementRow
from tenantry.storage.tables import memberships, users

_USER_STATUSES = {int(status): status for status in UserStatus}
PER_USER = sa.bindparam("per_user", type_=sa.Integer)


def ranked_by_user(
    user_id: sa.ColumnElement[str], *order: sa.ColumnElement[object]
) -> sa.Label[int]:
    """Each row's place among the rows of its user, in `order`: 1 for the first."""
    return sa.func.row_number().over(partition_by=user_id, order_by=order).label("rank")


_FIRST = (
    sa.select(memberships.c.user_id, memberships.c.created_at)
    .where(memberships.c.account_id == sa.bindparam("account_id"))
    .order_by(memberships.c.created_at, memberships.c.user_id)
    .limit(sa.bindparam("limit", type_=sa.Integer))
    .subquery("first")
)
_OTHER = memberships.alias("other")
_PLACEMENTS_RANKED = (
    sa.select(
        users.c.id,
        users.c.email,
        users.c.status,
        users.c.expires_on,
        _OTHER.c.account_id,
        _OTHER.c.role_key,
        _FIRST.c.created_at.label("joined"),
        _OTHER.c.created_at.label("got"),
        ranked_by_user(_FIRST.c.user_id, _OTHER.c.created_at, _OTHER.c.account_id),
    )
    .select_from(
        _FIRST.join(users, users.c.id == _FIRST.c.user_id).join(
            _OTHER, _OTHER.c.user_id == _FIRST.c.user_id
        )
    )
    .subquery("ranked")
)
# The first members of an account, each with the first memberships they hold (this one among
# them unless they hold more than `per_user`), in the members' joining order, then each one's
# memberships in theirs: one statement for what a tenant → users → roles walk shows.
_MEMBER_PLACEMENTS = (
    sa.select(
        *(
            _PLACEMENTS_RANKED.c[name]
            for name in ("id", "email", "status", "expires_on", "account_id", "role_key")
        )
    )
    .where(_PLACEMENTS_RANKED.c.rank <= PER_USER)
    .order_by(
        _PLACEMENTS_RANKED.c.joined,
        _PLACEMENTS_RANKED.c.id,
        _PLACEMENTS_RANKED.c.got,
        _PLACEMENTS_RANKED.c.account_id,
    )
)


def member_placements(
    conn: sa.Connection, account_id: str, *, limit: int, per_user: int
) -> list[MemberPlacementRow]:
    """The account's first `limit` members, in joining order, each with the first `per_user`
    memberships they hold, in the order they got them: plain rows `(user id, e-mail, user
    status, expires on, account id, role key)`."""
    statuses = _USER_STATUSES
    parameters = {"account_id": account_id, "limit": limit, "per_user": per_user}
    return [
        (user_id, email, statuses[status], expires_on, account, role_key)
        for user_id, email, status, expires_on, account, role_key in conn.execute(
            _MEMBER_PLACEMENTS, parameters
        ).all()
    ]
