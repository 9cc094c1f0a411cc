"""Who holds each role of an account, bounded however many do."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tenantry.domain.users import User
from tenantry.services.ports import RoleHolders
from tenantry.storage.repositories.users import USER_COLUMNS, USER_WIDTH, to_user
from tenantry.storage.tables import memberships, users


def _first_by_role(*columns: sa.ColumnElement[Any]) -> sa.Select[Any]:
    """`columns` of the first holders of each role (by membership age), then the role and its
    count: one query that hands back at most `limit` rows per role however many hold it."""
    ranked = (
        sa.select(
            *columns,
            memberships.c.role_key,
            sa.func.count().over(partition_by=memberships.c.role_key).label("holders"),
            sa.func.row_number()
            .over(
                partition_by=memberships.c.role_key,
                # Memberships made in the same second come by address.
                order_by=(memberships.c.created_at, users.c.email),
            )
            .label("rank"),
        )
        .join(memberships, memberships.c.user_id == users.c.id)
        .where(memberships.c.account_id == sa.bindparam("account_id"))
        .subquery()
    )
    return (
        sa.select(*ranked.c)
        .where(ranked.c.rank <= sa.bindparam("limit", type_=sa.Integer))
        .order_by(ranked.c.role_key, ranked.c.rank)
    )


_HOLDERS_BY_ROLE = _first_by_role(*USER_COLUMNS)
_IDS_BY_ROLE = _first_by_role(users.c.id)


def holders_by_role(
    conn: sa.Connection, account_id: str, *, limit: int
) -> dict[str, RoleHolders[User]]:
    """Each role held in the account: how many hold it, and the first `limit` of them."""
    result: dict[str, RoleHolders[User]] = {}
    for row in conn.execute(_HOLDERS_BY_ROLE, {"account_id": account_id, "limit": limit}):
        key, count = row[USER_WIDTH], row[USER_WIDTH + 1]
        held = result.get(key) or result.setdefault(key, RoleHolders(count, []))
        held.first.append(to_user(row))
    return result


def member_ids_by_role(
    conn: sa.Connection, account_id: str, *, limit: int
) -> dict[str, RoleHolders[str]]:
    """`holders_by_role`, by user id."""
    result: dict[str, RoleHolders[str]] = {}
    for user_id, key, count, _ in conn.execute(
        _IDS_BY_ROLE, {"account_id": account_id, "limit": limit}
    ):
        held = result.get(key) or result.setdefault(key, RoleHolders(count, []))
        held.first.append(user_id)
    return result
