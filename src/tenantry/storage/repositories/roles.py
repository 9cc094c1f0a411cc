from __future__ import annotations

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa

from tenantry.domain.roles import AccessLevel, Role
from tenantry.storage.repositories.base import Repository
from tenantry.storage.tables import apps, custom_roles


def to_role(row: Any) -> Role:
    return Role(
        key=row.key,
        display_name=row.display_name,
        capabilities={
            section: {name: AccessLevel[level.upper()] for name, level in caps.items()}
            for section, caps in row.capabilities.items()
        },
        unrestricted_scope=row.unrestricted_scope,
        account_id=row.account_id,
    )


def _capabilities(role: Role) -> dict[str, dict[str, str]]:
    return {
        section: {name: level.label for name, level in caps.items()}
        for section, caps in role.capabilities.items()
    }


_ROLES = sa.select(custom_roles)
_FOR_ACCOUNT = _ROLES.where(custom_roles.c.account_id == sa.bindparam("account_id")).order_by(
    custom_roles.c.key
)
_FOR_ACCOUNTS = _ROLES.where(
    custom_roles.c.account_id.in_(sa.bindparam("account_ids", expanding=True))
).order_by(custom_roles.c.account_id, custom_roles.c.key)
_FIND = _ROLES.where(
    custom_roles.c.account_id == sa.bindparam("account_id"),
    custom_roles.c.key == sa.bindparam("key"),
)
_INSERT = custom_roles.insert().values(created_at=sa.func.current_timestamp())
# Bound names other than the columns': those are reserved for the SET clause.
_UPDATE = custom_roles.update().where(
    custom_roles.c.account_id == sa.bindparam("where_account_id"),
    custom_roles.c.key == sa.bindparam("where_key"),
)
_DELETE = custom_roles.delete().where(
    custom_roles.c.account_id == sa.bindparam("account_id"),
    custom_roles.c.key == sa.bindparam("key"),
)
_APPS = (
    sa.select(apps.c.app_id, apps.c.name)
    .where(apps.c.account_id == sa.bindparam("account_id"))
    .order_by(apps.c.app_id)
)
_INSERT_APP = apps.insert().values(created_at=sa.func.current_timestamp())
_DELETE_APP = apps.delete().where(
    apps.c.account_id == sa.bindparam("account_id"), apps.c.app_id == sa.bindparam("app_id")
)


class SqlCustomRoleRepository(Repository):
    def for_account(self, account_id: str) -> list[Role]:
        rows = self.conn.execute(_FOR_ACCOUNT, {"account_id": account_id})
        return [to_role(row) for row in rows]

    def for_accounts(self, account_ids: Collection[str]) -> dict[str, list[Role]]:
        result: dict[str, list[Role]] = {account_id: [] for account_id in account_ids}
        if not account_ids:
            return result
        rows = self.conn.execute(_FOR_ACCOUNTS, {"account_ids": list(set(account_ids))})
        for row in rows:
            result[row.account_id].append(to_role(row))
        return result

    def find(self, account_id: str, key: str) -> Role | None:
        row = self._one(_FIND, {"account_id": account_id, "key": key})
        return to_role(row) if row else None

    def add(self, role: Role) -> None:
        self.conn.execute(
            _INSERT,
            {
                "account_id": role.account_id,
                "key": role.key,
                "display_name": role.display_name,
                "capabilities": _capabilities(role),
                "unrestricted_scope": role.unrestricted_scope,
            },
        )

    def update(self, role: Role) -> None:
        self.conn.execute(
            _UPDATE,
            {
                "where_account_id": role.account_id,
                "where_key": role.key,
                "display_name": role.display_name,
                "capabilities": _capabilities(role),
                "unrestricted_scope": role.unrestricted_scope,
            },
        )

    def delete(self, account_id: str, key: str) -> None:
        self.conn.execute(_DELETE, {"account_id": account_id, "key": key})


class SqlAppRepository(Repository):
    def for_account(self, account_id: str) -> dict[str, str]:
        rows = self.conn.execute(_APPS, {"account_id": account_id})
        return {row[0]: row[1] for row in rows}

    def add(self, account_id: str, app_id: str, name: str) -> None:
        self.conn.execute(_INSERT_APP, {"account_id": account_id, "app_id": app_id, "name": name})

    def delete(self, account_id: str, app_id: str) -> None:
        self.conn.execute(_DELETE_APP, {"account_id": account_id, "app_id": app_id})
