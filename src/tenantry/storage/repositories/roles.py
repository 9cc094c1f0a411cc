from __future__ import annotations

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa

from tenantry.domain.roles import AccessLevel, FaceNames, Role
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
        names=FaceNames(),
        account_id=row.account_id,
    )


def _capabilities(role: Role) -> dict[str, dict[str, str]]:
    return {
        section: {name: level.label for name, level in caps.items()}
        for section, caps in role.capabilities.items()
    }


class SqlCustomRoleRepository(Repository):
    def for_account(self, account_id: str) -> list[Role]:
        rows = self.conn.execute(
            sa.select(custom_roles)
            .where(custom_roles.c.account_id == account_id)
            .order_by(custom_roles.c.key)
        )
        return [to_role(row) for row in rows]

    def for_accounts(self, account_ids: Collection[str]) -> dict[str, list[Role]]:
        result: dict[str, list[Role]] = {account_id: [] for account_id in account_ids}
        if not account_ids:
            return result
        rows = self.conn.execute(
            sa.select(custom_roles)
            .where(custom_roles.c.account_id.in_(set(account_ids)))
            .order_by(custom_roles.c.account_id, custom_roles.c.key)
        )
        for row in rows:
            result[row.account_id].append(to_role(row))
        return result

    def find(self, account_id: str, key: str) -> Role | None:
        row = self._one(
            sa.select(custom_roles).where(
                custom_roles.c.account_id == account_id, custom_roles.c.key == key
            )
        )
        return to_role(row) if row else None

    def add(self, role: Role) -> None:
        self.conn.execute(
            custom_roles.insert().values(
                account_id=role.account_id,
                key=role.key,
                display_name=role.display_name,
                capabilities=_capabilities(role),
                unrestricted_scope=role.unrestricted_scope,
                created_at=sa.func.current_timestamp(),
            )
        )

    def update(self, role: Role) -> None:
        self.conn.execute(
            custom_roles.update()
            .where(custom_roles.c.account_id == role.account_id, custom_roles.c.key == role.key)
            .values(
                display_name=role.display_name,
                capabilities=_capabilities(role),
                unrestricted_scope=role.unrestricted_scope,
            )
        )

    def delete(self, account_id: str, key: str) -> None:
        self.conn.execute(
            custom_roles.delete().where(
                custom_roles.c.account_id == account_id, custom_roles.c.key == key
            )
        )


class SqlAppRepository(Repository):
    def for_account(self, account_id: str) -> dict[str, str]:
        rows = self.conn.execute(
            sa.select(apps.c.app_id, apps.c.name)
            .where(apps.c.account_id == account_id)
            .order_by(apps.c.app_id)
        )
        return {row.app_id: row.name for row in rows}

    def add(self, account_id: str, app_id: str, name: str) -> None:
        self.conn.execute(
            apps.insert().values(
                account_id=account_id,
                app_id=app_id,
                name=name,
                created_at=sa.func.current_timestamp(),
            )
        )

    def delete(self, account_id: str, app_id: str) -> None:
        self.conn.execute(
            apps.delete().where(apps.c.account_id == account_id, apps.c.app_id == app_id)
        )
