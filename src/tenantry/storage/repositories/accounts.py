from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa

from tenantry.domain.accounts import Account, AccountKind, AccountLink, AccountStatus
from tenantry.domain.errors import ErrorCode, NotFound
from tenantry.storage.repositories.base import Repository, columns, like_pattern
from tenantry.storage.tables import accounts, custom_roles

MAX_DEPTH = 8  # partner → agency → advertiser needs 3; the bound guards against cycles

ACCOUNT_FIELDS = (
    "id",
    "name",
    "kind",
    "parent_id",
    "status",
    "can_partner_manage",
    "event_enrichment",
    "id_from_network",
    "multi_account_users",
    "sso_enabled",
    "two_factor_required",
    "owner_user_id",
    "invitation_ttl_days",
    "custom_data",
    "created_at",
    "sso_required",
    "allowed_email_domains",
    "session_lifetime_minutes",
)
ACCOUNT_COLUMNS = columns(accounts, ACCOUNT_FIELDS)
ACCOUNT_WIDTH = _WIDTH = len(ACCOUNT_FIELDS)
_KINDS = {kind.value: kind for kind in AccountKind}
_STATUSES = {int(status): status for status in AccountStatus}


def to_account(row: Sequence[Any], at: int = 0) -> Account:
    """An account from `ACCOUNT_COLUMNS`, selected in that order from position `at` of `row`."""
    (
        account_id,
        name,
        kind,
        parent_id,
        status,
        can_partner_manage,
        event_enrichment,
        id_from_network,
        multi_account_users,
        sso_enabled,
        two_factor_required,
        owner_user_id,
        invitation_ttl_days,
        custom_data,
        created_at,
        sso_required,
        allowed_email_domains,
        session_lifetime_minutes,
    ) = row[at : at + _WIDTH]
    return Account(
        id=account_id,
        name=name,
        kind=_KINDS[kind],
        parent_id=parent_id,
        status=_STATUSES[status],
        can_partner_manage=can_partner_manage,
        event_enrichment=event_enrichment,
        id_from_network=id_from_network,
        multi_account_users=multi_account_users,
        sso_enabled=sso_enabled,
        two_factor_required=two_factor_required,
        owner_user_id=owner_user_id,
        invitation_ttl_days=invitation_ttl_days,
        custom_data=dict(custom_data or {}),
        created_at=created_at,
        sso_required=sso_required,
        allowed_email_domains=tuple(allowed_email_domains or ()),
        session_lifetime_minutes=session_lifetime_minutes,
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
        "sso_required": account.sso_required,
        "allowed_email_domains": list(account.allowed_email_domains) or None,
        "session_lifetime_minutes": account.session_lifetime_minutes,
    }


def _chains(start: sa.ColumnElement[bool], *, own_roles: bool = False) -> sa.Select[Any]:
    """The accounts matching `start` and their ancestors, as (account…, origin, depth) rows
    ordered by origin then depth: one recursive query. With `own_roles`, each row ends with
    whether that account has roles of its own (custom roles)."""
    base = sa.select(
        *ACCOUNT_COLUMNS, accounts.c.id.label("origin"), sa.literal(0).label("depth")
    ).where(start)
    tree = base.cte("chain", recursive=True)
    parent = accounts.alias("parent")
    tree = tree.union_all(
        sa.select(
            *columns(parent, ACCOUNT_FIELDS), tree.c.origin, (tree.c.depth + 1).label("depth")
        )
        .join(tree, parent.c.id == tree.c.parent_id)
        .where(tree.c.depth < MAX_DEPTH)
    )
    query = sa.select(tree)
    if own_roles:
        own = sa.exists().where(custom_roles.c.account_id == tree.c.id)
        query = query.add_columns(own.label("own_roles"))
    return query.order_by(tree.c.origin, tree.c.depth)


def _subtree() -> sa.Select[Any]:
    link = (accounts.c.id, accounts.c.parent_id, accounts.c.can_partner_manage)
    base = sa.select(*link, sa.literal(0).label("depth")).where(accounts.c.id == sa.bindparam("id"))
    tree = base.cte("subtree", recursive=True)
    tree = tree.union_all(
        sa.select(*link, (tree.c.depth + 1).label("depth"))
        .join(tree, accounts.c.parent_id == tree.c.id)
        .where(tree.c.depth < MAX_DEPTH)
    )
    return sa.select(tree.c.id, tree.c.parent_id, tree.c.can_partner_manage).order_by(tree.c.depth)


_SELECT = sa.select(*ACCOUNT_COLUMNS)
_FIND = _SELECT.where(accounts.c.id == sa.bindparam("id"))
_FIND_MANY = _SELECT.where(accounts.c.id.in_(sa.bindparam("ids", expanding=True)))
_OWNED_BY = sa.select(accounts.c.id).where(accounts.c.owner_user_id == sa.bindparam("user_id"))
CHAIN = _chains(accounts.c.id == sa.bindparam("id"))
"""An account (`id`) and its ancestors, nearest first, as (account…, origin, depth) rows."""
_CHAIN_WITH_OWN_ROLES = _chains(accounts.c.id == sa.bindparam("id"), own_roles=True)
_CHAINS = _chains(accounts.c.id.in_(sa.bindparam("ids", expanding=True)))
_SUBTREE = _subtree()


_BY_NETWORK_ID = _SELECT.where(
    accounts.c.parent_id == sa.bindparam("parent_id"),
    accounts.c.id_from_network == sa.bindparam("id_from_network"),
)
_FIRST_ROOT = (
    _SELECT.where(accounts.c.parent_id.is_(None), accounts.c.kind == AccountKind.PARTNER.value)
    .order_by(accounts.c.created_at, accounts.c.id)
    .limit(1)
)
_HAS_CHILDREN = (
    sa.select(accounts.c.id).where(accounts.c.parent_id == sa.bindparam("parent_id")).limit(1)
)
_INSERT = accounts.insert()
# A bound name other than a column's: those are reserved for the SET clause.
_UPDATE = accounts.update().where(accounts.c.id == sa.bindparam("where_id"))
_DELETE = accounts.delete().where(accounts.c.id == sa.bindparam("id"))
_LOCK = sa.select(accounts.c.id).where(accounts.c.id == sa.bindparam("id")).with_for_update()


class SqlAccountRepository(Repository):
    def get(self, account_id: str) -> Account:
        account = self.find(account_id)
        if account is None:
            raise NotFound(ErrorCode.ACCOUNT_NOT_FOUND, field="account_id", account_id=account_id)
        return account

    def lock(self, account_id: str) -> None:
        """Hold the account's row until the transaction ends, so that transactions weighing
        its members against each other (the last-admin rule) take turns. SQLite needs no
        lock: its writing transactions take turns from their start (BEGIN IMMEDIATE)."""
        if self.conn.dialect.name != "sqlite":
            self.conn.execute(_LOCK, {"id": account_id})

    def find(self, account_id: str) -> Account | None:
        row = self._one(_FIND, {"id": account_id})
        return to_account(row) if row else None

    def find_many(self, account_ids: Collection[str]) -> dict[str, Account]:
        if not account_ids:
            return {}
        rows = self.conn.execute(_FIND_MANY, {"ids": list(set(account_ids))})
        return {row[0]: to_account(row) for row in rows}

    def chain(self, account_id: str) -> list[Account]:
        """The account and its ancestors, nearest first, in one recursive query."""
        return [to_account(row) for row in self._rows(CHAIN, {"id": account_id})]

    def chain_with_own_roles(self, account_id: str) -> tuple[list[Account], bool]:
        """`chain`, and whether the account has roles of its own (custom roles), in the same
        statement: a caller that lists the roles it offers need not ask when it has none."""
        rows = self._rows(_CHAIN_WITH_OWN_ROLES, {"id": account_id})
        return [to_account(row) for row in rows], bool(rows and rows[0][-1])

    def chains(
        self, account_ids: Collection[str], *, known: Sequence[Account] = ()
    ) -> dict[str, list[Account]]:
        """`chain` for many accounts in one recursive query; with `known` (accounts read in
        this unit already, such as another account's chain), the accounts' own rows in one
        plain query instead, each chain completed from them where its parent is known (a
        member's other account under the same partner), and only the rest read recursively.
        On PostgreSQL the plain read costs the server a third less than the recursive one,
        and no ancestor's row is read and converted twice. `known` must have been read in
        this unit of work, as the chains it completes decide rights: a stale or made-up
        account there would stand for the stored one."""
        if not account_ids:
            return {}
        ids = list(set(account_ids))
        if not known:
            return self._chains(ids)
        found = {row[0]: to_account(row) for row in self._rows(_FIND_MANY, {"ids": ids})}
        by_id = {account.id: account for account in known} | found
        result: dict[str, list[Account]] = {}
        unknown: list[str] = []
        for account_id, account in found.items():
            chain = [account]
            # As deep as the recursive query reads (MAX_DEPTH parents), which bounds a cycle.
            while chain[-1].parent_id is not None and len(chain) <= MAX_DEPTH:
                parent = by_id.get(chain[-1].parent_id)
                if parent is None:
                    unknown.append(account_id)
                    break
                chain.append(parent)
            else:
                result[account_id] = chain
        return (result | self._chains(unknown)) if unknown else result

    def _chains(self, account_ids: list[str]) -> dict[str, list[Account]]:
        result: dict[str, list[Account]] = {}
        for row in self._rows(_CHAINS, {"ids": account_ids}):
            result.setdefault(row[_WIDTH], []).append(to_account(row))
        return result

    def subtree(self, account_id: str) -> list[AccountLink]:
        """The account and every account below it, parents before children."""
        rows = self.conn.execute(_SUBTREE, {"id": account_id})
        return [AccountLink(*row) for row in rows]

    def find_by_network_id(self, parent_id: str, id_from_network: str) -> Account | None:
        row = self._one(
            _BY_NETWORK_ID, {"parent_id": parent_id, "id_from_network": id_from_network}
        )
        return to_account(row) if row else None

    def first_root(self) -> Account | None:
        row = self._one(_FIRST_ROOT)
        return to_account(row) if row else None

    def owned_by(self, user_id: str) -> list[str]:
        """The ids of the accounts `user_id` owns."""
        return list(self.conn.execute(_OWNED_BY, {"user_id": user_id}).scalars())

    def has_children(self, account_id: str) -> bool:
        return self._one(_HAS_CHILDREN, {"parent_id": account_id}) is not None

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
        statement = _page(
            within is not None, parent_id is not None, kind is not None, bool(search), bool(after)
        )
        parameters = {
            "limit": limit,
            "within": None if within is None else list(set(within)),
            "parent_id": parent_id,
            "kind": None if kind is None else kind.value,
            "pattern": like_pattern(search) if search else None,
            "after": after,
        }
        return [to_account(row) for row in self.conn.execute(statement, parameters).all()]

    def add(self, account: Account) -> None:
        values = _values(account)
        values["id"], values["created_at"] = account.id, account.created_at
        self.conn.execute(_INSERT, values)

    def update(self, account: Account) -> None:
        values = _values(account)
        values["where_id"] = account.id
        self.conn.execute(_UPDATE, values)

    def delete(self, account_id: str) -> None:
        self.conn.execute(_DELETE, {"id": account_id})


@functools.cache
def _page(within: bool, parent: bool, kind: bool, search: bool, after: bool) -> sa.Select[Any]:
    """The page query for one combination of filters, built once."""
    query = _SELECT.order_by(accounts.c.id).limit(sa.bindparam("limit", type_=sa.Integer))
    if within:
        query = query.where(accounts.c.id.in_(sa.bindparam("within", expanding=True)))
    if parent:
        query = query.where(accounts.c.parent_id == sa.bindparam("parent_id"))
    if kind:
        query = query.where(accounts.c.kind == sa.bindparam("kind"))
    if search:
        pattern = sa.bindparam("pattern", type_=sa.String)
        query = query.where(sa.func.lower(accounts.c.name).like(pattern, "\\"))
    if after:
        query = query.where(accounts.c.id > sa.bindparam("after"))
    return query
