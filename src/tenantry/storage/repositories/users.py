from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from tenantry.domain.errors import ErrorCode, NotFound
from tenantry.domain.users import NotificationEmail, User, UserStatus
from tenantry.services.member_query import ListedUser
from tenantry.storage.memory import RememberedUsers
from tenantry.storage.repositories.base import Repository, columns
from tenantry.storage.repositories.inserts import insert_rows
from tenantry.storage.tables import user_emails, users

USER_FIELDS = (
    "id",
    "email",
    "name",
    "first_name",
    "last_name",
    "department",
    "contact_country_code",
    "contact_phone_number",
    "status",
    "last_login_at",
    "expires_on",
    "can_login_via_platform",
    "network_account_id",
    "id_from_network",
    "notifications",
    "oauth_refresh_token",
    "password_hash",
    "created_at",
    "home_account_id",
    "email_verified_at",
)
USER_COLUMNS = columns(users, USER_FIELDS)
USER_WIDTH = len(USER_FIELDS)
_STATUSES = {int(status): status for status in UserStatus}

LISTED_USER_FIELDS = (
    "id",
    "email",
    "status",
    "expires_on",
    "name",
    "first_name",
    "last_name",
    "department",
    "last_login_at",
)  # in `ListedUser`'s order
LISTED_USER_COLUMNS = columns(users, LISTED_USER_FIELDS)
LISTED_USER_WIDTH = len(LISTED_USER_FIELDS)


def to_listed_user(row: Sequence[Any]) -> ListedUser:
    """A listed user from `LISTED_USER_COLUMNS`, selected in that order first in `row`."""
    user_id, email, status, *rest = row[:LISTED_USER_WIDTH]
    return ListedUser(user_id, email, _STATUSES[status], *rest)


def to_user(row: Sequence[Any], at: int = 0, emails: list[NotificationEmail] | None = None) -> User:
    """A user from `USER_COLUMNS`, selected in that order from position `at` of `row`."""
    (
        user_id,
        email,
        name,
        first_name,
        last_name,
        department,
        contact_country_code,
        contact_phone_number,
        status,
        last_login_at,
        expires_on,
        can_login_via_platform,
        network_account_id,
        id_from_network,
        notifications,
        oauth_refresh_token,
        password_hash,
        created_at,
        home_account_id,
        email_verified_at,
    ) = row[at : at + USER_WIDTH]
    return User(
        id=user_id,
        email=email,
        name=name,
        first_name=first_name,
        last_name=last_name,
        department=department,
        contact_country_code=contact_country_code,
        contact_phone_number=contact_phone_number,
        status=_STATUSES[status],
        last_login_at=last_login_at,
        expires_on=expires_on,
        can_login_via_platform=can_login_via_platform,
        network_account_id=network_account_id,
        id_from_network=id_from_network,
        notifications=dict(notifications or {}),
        notification_emails=emails or [],
        password_hash=password_hash,
        oauth_refresh_token=oauth_refresh_token,
        created_at=created_at,
        home_account_id=home_account_id,
        email_verified_at=email_verified_at,
    )


def user_values(user: User) -> dict[str, Any]:
    """A user's columns (all but id and created_at), as every write of users stores them."""
    return {
        "email": user.email,
        "name": user.name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "department": user.department,
        "contact_country_code": user.contact_country_code,
        "contact_phone_number": user.contact_phone_number,
        "status": int(user.status),
        "last_login_at": user.last_login_at,
        "expires_on": user.expires_on,
        "can_login_via_platform": user.can_login_via_platform,
        "network_account_id": user.network_account_id,
        "id_from_network": user.id_from_network,
        "notifications": user.notifications,
        "oauth_refresh_token": user.oauth_refresh_token,
        "password_hash": user.password_hash,
        "home_account_id": user.home_account_id,
        "email_verified_at": user.email_verified_at,
    }


def _new_row(user: User) -> dict[str, Any]:
    values = user_values(user)
    values["id"], values["created_at"] = user.id, user.created_at
    return values


def _email_rows(user: User) -> list[dict[str, Any]]:
    return [
        {
            "user_id": user.id,
            "address": e.address,
            "use_for_notifications": e.use_for_notifications,
            "position": i,
        }
        for i, e in enumerate(user.notification_emails)
    ]


# Most users have no extra e-mail addresses: a correlated EXISTS on the indexed user_id tells
# which ones do, so the addresses are read (in a second query) only when there are some.
_SELECT = sa.select(
    *USER_COLUMNS, sa.exists().where(user_emails.c.user_id == users.c.id).label("has_emails")
)
_FIND = _SELECT.where(users.c.id == sa.bindparam("id"))
_BY_EMAIL = _SELECT.where(users.c.email == sa.bindparam("email"))
_BY_NETWORK_ID = _SELECT.where(
    users.c.network_account_id == sa.bindparam("network_account_id"),
    users.c.id_from_network == sa.bindparam("id_from_network"),
)
_BY_EMAILS = _SELECT.where(users.c.email.in_(sa.bindparam("emails", expanding=True)))
_BY_IDS = _SELECT.where(users.c.id.in_(sa.bindparam("ids", expanding=True)))
_EMAILS = (
    sa.select(user_emails.c.user_id, user_emails.c.address, user_emails.c.use_for_notifications)
    .where(user_emails.c.user_id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(user_emails.c.user_id, user_emails.c.position)
)
_INSERT_EMAILS = user_emails.insert()
# A bound name other than a column's: those are reserved for the SET clause.
_UPDATE = users.update().where(users.c.id == sa.bindparam("where_id"))
_DELETE = users.delete().where(users.c.id == sa.bindparam("id"))
_DELETE_EMAILS = user_emails.delete().where(user_emails.c.user_id == sa.bindparam("user_id"))


class SqlUserRepository(Repository):
    """Users; the addresses read ahead with `prefetch` are answered from memory for the rest
    of the transaction, kept current by this repository's own writes."""

    def __init__(self, connection: sa.Connection) -> None:
        super().__init__(connection)
        self.remembered = RememberedUsers()

    def prefetch(self, emails: Collection[str]) -> dict[str, User]:
        """The users behind `emails` (normalized addresses), read in one statement at most and
        remembered, as the users the transaction adds later are."""
        missing = self.remembered.missing(emails)
        if missing:
            found = self.find_by_emails(missing)
            for email in missing:
                self.remembered.put(email, found.get(email))
        users = (self.remembered.get(email) for email in set(emails))
        return {user.email: user for user in users if user is not None}

    def get(self, user_id: str) -> User:
        user = self.find(user_id)
        if user is None:
            raise NotFound(ErrorCode.USER_NOT_FOUND, field="user_id", user_id=user_id)
        return user

    def find(self, user_id: str) -> User | None:
        return self._first(_FIND, {"id": user_id})

    def find_by_email(self, email: str) -> User | None:
        if self.remembered.knows(email):
            return self.remembered.get(email)
        return self._first(_BY_EMAIL, {"email": email})

    def find_by_network_id(self, network_account_id: str, id_from_network: str) -> User | None:
        return self._first(
            _BY_NETWORK_ID,
            {"network_account_id": network_account_id, "id_from_network": id_from_network},
        )

    def find_by_emails(self, emails: Collection[str]) -> dict[str, User]:
        if not emails:
            return {}
        return {u.email: u for u in self._many(_BY_EMAILS, {"emails": list(set(emails))})}

    def find_many(self, user_ids: Collection[str]) -> dict[str, User]:
        if not user_ids:
            return {}
        return {u.id: u for u in self._many(_BY_IDS, {"ids": list(set(user_ids))})}

    def add(self, user: User) -> None:
        self.add_many([user])

    def add_many(self, new_users: Sequence[User]) -> None:
        """`add` for many users: one statement for the users, one for their e-mail addresses."""
        if not new_users:
            return
        insert_rows(self.conn, users, [_new_row(user) for user in new_users])
        insert_rows(self.conn, user_emails, [row for u in new_users for row in _email_rows(u)])
        for user in new_users:
            self.remembered.written(user)

    def update(self, user: User) -> None:
        values = user_values(user)
        values["where_id"] = user.id
        self.conn.execute(_UPDATE, values)
        self.conn.execute(_DELETE_EMAILS, {"user_id": user.id})
        if user.notification_emails:
            self.conn.execute(_INSERT_EMAILS, _email_rows(user))
        self.remembered.written(user)

    def delete(self, user_id: str) -> None:
        self.conn.execute(_DELETE, {"id": user_id})
        self.remembered.deleted(user_id)

    def _first(self, statement: sa.Select[Any], parameters: Mapping[str, Any]) -> User | None:
        found = self._many(statement, parameters)
        return found[0] if found else None

    def _many(self, statement: sa.Select[Any], parameters: Mapping[str, Any]) -> list[User]:
        rows = self._rows(statement, parameters)
        with_emails = [row[0] for row in rows if row[USER_WIDTH]]
        if not with_emails:
            return [to_user(row) for row in rows]
        emails = self._emails(with_emails)
        return [to_user(row, emails=emails.get(row[0])) for row in rows]

    def _emails(self, user_ids: list[str]) -> dict[str, list[NotificationEmail]]:
        result: dict[str, list[NotificationEmail]] = defaultdict(list)
        for user_id, address, use_for_notifications in self._rows(_EMAILS, {"ids": user_ids}):
            result[user_id].append(NotificationEmail(address, use_for_notifications))
        return result
