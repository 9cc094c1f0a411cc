"""What an account's security policy reads and writes beyond the account itself: the members a
new policy finds breaking it (a page of them and their number, in one statement per kind of
breach), and the console sessions a shorter session lifetime cuts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tenantry.domain.account_policy import Breach
from tenantry.domain.memberships import MembershipStatus
from tenantry.storage.passkey_tables import passkeys
from tenantry.storage.repositories.base import Repository
from tenantry.storage.tables import memberships, second_factors, sessions, users

# A second factor is a confirmed authenticator app or any passkey (as signing in counts it).
_confirmed_factor = sa.or_(
    sa.select(second_factors.c.user_id)
    .where(second_factors.c.user_id == users.c.id, second_factors.c.confirmed_at.is_not(None))
    .exists(),
    sa.select(passkeys.c.id).where(passkeys.c.user_id == users.c.id).exists(),
)
_elsewhere = memberships.alias("elsewhere")
_in_other_accounts = (
    sa.select(_elsewhere.c.user_id)
    .where(
        _elsewhere.c.user_id == users.c.id,
        _elsewhere.c.account_id != sa.bindparam("account_id"),
    )
    .exists()
)
_SESSION_CAP = (
    sessions.update()
    .where(sessions.c.id == sa.bindparam("of_id"))
    .values(expires_at=sa.bindparam("new_expiry"))
)


def _domain_pattern(domain: str) -> str:
    escaped = domain.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%@{escaped}"


class SqlAccountPolicyRepository(Repository):
    def members_breaking(
        self, account_id: str, breach: Breach, *, domains: Sequence[str] = (), limit: int
    ) -> tuple[list[tuple[str, str]], int]:
        """The first `limit` members (user id, address; by address) of the account, pending
        ones included, who break the policy in the way `breach` says, and how many there are
        in all. One statement."""
        condition: sa.ColumnElement[bool]
        if breach is Breach.WITHOUT_TWO_FACTOR:
            condition = sa.and_(users.c.can_login_via_platform, ~_confirmed_factor)
        elif breach is Breach.IN_OTHER_ACCOUNTS:
            condition = _in_other_accounts
        elif breach is Breach.OUTSIDE_ALLOWED_DOMAINS:
            allowed = [users.c.email.like(_domain_pattern(d), escape="\\") for d in domains]
            condition = ~sa.or_(sa.false(), *allowed)
        else:
            condition = users.c.can_login_via_platform
        statement = (
            sa.select(users.c.id, users.c.email, sa.func.count().over())
            .select_from(users.join(memberships, memberships.c.user_id == users.c.id))
            .where(memberships.c.account_id == sa.bindparam("account_id"), condition)
            .order_by(users.c.email)
            .limit(limit)
        )
        rows = self.conn.execute(statement, {"account_id": account_id}).all()
        total = rows[0][2] if rows else 0
        return [(row[0], row[1]) for row in rows], total

    def cap_sessions(
        self,
        lifetime: timedelta,
        now: datetime,
        *,
        account_id: str | None = None,
        user_id: str | None = None,
    ) -> int:
        """End the live sessions of the account's active members (or of one user) at most
        `lifetime` after they began; how many were shortened. Two statements."""
        whose: sa.ColumnElement[bool]
        if user_id is not None:
            whose = sessions.c.user_id == user_id
        else:
            whose = sessions.c.user_id.in_(
                sa.select(memberships.c.user_id).where(
                    memberships.c.account_id == account_id,
                    memberships.c.status == MembershipStatus.ACTIVE.value,
                )
            )
        live = self.conn.execute(
            sa.select(sessions.c.id, sessions.c.created_at, sessions.c.expires_at).where(
                whose, sessions.c.revoked_at.is_(None), sessions.c.expires_at > now
            )
        ).all()
        capped: list[dict[str, Any]] = [
            {"of_id": session_id, "new_expiry": max(now, created + lifetime)}
            for session_id, created, expires in live
            if created + lifetime < expires
        ]
        if capped:
            self.conn.execute(_SESSION_CAP, capped)
        return len(capped)
