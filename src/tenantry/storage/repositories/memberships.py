from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa

from tenantry.domain.accounts import Account
from tenantry.domain.memberships import Membership, MembershipStatus, Scope
from tenantry.domain.users import User, UserStatus
from tenantry.services.ports import MemberCursor
from tenantry.storage.repositories.accounts import to_account
from tenantry.storage.repositories.base import Repository, like_pattern
from tenantry.storage.repositories.users import to_user
from tenantry.storage.tables import accounts, memberships, users

_MEMBERSHIP_COLUMNS = [c.label(f"m_{c.name}") for c in memberships.c]


def to_membership(row: Any, prefix: str = "") -> Membership:
    def col(name: str) -> Any:
        return getattr(row, prefix + name)

    apps, sources, geos = col("app_ids"), col("media_sources"), col("geos")
    return Membership(
        user_id=col("user_id"),
        account_id=col("account_id"),
        role_key=col("role_key"),
        status=MembershipStatus(col("status")),
        scope=Scope(
            app_ids=None if apps is None else tuple(apps),
            all_future_apps=col("all_future_apps"),
            media_sources=None if sources is None else tuple(sources),
            geos=None if geos is None else tuple(geos),
        ),
        created_at=col("created_at"),
    )


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


class SqlMembershipRepository(Repository):
    def find(self, user_id: str, account_id: str) -> Membership | None:
        row = self._one(
            sa.select(memberships).where(
                memberships.c.user_id == user_id, memberships.c.account_id == account_id
            )
        )
        return to_membership(row) if row else None

    def in_accounts(self, user_id: str, account_ids: Collection[str]) -> dict[str, Membership]:
        rows = self.conn.execute(
            sa.select(memberships).where(
                memberships.c.user_id == user_id, memberships.c.account_id.in_(set(account_ids))
            )
        )
        return {row.account_id: to_membership(row) for row in rows}

    def elsewhere(self, user_id: str, account_id: str) -> list[tuple[Membership, Account]]:
        rows = self.conn.execute(
            sa.select(accounts, *_MEMBERSHIP_COLUMNS)
            .join(memberships, memberships.c.account_id == accounts.c.id)
            .where(memberships.c.user_id == user_id, memberships.c.account_id != account_id)
        )
        return [(to_membership(row, "m_"), to_account(row)) for row in rows]

    def for_user(self, user_id: str) -> list[Membership]:
        return self.for_users([user_id]).get(user_id, [])

    def for_users(self, user_ids: Collection[str]) -> dict[str, list[Membership]]:
        result: dict[str, list[Membership]] = defaultdict(list)
        if not user_ids:
            return result
        rows = self.conn.execute(
            sa.select(memberships)
            .where(memberships.c.user_id.in_(set(user_ids)))
            .order_by(memberships.c.created_at, memberships.c.account_id)
        )
        for row in rows:
            result[row.user_id].append(to_membership(row))
        return result

    def members(
        self,
        account_id: str,
        *,
        limit: int,
        after: MemberCursor | None = None,
        search: str | None = None,
        role_key: str | None = None,
    ) -> list[tuple[User, Membership]]:
        """An account's members in the order they joined, keyset-paged by (created_at, user)."""
        query = (
            sa.select(users, *_MEMBERSHIP_COLUMNS)
            .join(memberships, memberships.c.user_id == users.c.id)
            .where(memberships.c.account_id == account_id)
            .order_by(memberships.c.created_at, memberships.c.user_id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(
                sa.tuple_(memberships.c.created_at, memberships.c.user_id) > sa.tuple_(*after)
            )
        if search:
            pattern = like_pattern(search)
            query = query.where(
                sa.or_(
                    users.c.email.like(pattern, "\\"),
                    sa.func.lower(users.c.name).like(pattern, "\\"),
                )
            )
        if role_key:
            query = query.where(memberships.c.role_key == role_key)
        return [(to_user(row), to_membership(row, "m_")) for row in self.conn.execute(query)]

    def count(self, account_id: str) -> int:
        return self.conn.execute(
            sa.select(sa.func.count()).where(memberships.c.account_id == account_id)
        ).scalar_one()

    def active_role_counts(self, account_ids: Collection[str]) -> dict[tuple[str, str], int]:
        """How many members who can act (accepted, not deactivated) hold each role, per account."""
        if not account_ids:
            return {}
        rows = self.conn.execute(
            sa.select(memberships.c.account_id, memberships.c.role_key, sa.func.count())
            .select_from(memberships.join(users, users.c.id == memberships.c.user_id))
            .where(
                memberships.c.account_id.in_(set(account_ids)),
                memberships.c.status == MembershipStatus.ACTIVE.value,
                users.c.status == int(UserStatus.ACTIVATED),
            )
            .group_by(memberships.c.account_id, memberships.c.role_key)
        )
        return {(row[0], row[1]): row[2] for row in rows}

    def count_active_with_roles(self, account_id: str, role_keys: Collection[str]) -> int:
        """Members holding one of `role_keys` who can act: accepted, and not deactivated."""
        return self.conn.execute(
            sa.select(sa.func.count())
            .select_from(memberships.join(users, users.c.id == memberships.c.user_id))
            .where(
                memberships.c.account_id == account_id,
                memberships.c.role_key.in_(set(role_keys)),
                memberships.c.status == MembershipStatus.ACTIVE.value,
                users.c.status == int(UserStatus.ACTIVATED),
            )
        ).scalar_one()

    def first_with_roles(self, account_id: str, role_keys: Collection[str]) -> str | None:
        return self.conn.execute(
            sa.select(memberships.c.user_id)
            .where(
                memberships.c.account_id == account_id, memberships.c.role_key.in_(set(role_keys))
            )
            .order_by(
                # active members first, then the earliest
                sa.case((memberships.c.status == MembershipStatus.ACTIVE.value, 0), else_=1),
                memberships.c.created_at,
            )
            .limit(1)
        ).scalar()

    def users_by_role(self, account_id: str) -> dict[str, list[User]]:
        rows = self.conn.execute(
            sa.select(users, memberships.c.role_key.label("m_role_key"))
            .join(memberships, memberships.c.user_id == users.c.id)
            .where(memberships.c.account_id == account_id)
            .order_by(memberships.c.created_at, users.c.id)
        )
        result: dict[str, list[User]] = defaultdict(list)
        for row in rows:
            result[row.m_role_key].append(to_user(row))
        return result

    def add(self, membership: Membership) -> None:
        self.conn.execute(
            memberships.insert().values(
                user_id=membership.user_id,
                account_id=membership.account_id,
                created_at=membership.created_at,
                **_values(membership),
            )
        )

    def update(self, membership: Membership) -> None:
        self.conn.execute(
            memberships.update()
            .where(
                memberships.c.user_id == membership.user_id,
                memberships.c.account_id == membership.account_id,
            )
            .values(**_values(membership))
        )

    def delete(self, user_id: str, account_id: str) -> None:
        self.delete_many([user_id], account_id)

    def delete_many(self, user_ids: Collection[str], account_id: str) -> None:
        self.conn.execute(
            memberships.delete().where(
                memberships.c.account_id == account_id, memberships.c.user_id.in_(set(user_ids))
            )
        )
