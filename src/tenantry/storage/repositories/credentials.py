from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa

from tenantry.domain.credentials import AccessToken, ApiAccount, ApiToken
from tenantry.domain.errors import NotFound
from tenantry.storage.repositories.base import Repository
from tenantry.storage.tables import access_tokens, api_accounts, api_tokens

T = TypeVar("T", ApiAccount, ApiToken, AccessToken)


class _DataclassTable(Repository):
    """Rows that map one to one onto a domain dataclass with an integer id."""

    table: sa.Table
    model: type[Any]

    def _to(self, row: Any) -> Any:
        return self.model(**{f.name: getattr(row, f.name) for f in dataclasses.fields(self.model)})

    def _add(self, item: T) -> T:
        values = dataclasses.asdict(item)
        values.pop("id")
        new_id = self.conn.execute(
            self.table.insert().values(**values).returning(self.table.c.id)
        ).scalar_one()
        return dataclasses.replace(item, id=new_id)

    def _get(self, item_id: int) -> Any:
        row = self._one(sa.select(self.table).where(self.table.c.id == item_id))
        if row is None:
            raise NotFound(field="id")
        return self._to(row)

    def _find_by(self, column: str, value: str) -> Any:
        row = self._one(sa.select(self.table).where(self.table.c[column] == value))
        return self._to(row) if row else None

    def _for_account(self, account_id: str) -> list[Any]:
        rows = self.conn.execute(
            sa.select(self.table)
            .where(self.table.c.account_id == account_id)
            .order_by(self.table.c.id)
        )
        return [self._to(row) for row in rows]

    def _update(self, item: Any) -> None:
        values = dataclasses.asdict(item)
        item_id = values.pop("id")
        self.conn.execute(self.table.update().where(self.table.c.id == item_id).values(**values))


class SqlApiAccountRepository(_DataclassTable):
    table, model = api_accounts, ApiAccount

    def add(self, api_account: ApiAccount) -> ApiAccount:
        return self._add(api_account)

    def get(self, api_account_id: int) -> ApiAccount:
        result: ApiAccount = self._get(api_account_id)
        return result

    def find_by_client_id(self, client_id: str) -> ApiAccount | None:
        result: ApiAccount | None = self._find_by("client_id", client_id)
        return result

    def for_account(self, account_id: str) -> list[ApiAccount]:
        return self._for_account(account_id)

    def update(self, api_account: ApiAccount) -> None:
        self._update(api_account)


class SqlApiTokenRepository(_DataclassTable):
    table, model = api_tokens, ApiToken

    def add(self, token: ApiToken) -> ApiToken:
        return self._add(token)

    def get(self, token_id: int) -> ApiToken:
        result: ApiToken = self._get(token_id)
        return result

    def find_by_key(self, key: str) -> ApiToken | None:
        result: ApiToken | None = self._find_by("key", key)
        return result

    def for_account(self, account_id: str) -> list[ApiToken]:
        return self._for_account(account_id)

    def update(self, token: ApiToken) -> None:
        self._update(token)


class SqlAccessTokenRepository(_DataclassTable):
    table, model = access_tokens, AccessToken

    def add(self, token: AccessToken) -> AccessToken:
        return self._add(token)

    def find_by_key(self, key: str) -> AccessToken | None:
        result: AccessToken | None = self._find_by("key", key)
        return result

    def delete_expired(self, now: datetime) -> int:
        result = self.conn.execute(access_tokens.delete().where(access_tokens.c.expires_at < now))
        return result.rowcount
