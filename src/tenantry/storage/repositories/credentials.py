from __future__ import annotations

import dataclasses
import functools
from collections.abc import Collection
from datetime import datetime
from typing import Any, ClassVar, TypeVar

import sqlalchemy as sa

from tenantry.domain.credentials import REVOKED_LISTED, AccessToken, ApiAccount, ApiToken
from tenantry.domain.errors import NotFound
from tenantry.domain.memberships import MembershipStatus
from tenantry.domain.users import UserStatus
from tenantry.storage.repositories.base import Repository, columns
from tenantry.storage.tables import (
    access_tokens,
    api_accounts,
    api_tokens,
    memberships,
    user_emails,
    users,
)

T = TypeVar("T", ApiAccount, ApiToken, AccessToken)

AUTHENTICATION_TABLES = (
    api_tokens.name,
    access_tokens.name,
    api_accounts.name,
    users.name,
    user_emails.name,
)
"""The tables authenticating a token reads (a token by key here, its user with the user's
other addresses, or its API account): what `services.credential_cache` keeps, and so what a
commit must have written to clear it."""

AUTHENTICATION_INSERTS_UNSEEN = (users.name,)
"""Of those, the tables whose new rows authenticating can never have read: a token's user is
read by the key the token holds, a user's id is a fresh UUID, never one a deleted user had, and
a token cannot outlive its user (a cascading key). Not so for the others: a token is looked up
by a key a new row may hold (and one read as missing is kept too), a user's addresses by the
user, whom a new row may join, and an API account's integer id is taken again on SQLite once
the highest one is deleted. Adding users, twenty at a time in a bulk add, so leaves the cache
be."""


class _DataclassTable(Repository):
    """Rows that map one to one onto a domain dataclass with an integer id.

    Each subclass's statements are built once, when the class is defined; rows are selected
    in the order of the dataclass's fields, so they construct it positionally.
    """

    table: ClassVar[sa.Table]
    model: ClassVar[type[Any]]
    _fields: ClassVar[tuple[str, ...]]
    _select: ClassVar[sa.Select[Any]]
    _by_id: ClassVar[sa.Select[Any]]
    _insert: ClassVar[sa.Insert]
    _update: ClassVar[sa.Update]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._fields = tuple(f.name for f in dataclasses.fields(cls.model))
        cls._select = sa.select(*columns(cls.table, cls._fields))
        cls._by_id = cls._select.where(cls.table.c.id == sa.bindparam("id"))
        cls._insert = cls.table.insert().returning(cls.table.c.id)
        # A bound name other than a column's: those are reserved for the SET clause.
        cls._update = cls.table.update().where(cls.table.c.id == sa.bindparam("where_id"))

    def _to(self, row: Any) -> Any:
        return self.model(*row)

    def _values(self, item: Any) -> dict[str, Any]:
        return {name: getattr(item, name) for name in self._fields if name != "id"}

    def _add(self, item: T) -> T:
        new_id = self.conn.execute(self._insert, self._values(item)).scalar_one()
        return dataclasses.replace(item, id=new_id)

    def _get(self, item_id: int) -> Any:
        row = self._one(self._by_id, {"id": item_id})
        if row is None:
            raise NotFound(field="id")
        return self._to(row)

    def _find_by(self, column: str, value: str) -> Any:
        row = self._one(_by_column(self._select, self.table, column), {"value": value})
        return self._to(row) if row else None

    def _for_account(self, account_id: str) -> list[Any]:
        statement = _for_account(self._select, self.table)
        rows = self.conn.execute(statement, {"account_id": account_id, "revoked": REVOKED_LISTED})
        return [self._to(row) for row in rows]

    def _count_open(self, account_id: str) -> int:
        statement = _count_open(self.table)
        return int(self.conn.execute(statement, {"account_id": account_id}).scalar_one())

    def _count_open_own(self, account_id: str, role_keys: Collection[str], now: datetime) -> int:
        values = {"account_id": account_id, "role_keys": list(role_keys), "now": now}
        return int(self.conn.execute(_count_open_own(self.table), values).scalar_one())

    def _update_item(self, item: Any) -> None:
        values = self._values(item)
        values["where_id"] = item.id
        self.conn.execute(self._update, values)


@functools.cache
def _by_column(select: sa.Select[Any], table: sa.Table, column: str) -> sa.Select[Any]:
    return select.where(table.c[column] == sa.bindparam("value"))


@functools.cache
def _for_account(select: sa.Select[Any], table: sa.Table) -> sa.Select[Any]:
    """An account's open credentials and its `revoked` most recently revoked, oldest first."""
    in_account = table.c.account_id == sa.bindparam("account_id")
    recently_revoked = (
        sa.select(table.c.id)
        .where(in_account, table.c.revoked_at.is_not(None))
        .order_by(table.c.revoked_at.desc(), table.c.id.desc())
        .limit(sa.bindparam("revoked", type_=sa.Integer))
    )
    return select.where(
        in_account, sa.or_(table.c.revoked_at.is_(None), table.c.id.in_(recently_revoked))
    ).order_by(table.c.id)


@functools.cache
def _count_open_own(table: sa.Table) -> sa.Select[Any]:
    """Open credentials at home in the account, made there (not by a member of an account
    above), with one of `role_keys`."""
    account: sa.BindParameter[str] = sa.bindparam("account_id")
    conditions = [
        table.c.account_id == account,
        table.c.revoked_at.is_(None),
        sa.or_(table.c.minted_in_account_id.is_(None), table.c.minted_in_account_id == account),
        table.c.role_key.in_(sa.bindparam("role_keys", expanding=True)),
    ]
    if "expires_at" in table.c:
        expires = table.c.expires_at
        conditions.append(sa.or_(expires.is_(None), expires > sa.bindparam("now")))
    if "user_id" in table.c:
        # A token acts as its user, never above the user's own role: it counts only while
        # that user is an active member with one of the roles (and an active user).
        conditions.append(
            sa.exists().where(
                memberships.c.user_id == table.c.user_id,
                memberships.c.account_id == account,
                memberships.c.status == MembershipStatus.ACTIVE.value,
                memberships.c.role_key.in_(sa.bindparam("role_keys", expanding=True)),
                users.c.id == table.c.user_id,
                users.c.status == UserStatus.ACTIVATED.value,
            )
        )
    return sa.select(sa.func.count()).select_from(table).where(*conditions)


@functools.cache
def _count_open(table: sa.Table) -> sa.Select[Any]:
    return (
        sa.select(sa.func.count())
        .select_from(table)
        .where(table.c.account_id == sa.bindparam("account_id"), table.c.revoked_at.is_(None))
    )


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

    def count_open(self, account_id: str) -> int:
        return self._count_open(account_id)

    def count_open_own(self, account_id: str, role_keys: Collection[str], now: datetime) -> int:
        return self._count_open_own(account_id, role_keys, now)

    def update(self, api_account: ApiAccount) -> None:
        self._update_item(api_account)

    def touch(self, api_account_id: int, at: datetime) -> None:
        """Set its last use alone (what authenticating read may be a second old)."""
        self.conn.execute(_TOUCH_API_ACCOUNT, {"of": api_account_id, "at": at})


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

    def count_open(self, account_id: str) -> int:
        return self._count_open(account_id)

    def count_open_own(self, account_id: str, role_keys: Collection[str], now: datetime) -> int:
        return self._count_open_own(account_id, role_keys, now)

    def update(self, token: ApiToken) -> None:
        self._update_item(token)

    def touch(self, key: str, at: datetime) -> None:
        """Set its last use alone (what authenticating read may be a second old)."""
        self.conn.execute(_TOUCH_API_TOKEN, {"of": key, "at": at})

    def revoke_for_user(self, user_id: str, now: datetime) -> int:
        """Revoke every live token that acts as `user_id`; how many there were."""
        result = self.conn.execute(_REVOKE_FOR_USER, {"of_user": user_id, "now": now})
        return int(result.rowcount)


_REVOKE_FOR_USER = (
    api_tokens.update()
    .where(api_tokens.c.user_id == sa.bindparam("of_user"), api_tokens.c.revoked_at.is_(None))
    .values(revoked_at=sa.bindparam("now"))
)
_TOUCH_API_TOKEN = (
    api_tokens.update()
    .where(api_tokens.c.key == sa.bindparam("of"))
    .values(last_used_at=sa.bindparam("at"))
)
_TOUCH_API_ACCOUNT = (
    api_accounts.update()
    .where(api_accounts.c.id == sa.bindparam("of"))
    .values(last_used_at=sa.bindparam("at"))
)
_DELETE_EXPIRED = access_tokens.delete().where(access_tokens.c.expires_at < sa.bindparam("now"))


class SqlAccessTokenRepository(_DataclassTable):
    table, model = access_tokens, AccessToken

    def add(self, token: AccessToken) -> AccessToken:
        return self._add(token)

    def find_by_key(self, key: str) -> AccessToken | None:
        result: AccessToken | None = self._find_by("key", key)
        return result

    def delete_expired(self, now: datetime) -> int:
        return self.conn.execute(_DELETE_EXPIRED, {"now": now}).rowcount
