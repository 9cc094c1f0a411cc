"""An actor's reach (`services.policy_reach`) as a condition in a statement: the account a
row names, its parent or its grandparent is a root of the actor.

Statements that narrow by reach are built once for each kind of reach (`ReachKind`), the root
itself a bound parameter (`reach_parameters`), so that the narrowing costs no statement
building per call.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from tenantry.domain.memberships import MembershipStatus
from tenantry.services.policy_reach import Reach
from tenantry.storage.tables import accounts, memberships

_HERE = accounts.alias("reach_here")
_PARENT = accounts.alias("reach_parent")
_MINE = memberships.alias("reach_mine")
# The account and its ancestors: accounts nest at most three deep (`domain.accounts`).
_LEVELS = (_HERE.c.id, _HERE.c.parent_id, _PARENT.c.parent_id)
_ROOT = "reach_root"


class ReachKind(Enum):
    EVERYWHERE = "everywhere"
    HOME = "home"
    MEMBER = "member"
    NOWHERE = "nowhere"


def reach_parameters(reach: Reach | None) -> tuple[ReachKind, dict[str, Any]]:
    """The kind of statement to run for `reach`, and the parameters it adds."""
    if reach is None:
        return ReachKind.EVERYWHERE, {}
    if reach.home_account_id is not None:
        return ReachKind.HOME, {_ROOT: reach.home_account_id}
    if reach.member_id is not None:
        return ReachKind.MEMBER, {_ROOT: reach.member_id}
    return ReachKind.NOWHERE, {}


def reach_joins(
    joined: sa.FromClause, account_id: ColumnElement[Any], kind: ReachKind
) -> sa.FromClause:
    """`joined` with the account `account_id` names and that account's parent, by key, for
    `within_reach` to test (nothing to join when the reach is everywhere or nowhere). Joins,
    not a subquery per row: PostgreSQL plans them by key however stale its statistics (a
    correlated subquery, costed blind after a bulk load, tipped the tenant query into a
    parallel scan and a JIT compile of 15 ms)."""
    if kind in (ReachKind.EVERYWHERE, ReachKind.NOWHERE):
        return joined
    return joined.outerjoin(_HERE, _HERE.c.id == account_id).outerjoin(
        _PARENT, _PARENT.c.id == _HERE.c.parent_id
    )


def within_reach(kind: ReachKind) -> ColumnElement[bool]:
    """True where the account joined by `reach_joins` is within the reach `kind` describes
    (its root bound by `reach_parameters`)."""
    if kind is ReachKind.EVERYWHERE:
        return sa.true()
    if kind is ReachKind.NOWHERE:
        return sa.false()
    root = sa.bindparam(_ROOT, type_=sa.String)
    if kind is ReachKind.HOME:
        return root.in_(_LEVELS)
    # Three lookups of the person's memberships by primary key, whatever their number.
    return sa.exists().where(
        _MINE.c.user_id == root,
        _MINE.c.account_id.in_(_LEVELS),
        _MINE.c.status == MembershipStatus.ACTIVE.value,
    )
