from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa

from tenantry.domain.errors import ErrorCode, NotFound
from tenantry.domain.users import NotificationEmail, User, UserStatus
from tenantry.storage.repositories.base import Repository
from tenantry.storage.tables import user_emails, users


def to_user(row: Any, emails: list[NotificationEmail] | None = None) -> User:
    return User(
        id=row.id,
        email=row.email,
        name=row.name,
        first_name=row.first_name,
        last_name=row.last_name,
        department=row.department,
        contact_country_code=row.contact_country_code,
        contact_phone_number=row.contact_phone_number,
        status=UserStatus(row.status),
        last_login_at=row.last_login_at,
        expires_on=row.expires_on,
        can_login_via_platform=row.can_login_via_platform,
        network_account_id=row.network_account_id,
        id_from_network=row.id_from_network,
        notifications=dict(row.notifications or {}),
        notification_emails=emails or [],
        password_hash=row.password_hash,
        oauth_refresh_token=row.oauth_refresh_token,
        created_at=row.created_at,
    )


def _values(user: User) -> dict[str, Any]:
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
    }


class SqlUserRepository(Repository):
    def get(self, user_id: str) -> User:
        user = self.find(user_id)
        if user is None:
            raise NotFound(ErrorCode.USER_NOT_FOUND, field="user_id", user_id=user_id)
        return user

    def find(self, user_id: str) -> User | None:
        return self._first(users.c.id == user_id)

    def find_by_email(self, email: str) -> User | None:
        return self._first(users.c.email == email)

    def find_by_network_id(self, network_account_id: str, id_from_network: str) -> User | None:
        return self._first(
            sa.and_(
                users.c.network_account_id == network_account_id,
                users.c.id_from_network == id_from_network,
            )
        )

    def find_by_emails(self, emails: Collection[str]) -> dict[str, User]:
        return {u.email: u for u in self._many(users.c.email.in_(set(emails)))} if emails else {}

    def find_many(self, user_ids: Collection[str]) -> dict[str, User]:
        return {u.id: u for u in self._many(users.c.id.in_(set(user_ids)))} if user_ids else {}

    def add(self, user: User) -> None:
        self.conn.execute(
            users.insert().values(id=user.id, created_at=user.created_at, **_values(user))
        )
        self._write_emails(user)

    def update(self, user: User) -> None:
        self.conn.execute(users.update().where(users.c.id == user.id).values(**_values(user)))
        self.conn.execute(user_emails.delete().where(user_emails.c.user_id == user.id))
        self._write_emails(user)

    def delete(self, user_id: str) -> None:
        self.conn.execute(users.delete().where(users.c.id == user_id))

    def _write_emails(self, user: User) -> None:
        if user.notification_emails:
            self.conn.execute(
                user_emails.insert(),
                [
                    {
                        "user_id": user.id,
                        "address": e.address,
                        "use_for_notifications": e.use_for_notifications,
                        "position": i,
                    }
                    for i, e in enumerate(user.notification_emails)
                ],
            )

    def _first(self, condition: sa.ColumnElement[bool]) -> User | None:
        found = self._many(condition)
        return found[0] if found else None

    def _many(self, condition: sa.ColumnElement[bool]) -> list[User]:
        rows = self.conn.execute(sa.select(users).where(condition)).all()
        if not rows:
            return []
        emails = self._emails([row.id for row in rows])
        return [to_user(row, emails.get(row.id)) for row in rows]

    def _emails(self, user_ids: list[str]) -> dict[str, list[NotificationEmail]]:
        rows = self.conn.execute(
            sa.select(user_emails)
            .where(user_emails.c.user_id.in_(user_ids))
            .order_by(user_emails.c.user_id, user_emails.c.position)
        )
        result: dict[str, list[NotificationEmail]] = defaultdict(list)
        for row in rows:
            result[row.user_id].append(NotificationEmail(row.address, row.use_for_notifications))
        return result
