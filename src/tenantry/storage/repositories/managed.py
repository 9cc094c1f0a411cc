"""The network integration's storage: advertisers' profiles and sites, and whole sets of
members with their addresses, read and written in batches.

A network replaces thousands of users in one call, so every method here takes many ids at once
and costs a constant number of statements per 1,000 of them (the bound keeps each statement's
parameters within what SQLite and PostgreSQL accept); writes are executemany calls.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from tenantry.domain.accounts import Account, AccountKind
from tenantry.domain.managed import AdvertiserProfile, ApprovalStatus, Site
from tenantry.domain.memberships import Membership
from tenantry.domain.users import NotificationEmail, User
from tenantry.storage.repositories.accounts import ACCOUNT_COLUMNS, to_account
from tenantry.storage.repositories.base import Repository
from tenantry.storage.repositories.membership_rows import MEMBERSHIP_COLUMNS, to_membership
from tenantry.storage.repositories.users import USER_COLUMNS, to_user, user_values
from tenantry.storage.tables import (
    accounts,
    advertiser_profiles,
    advertiser_sites,
    memberships,
    user_emails,
    users,
)

_CHUNK = 1000

# Rows are read by position, with the column lists and readers of the users, memberships
# and accounts repositories, so every repository reads a row the same way.
_USER, _MEMBERSHIP, _ACCOUNT = USER_COLUMNS, MEMBERSHIP_COLUMNS, ACCOUNT_COLUMNS
_U, _M, _A = len(_USER), len(_MEMBERSHIP), len(_ACCOUNT)


def _chunks(values: Collection[str]) -> Iterator[list[str]]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


class SqlNetworkRepository(Repository):
    # -- advertisers -------------------------------------------------------------------------------

    def profiles(self, account_ids: Collection[str]) -> dict[str, AdvertiserProfile]:
        """Approval status and sites of each advertiser that has them."""
        found: dict[str, AdvertiserProfile] = {}
        for chunk in _chunks(account_ids):
            rows = self.conn.execute(
                sa.select(advertiser_profiles).where(
                    self._in(advertiser_profiles.c.account_id, chunk)
                )
            )
            for row in rows:
                found[row.account_id] = AdvertiserProfile(
                    row.account_id, ApprovalStatus(row.approval_status)
                )
            rows = self.conn.execute(
                sa.select(advertiser_sites)
                .where(self._in(advertiser_sites.c.account_id, chunk))
                .order_by(advertiser_sites.c.account_id, advertiser_sites.c.position)
            )
            for row in rows:
                profile = found.setdefault(row.account_id, AdvertiserProfile(row.account_id))
                profile.sites.append(Site(row.id_from_network, row.name))
        return found

    def save_profile(self, profile: AdvertiserProfile) -> None:
        p = advertiser_profiles.c
        updated = self.conn.execute(
            advertiser_profiles.update()
            .where(p.account_id == profile.account_id)
            .values(approval_status=profile.approval_status.value)
        )
        if not updated.rowcount:
            self.conn.execute(
                advertiser_profiles.insert().values(
                    account_id=profile.account_id, approval_status=profile.approval_status.value
                )
            )
        self.conn.execute(
            advertiser_sites.delete().where(advertiser_sites.c.account_id == profile.account_id)
        )
        if profile.sites:
            self.conn.execute(
                advertiser_sites.insert(),
                [
                    {
                        "account_id": profile.account_id,
                        "position": position,
                        "id_from_network": site.id_from_network,
                        "name": site.name,
                    }
                    for position, site in enumerate(profile.sites)
                ],
            )

    def delete_profile(self, account_id: str) -> None:
        # The account's deletion cascades to these; deleted explicitly as well, so the outcome
        # does not hang on SQLite's foreign-key pragma.
        self.conn.execute(
            advertiser_sites.delete().where(advertiser_sites.c.account_id == account_id)
        )
        self.conn.execute(
            advertiser_profiles.delete().where(advertiser_profiles.c.account_id == account_id)
        )

    def advertisers(self, network_id: str, *, limit: int, after: str | None) -> list[Account]:
        """The network's advertisers that have an `id_from_network`, ordered and paged by it."""
        a = accounts.c
        query = (
            sa.select(*_ACCOUNT)
            .where(
                a.parent_id == network_id,
                a.kind == AccountKind.ADVERTISER.value,
                a.id_from_network.is_not(None),
            )
            .order_by(a.id_from_network)
            .limit(limit)
        )
        if after is not None:
            query = query.where(a.id_from_network > after)
        return [to_account(row) for row in self.conn.execute(query)]

    def find_advertiser_by_name(self, network_id: str, name: str) -> Account | None:
        a = accounts.c
        row = self._one(
            sa.select(*_ACCOUNT)
            .where(
                a.parent_id == network_id,
                a.kind == AccountKind.ADVERTISER.value,
                sa.func.lower(a.name) == name.lower(),
            )
            .limit(1)
        )
        return to_account(row) if row else None

    # -- members -----------------------------------------------------------------------------------

    def members(self, account_ids: Collection[str]) -> dict[str, list[tuple[User, Membership]]]:
        """Every member of each account with their addresses, in joining order."""
        found: dict[str, list[tuple[User, Membership]]] = defaultdict(list)
        rows: list[Any] = []
        for chunk in _chunks(account_ids):
            rows += self.conn.execute(
                sa.select(*_USER, *_MEMBERSHIP)
                .join(memberships, memberships.c.user_id == users.c.id)
                .where(self._in(memberships.c.account_id, chunk))
                .order_by(memberships.c.account_id, memberships.c.created_at, users.c.id)
            ).all()
        emails = self._emails_in(account_ids)
        for row in rows:
            membership = to_membership(row, _U)
            found[membership.account_id].append(
                (to_user(row, emails=emails.get(row[0])), membership)
            )
        return found

    def users_by_network_ids(
        self, network_id: str, ids_from_network: Collection[str]
    ) -> dict[str, User]:
        rows: list[Any] = []
        for chunk in _chunks(ids_from_network):
            rows += self.conn.execute(
                sa.select(*_USER).where(
                    users.c.network_account_id == network_id,
                    self._in(users.c.id_from_network, chunk),
                )
            ).all()
        emails = self._emails({row[0] for row in rows})
        found = (to_user(row, emails=emails.get(row[0])) for row in rows)
        return {user.id_from_network or "": user for user in found}

    def address_owners(self, addresses: Collection[str]) -> dict[str, set[str]]:
        """Who holds each address, as a primary e-mail or as a notification address."""
        owners: dict[str, set[str]] = defaultdict(set)
        for chunk in _chunks(addresses):
            for address, user_id in self.conn.execute(
                sa.select(users.c.email, users.c.id).where(self._in(users.c.email, chunk))
            ):
                owners[address].add(user_id)
            for address, user_id in self.conn.execute(
                sa.select(user_emails.c.address, user_emails.c.user_id).where(
                    self._in(user_emails.c.address, chunk)
                )
            ):
                owners[address].add(user_id)
        return owners

    def placements(self, user_ids: Collection[str]) -> dict[str, list[tuple[Membership, Account]]]:
        """Each user's memberships with their accounts."""
        found: dict[str, list[tuple[Membership, Account]]] = defaultdict(list)
        for chunk in _chunks(user_ids):
            rows = self.conn.execute(
                sa.select(*_MEMBERSHIP, *_ACCOUNT)
                .join(memberships, memberships.c.account_id == accounts.c.id)
                .where(self._in(memberships.c.user_id, chunk))
                .order_by(memberships.c.user_id, memberships.c.created_at)
            )
            for row in rows:
                membership = to_membership(row)
                found[membership.user_id].append((membership, to_account(row, _M)))
        return found

    # -- writing in batches ------------------------------------------------------------------------

    def update_users(self, changed: Sequence[User]) -> None:
        if not changed:
            return
        self.conn.execute(
            users.update().where(users.c.id == sa.bindparam("b_id")),
            [{"b_id": u.id, **user_values(u)} for u in changed],
        )
        for chunk in _chunks([u.id for u in changed]):
            self.conn.execute(user_emails.delete().where(self._in(user_emails.c.user_id, chunk)))
        self._write_emails(changed)

    def delete_users(self, user_ids: Collection[str]) -> None:
        for chunk in _chunks(user_ids):
            self.conn.execute(user_emails.delete().where(self._in(user_emails.c.user_id, chunk)))
            self.conn.execute(users.delete().where(self._in(users.c.id, chunk)))

    def delete_memberships(self, account_id: str, user_ids: Collection[str]) -> None:
        for chunk in _chunks(user_ids):
            self.conn.execute(
                memberships.delete().where(
                    memberships.c.account_id == account_id, self._in(memberships.c.user_id, chunk)
                )
            )

    # -- helpers -----------------------------------------------------------------------------------

    def _in(self, column: sa.ColumnElement[Any], values: list[str]) -> sa.ColumnElement[bool]:
        """`column IN values`; on PostgreSQL one array parameter (`= ANY(...)`) instead of one
        placeholder per value, which the driver would otherwise parse one by one."""
        if self.conn.dialect.name == "postgresql":
            array = sa.bindparam(None, values, type_=postgresql.ARRAY(sa.String()))
            return column == sa.any_(array)
        return column.in_(values)

    def _write_emails(self, written: Sequence[User]) -> None:
        rows = [
            {
                "user_id": u.id,
                "address": e.address,
                "use_for_notifications": e.use_for_notifications,
                "position": i,
            }
            for u in written
            for i, e in enumerate(u.notification_emails)
        ]
        if rows:
            self.conn.execute(user_emails.insert(), rows)

    def _emails_in(self, account_ids: Collection[str]) -> dict[str, list[NotificationEmail]]:
        """The addresses of every member of the accounts."""
        found: dict[str, list[NotificationEmail]] = defaultdict(list)
        e = user_emails.c
        seen: set[tuple[str, str]] = set()  # a member of several of the accounts comes again
        for chunk in _chunks(account_ids):
            rows = self.conn.execute(
                sa.select(e.user_id, e.address, e.use_for_notifications)
                .join(memberships, memberships.c.user_id == e.user_id)
                .where(self._in(memberships.c.account_id, chunk))
                .order_by(e.user_id, e.position)
            )
            for user_id, address, use in rows:
                if (user_id, address) not in seen:
                    seen.add((user_id, address))
                    found[user_id].append(NotificationEmail(address, use))
        return found

    def _emails(self, user_ids: Collection[str]) -> dict[str, list[NotificationEmail]]:
        found: dict[str, list[NotificationEmail]] = defaultdict(list)
        for chunk in _chunks(user_ids):
            rows = self.conn.execute(
                sa.select(
                    user_emails.c.user_id,
                    user_emails.c.address,
                    user_emails.c.use_for_notifications,
                )
                .where(self._in(user_emails.c.user_id, chunk))
                .order_by(user_emails.c.user_id, user_emails.c.position)
            )
            for user_id, address, use in rows:
                found[user_id].append(NotificationEmail(address, use))
        return found
