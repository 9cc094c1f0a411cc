from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa

from tenantry.domain.accounts import Account
from tenantry.domain.memberships import Membership, MembershipStatus
from tenantry.domain.users import User, UserStatus
from tenantry.services.member_query import ListedUser
from tenantry.services.policy_reach import Reach
from tenantry.services.ports import (
    MemberCursor,
    MemberPlacementRow,
    MemberQuery,
    RoleHolders,
)
from tenantry.storage.engine import planned_for_their_values
from tenantry.storage.repositories.accounts import ACCOUNT_COLUMNS, to_account
from tenantry.storage.repositories.base import Repository, like_pattern
from tenantry.storage.repositories.inserts import insert_rows
from tenantry.storage.repositories.member_browse import browse_members
from tenantry.storage.repositories.member_text import SearchPlan, searched, text_search
from tenantry.storage.repositories.membership_rows import (
    MEMBERSHIP_COLUMNS,
    MEMBERSHIP_WIDTH,
    WITH_USERS,
    to_membership,
)
from tenantry.storage.repositories.reach import (
    ReachKind,
    reach_joins,
    reach_parameters,
    within_reach,
)
from tenantry.storage.repositories.role_holders import holders_by_role, member_ids_by_role
from tenantry.storage.repositories.users import (
    LISTED_USER_COLUMNS,
    LISTED_USER_WIDTH,
    to_listed_user,
)
from tenantry.storage.tables import accounts, memberships, users


def _values(m: Membership) -> dict[str, Any]:
    s = m.scope
    return {
        "role_key": m.role_key,
        "status": m.status.value,
        "app_ids": None if s.app_ids is None else list(s.app_ids),
        "all_future_apps": s.all_future_apps,
        "media_sources": None if s.media_sources is None else list(s.media_sources),
        "geos": None if s.geos is None else list(s.geos),
    }


def _new_row(m: Membership) -> dict[str, Any]:
    values = _values(m)
    values["user_id"], values["account_id"] = m.user_id, m.account_id
    values["created_at"] = m.created_at
    return values


def _update_row(m: Membership) -> dict[str, Any]:
    values = _values(m)
    values["where_user_id"], values["where_account_id"] = m.user_id, m.account_id
    return values


_ACTIVE = MembershipStatus.ACTIVE.value
_USER_STATUSES = {int(status): status for status in UserStatus}
_ACTIVATED = int(UserStatus.ACTIVATED)
_SELECT = sa.select(*MEMBERSHIP_COLUMNS)
_FIND = _SELECT.where(
    memberships.c.user_id == sa.bindparam("user_id"),
    memberships.c.account_id == sa.bindparam("account_id"),
)
_IN_ACCOUNTS = _SELECT.where(
    memberships.c.user_id == sa.bindparam("user_id"),
    memberships.c.account_id.in_(sa.bindparam("account_ids", expanding=True)),
)
_ELSEWHERE = (
    sa.select(*ACCOUNT_COLUMNS, *MEMBERSHIP_COLUMNS)
    .join(memberships, memberships.c.account_id == accounts.c.id)
    .where(
        memberships.c.user_id == sa.bindparam("user_id"),
        memberships.c.account_id != sa.bindparam("account_id"),
    )
)
_EVERYWHERE = (
    sa.select(*MEMBERSHIP_COLUMNS, *ACCOUNT_COLUMNS)
    .join(accounts, accounts.c.id == memberships.c.account_id)
    .where(memberships.c.user_id.in_(sa.bindparam("user_ids", expanding=True)))
    .order_by(memberships.c.created_at, memberships.c.account_id)
)
_OF_USERS = memberships.c.user_id.in_(sa.bindparam("user_ids", expanding=True))
_FOR_USERS = {
    kind: _SELECT.select_from(reach_joins(memberships, memberships.c.account_id, kind))
    .where(_OF_USERS, within_reach(kind))
    .order_by(memberships.c.created_at, memberships.c.account_id)
    for kind in ReachKind
}


def _active_or_within(kind: ReachKind) -> sa.Select[Any]:
    within = within_reach(kind)
    return (
        sa.select(*MEMBERSHIP_COLUMNS, within.label("within"))
        .select_from(reach_joins(memberships, memberships.c.account_id, kind))
        .where(_OF_USERS, sa.or_(memberships.c.status == _ACTIVE, within))
        .order_by(memberships.c.created_at, memberships.c.account_id)
    )


_ACTIVE_OR_WITHIN = {kind: _active_or_within(kind) for kind in ReachKind}
_OTHER = memberships.alias("other")
_FIRST = (
    sa.select(memberships.c.user_id, memberships.c.created_at)
    .where(memberships.c.account_id == sa.bindparam("account_id"))
    .order_by(memberships.c.created_at, memberships.c.user_id)
    .limit(sa.bindparam("limit", type_=sa.Integer))
    .subquery("first")
)
# The first members of an account with every membership they hold within the reader's reach
# (this one included), in the members' joining order, then each one's memberships in theirs:
# one statement for what a GraphQL tenant → users → roles walk shows, as plain rows (no
# domain objects).
_MEMBER_PLACEMENTS = {
    kind: (
        sa.select(
            users.c.id,
            users.c.email,
            users.c.status,
            users.c.expires_on,
            _OTHER.c.account_id,
            _OTHER.c.role_key,
        )
        .select_from(
            reach_joins(
                _FIRST.join(users, users.c.id == _FIRST.c.user_id).join(
                    _OTHER, _OTHER.c.user_id == _FIRST.c.user_id
                ),
                _OTHER.c.account_id,
                kind,
            )
        )
        .where(sa.or_(_OTHER.c.account_id == sa.bindparam("account_id"), within_reach(kind)))
        .order_by(_FIRST.c.created_at, _FIRST.c.user_id, _OTHER.c.created_at, _OTHER.c.account_id)
    )
    for kind in ReachKind
}
_COUNT = sa.select(sa.func.count()).where(memberships.c.account_id == sa.bindparam("account_id"))
_ACTIVE_ROLE_COUNTS = (
    sa.select(memberships.c.account_id, memberships.c.role_key, sa.func.count())
    .select_from(WITH_USERS)
    .where(
        memberships.c.account_id.in_(sa.bindparam("account_ids", expanding=True)),
        memberships.c.status == _ACTIVE,
        users.c.status == _ACTIVATED,
    )
    .group_by(memberships.c.account_id, memberships.c.role_key)
)
_COUNT_ACTIVE_WITH_ROLES = (
    sa.select(sa.func.count())
    .select_from(WITH_USERS)
    .where(
        memberships.c.account_id == sa.bindparam("account_id"),
        memberships.c.role_key.in_(sa.bindparam("role_keys", expanding=True)),
        memberships.c.status == _ACTIVE,
        users.c.status == _ACTIVATED,
    )
)
_FIRST_WITH_ROLES = (
    sa.select(memberships.c.user_id)
    .where(
        memberships.c.account_id == sa.bindparam("account_id"),
        memberships.c.role_key.in_(sa.bindparam("role_keys", expanding=True)),
    )
    .order_by(
        # active members first, then the earliest
        sa.case((memberships.c.status == _ACTIVE, 0), else_=1),
        memberships.c.created_at,
    )
    .limit(1)
)
# Bound names other than the columns': those are reserved for the SET clause.
_UPDATE = memberships.update().where(
    memberships.c.user_id == sa.bindparam("where_user_id"),
    memberships.c.account_id == sa.bindparam("where_account_id"),
)
_DELETE_MANY = memberships.delete().where(
    memberships.c.account_id == sa.bindparam("account_id"),
    memberships.c.user_id.in_(sa.bindparam("user_ids", expanding=True)),
)


@functools.cache
def _members(after: bool, search: SearchPlan | None, role: bool) -> sa.Select[Any]:
    """The members query for one combination of filters, built once (`search`: how the
    account's text is searched, or None for no search).

    Users' columns come first, then the membership's, so each row reads by position.
    """
    query = (
        sa.select(*LISTED_USER_COLUMNS, *MEMBERSHIP_COLUMNS)
        .join(memberships, memberships.c.user_id == users.c.id)
        .where(memberships.c.account_id == sa.bindparam("account_id"))
        .order_by(memberships.c.created_at, memberships.c.user_id)
        .limit(sa.bindparam("limit", type_=sa.Integer))
    )
    if after:
        query = query.where(
            sa.tuple_(memberships.c.created_at, memberships.c.user_id)
            > sa.tuple_(
                sa.bindparam("after_at", type_=memberships.c.created_at.type),
                sa.bindparam("after_user", type_=memberships.c.user_id.type),
            )
        )
    if search is not None:
        pattern = sa.bindparam("pattern", type_=sa.String)
        query = query.where(searched(pattern, search))
    if role:
        query = query.where(memberships.c.role_key == sa.bindparam("role_key"))
    return query


class SqlMembershipRepository(Repository):
    def find(self, user_id: str, account_id: str) -> Membership | None:
        row = self._one(_FIND, {"user_id": user_id, "account_id": account_id})
        return to_membership(row) if row else None

    def in_accounts(self, user_id: str, account_ids: Collection[str]) -> dict[str, Membership]:
        # Every check of a person's right reads it (`policy`): through the driver.
        rows = self._rows(_IN_ACCOUNTS, {"user_id": user_id, "account_ids": list(set(account_ids))})
        return {row[1]: to_membership(row) for row in rows}

    def elsewhere(self, user_id: str, account_id: str) -> list[tuple[Membership, Account]]:
        rows = self.conn.execute(_ELSEWHERE, {"user_id": user_id, "account_id": account_id})
        at = len(ACCOUNT_COLUMNS)
        return [(to_membership(row, at), to_account(row)) for row in rows]

    def everywhere(self, user_ids: Collection[str]) -> dict[str, list[tuple[Membership, Account]]]:
        result: dict[str, list[tuple[Membership, Account]]] = defaultdict(list)
        if not user_ids:
            return result
        for row in self.conn.execute(_EVERYWHERE, {"user_ids": list(set(user_ids))}).all():
            result[row[0]].append((to_membership(row), to_account(row, MEMBERSHIP_WIDTH)))
        return result

    def member_placements(
        self, account_id: str, limit: int, within: Reach | None
    ) -> list[MemberPlacementRow]:
        """The account's first `limit` members, in joining order, each with every membership
        they hold in this account or `within` reach, in the order they got them: plain rows
        `(user id, e-mail, user status, expires on, account id, role key)`."""
        kind, parameters = reach_parameters(within)
        parameters.update(account_id=account_id, limit=limit)
        statuses = _USER_STATUSES
        return [
            (user_id, email, statuses[status], expires_on, account, role_key)
            for user_id, email, status, expires_on, account, role_key in self._rows(
                _MEMBER_PLACEMENTS[kind], parameters
            )
        ]

    def for_user(self, user_id: str, within: Reach | None = None) -> list[Membership]:
        return self.for_users([user_id], within).get(user_id, [])

    def for_users(
        self, user_ids: Collection[str], within: Reach | None = None
    ) -> dict[str, list[Membership]]:
        result: dict[str, list[Membership]] = defaultdict(list)
        if not user_ids:
            return result
        kind, parameters = reach_parameters(within)
        parameters["user_ids"] = list(set(user_ids))
        for row in self.conn.execute(_FOR_USERS[kind], parameters).all():
            result[row[0]].append(to_membership(row))
        return result

    def active_or_within(
        self, user_ids: Collection[str], within: Reach | None
    ) -> dict[str, list[tuple[Membership, bool]]]:
        result: dict[str, list[tuple[Membership, bool]]] = defaultdict(list)
        if not user_ids:
            return result
        kind, parameters = reach_parameters(within)
        parameters["user_ids"] = list(set(user_ids))
        for row in self.conn.execute(_ACTIVE_OR_WITHIN[kind], parameters).all():
            result[row[0]].append((to_membership(row), bool(row[MEMBERSHIP_WIDTH])))
        return result

    def members(
        self,
        account_id: str,
        *,
        limit: int,
        after: MemberCursor | None = None,
        search: str | None = None,
        role_key: str | None = None,
    ) -> list[tuple[ListedUser, Membership]]:
        """An account's members in the order they joined, keyset-paged by (created_at, user)."""
        parameters: dict[str, Any] = {"account_id": account_id, "limit": limit}
        if after is not None:
            parameters["after_at"], parameters["after_user"] = after
        plan = None
        if search:
            parameters["pattern"] = pattern = like_pattern(search)
            how = text_search(self.conn, account_id, search, pattern)
            parameters.update(how.cut)
            plan = how.plan
        if role_key:
            parameters["role_key"] = role_key
        statement = _members(after is not None, plan, bool(role_key))
        if plan is None:
            rows = self._rows(statement, parameters)
        else:  # a search: its plan depends on how common the text is
            with planned_for_their_values(self.conn):
                rows = self._rows(statement, parameters)
        return [(to_listed_user(row), to_membership(row, LISTED_USER_WIDTH)) for row in rows]

    def count(self, account_id: str) -> int:
        count: int = self.conn.execute(_COUNT, {"account_id": account_id}).scalar_one()
        return count

    def browse(
        self, account_id: str, query: MemberQuery, *, limit: int, offset: int
    ) -> tuple[list[tuple[User, Membership]], int]:
        return browse_members(self.conn, account_id, query, limit=limit, offset=offset)

    def active_role_counts(self, account_ids: Collection[str]) -> dict[tuple[str, str], int]:
        """How many members who can act (accepted, not deactivated) hold each role, per account."""
        if not account_ids:
            return {}
        rows = self.conn.execute(_ACTIVE_ROLE_COUNTS, {"account_ids": list(set(account_ids))})
        return {(row[0], row[1]): row[2] for row in rows}

    def count_active_with_roles(self, account_id: str, role_keys: Collection[str]) -> int:
        """Members holding one of `role_keys` who can act: accepted, and not deactivated."""
        count: int = self.conn.execute(
            _COUNT_ACTIVE_WITH_ROLES,
            {"account_id": account_id, "role_keys": list(set(role_keys))},
        ).scalar_one()
        return count

    def first_with_roles(self, account_id: str, role_keys: Collection[str]) -> str | None:
        user_id: str | None = self.conn.execute(
            _FIRST_WITH_ROLES, {"account_id": account_id, "role_keys": list(set(role_keys))}
        ).scalar()
        return user_id

    def member_ids_by_role(self, account_id: str, *, limit: int) -> dict[str, RoleHolders[str]]:
        return member_ids_by_role(self.conn, account_id, limit=limit)

    def holders_by_role(self, account_id: str, *, limit: int) -> dict[str, RoleHolders[User]]:
        return holders_by_role(self.conn, account_id, limit=limit)

    def add(self, membership: Membership) -> None:
        self.add_many([membership])

    def add_many(self, new_memberships: Sequence[Membership]) -> None:
        """`add` for many memberships, in one statement."""
        if new_memberships:
            insert_rows(self.conn, memberships, [_new_row(m) for m in new_memberships])

    def update(self, membership: Membership) -> None:
        self.conn.execute(_UPDATE, _update_row(membership))

    def update_many(self, changed: Sequence[Membership]) -> None:
        """`update` for many memberships, in one statement."""
        if changed:
            self.conn.execute(_UPDATE, [_update_row(m) for m in changed])

    def delete(self, user_id: str, account_id: str) -> None:
        self.delete_many([user_id], account_id)

    def delete_many(self, user_ids: Collection[str], account_id: str) -> None:
        self.conn.execute(_DELETE_MANY, {"account_id": account_id, "user_ids": list(set(user_ids))})
