from __future__ import annotations

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa

from tenantry.domain.accounts import Account, AccountKind, AccountLink, AccountStatus
from tenantry.domain.errors import ErrorCode, NotFound
from tenantry.storage.repositories.base import Repository, like_pattern
from tenantry.storage.tables import accounts

MAX_DEPTH = 8  # partner → agency → advertiser needs 3; the bound guards against cycles


def to_account(row: Any) -> Account:
    return Account(
        id=row.id,
        name=row.name,
        kind=AccountKind(row.kind),
        parent_id=row.parent_id,
        status=AccountStatus(row.status),
        can_partner_manage=row.can_partner_manage,
        event_enrichment=row.event_enrichment,
        id_from_network=row.id_from_network,
        multi_account_users=row.multi_account_users,
        sso_enabled=row.sso_enabled,
        two_factor_required=row.two_factor_required,
        owner_user_id=row.owner_user_id,
        invitation_ttl_days=row.invitation_ttl_days,
        custom_data=dict(row.custom_data or {}),
        created_at=row.created_at,
    )


def _values(account: Account) -> dict[str, Any]:
    return {
        "name": account.name,
        "kind": account.kind.value,
        "parent_id": account.parent_id,
        "status": int(account.status),
        "can_partner_manage": account.can_partner_manage,
        "event_enrichment": account.event_enrichment,
        "id_from_network": account.id_from_network,
        "multi_account_users": account.multi_account_users,
        "sso_enabled": account.sso_enabled,
        "two_factor_required": account.two_factor_required,
        "owner_user_id": account.owner_user_id,
        "invitation_ttl_days": account.invitation_ttl_days,
        "custom_data": account.custom_data,
    }


class SqlAccountRepository(Repository):
    def get(self, account_id: str) -> Account:
        account = self.find(account_id)
        if account is None:
            raise NotFound(ErrorCode.ACCOUNT_NOT_FOUND, field="account_id", account_id=account_id)
        return account

    def find(self, account_id: str) -> Account | None:
        row = self._one(sa.select(accounts).where(accounts.c.id == account_id))
        return to_account(row) if row else None

    def find_many(self, account_ids: Collection[str]) -> dict[str, Account]:
        if not account_ids:
            return {}
        rows = self.conn.execute(sa.select(accounts).where(accounts.c.id.in_(set(account_ids))))
        return {row.id: to_account(row) for row in rows}

    def chain(self, account_id: str) -> list[Account]:
        """The account and its ancestors, nearest first, in one recursive query."""
        return self.chains([account_id]).get(account_id, [])

    def chains(self, account_ids: Collection[str]) -> dict[str, list[Account]]:
        """`chain` for many accounts in one recursive query."""
        if not account_ids:
            return {}
        base = sa.select(
            accounts, accounts.c.id.label("origin"), sa.literal(0).label("depth")
        ).where(accounts.c.id.in_(set(account_ids)))
        tree = base.cte("chain", recursive=True)
        parent = accounts.alias("parent")
        tree = tree.union_all(
            sa.select(parent, tree.c.origin, (tree.c.depth + 1).label("depth"))
            .join(tree, parent.c.id == tree.c.parent_id)
            .where(tree.c.depth < MAX_DEPTH)
        )
        result: dict[str, list[Account]] = {}
        for row in self.conn.execute(sa.select(tree).order_by(tree.c.origin, tree.c.depth)):
            result.setdefault(row.origin, []).append(to_account(row))
        return result

    def subtree(self, account_id: str) -> list[AccountLink]:
        """The account and every account below it, parents before children."""
        base = sa.select(
            accounts.c.id,
            accounts.c.parent_id,
            accounts.c.can_partner_manage,
            sa.literal(0).label("depth"),
        ).where(accounts.c.id == account_id)
        tree = base.cte("subtree", recursive=True)
        tree = tree.union_all(
            sa.select(
                accounts.c.id,
                accounts.c.parent_id,
                accounts.c.can_partner_manage,
                (tree.c.depth + 1).label("depth"),
            )
            .join(tree, accounts.c.parent_id == tree.c.id)
            .where(tree.c.depth < MAX_DEPTH)
        )
        rows = self.conn.execute(sa.select(tree).order_by(tree.c.depth))
        return [AccountLink(row.id, row.parent_id, row.can_partner_manage) for row in rows]

    def find_by_network_id(self, parent_id: str, id_from_network: str) -> Account | None:
        row = self._one(
            sa.select(accounts).where(
                accounts.c.parent_id == parent_id, accounts.c.id_from_network == id_from_network
            )
        )
        return to_account(row) if row else None

    def first_root(self) -> Account | None:
        row = self._one(
            sa.select(accounts)
            .where(accounts.c.parent_id.is_(None), accounts.c.kind == AccountKind.PARTNER.value)
            .order_by(accounts.c.created_at, accounts.c.id)
            .limit(1)
        )
        return to_account(row) if row else None

    def has_children(self, account_id: str) -> bool:
        row = self._one(sa.select(accounts.c.id).where(accounts.c.parent_id == account_id).limit(1))
        return row is not None

    def page(
        self,
        *,
        within: Collection[str] | None,
        parent_id: str | None,
        search: str | None,
        kind: AccountKind | None = None,
        limit: int,
        after: str | None,
    ) -> list[Account]:
        query = sa.select(accounts).order_by(accounts.c.id).limit(limit)
        if within is not None:
            query = query.where(accounts.c.id.in_(set(within)))
        if parent_id is not None:
            query = query.where(accounts.c.parent_id == parent_id)
        if kind is not None:
            query = query.where(accounts.c.kind == kind.value)
        if search:
            query = query.where(sa.func.lower(accounts.c.name).like(like_pattern(search), "\\"))
        if after:
            query = query.where(accounts.c.id > after)
        return [to_account(row) for row in self.conn.execute(query)]

    def add(self, account: Account) -> None:
        self.conn.execute(
            accounts.insert().values(
                id=account.id, created_at=account.created_at, **_values(account)
            )
        )

    def update(self, account: Account) -> None:
        self.conn.execute(
            accounts.update().where(accounts.c.id == account.id).values(**_values(account))
        )

    def delete(self, account_id: str) -> None:
        self.conn.execute(accounts.delete().where(accounts.c.id == account_id))
