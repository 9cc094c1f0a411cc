"""Sessions, password resets, second factors and recovery codes.

Single use is enforced by the statements themselves (`... WHERE used_at IS NULL`, a TOTP step
only moving forward), so two requests racing with the same code or link cannot both win.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tenantry.domain.auth import PasswordReset, SecondFactor, Session
from tenantry.storage.repositories.base import Repository, columns
from tenantry.storage.tables import password_resets, recovery_codes, second_factors, sessions


def _fields(model: type[Any]) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(model))


_SESSION_FIELDS = _fields(Session)
_SESSION_BY_KEY = sa.select(*columns(sessions, _SESSION_FIELDS)).where(
    sessions.c.key == sa.bindparam("key")
)
_SESSION_INSERT = sessions.insert().returning(sessions.c.id)
_SESSION_TOUCH = (
    sessions.update()
    .where(sessions.c.key == sa.bindparam("of_key"), sessions.c.revoked_at.is_(None))
    .values(last_seen_at=sa.bindparam("now"))
)
_SESSION_REVOKE = (
    sessions.update()
    .where(sessions.c.key == sa.bindparam("of_key"), sessions.c.revoked_at.is_(None))
    .values(revoked_at=sa.bindparam("now"))
)
# In UPDATE statements, bound names other than the columns': those are reserved for SET.
_REVOKE_SESSIONS = (
    sessions.update()
    .where(sessions.c.user_id == sa.bindparam("of_user"), sessions.c.revoked_at.is_(None))
    .values(revoked_at=sa.bindparam("now"))
)
_DELETE_OLD_SESSIONS = sessions.delete().where(sessions.c.expires_at < sa.bindparam("before"))

_RESET_FIELDS = _fields(PasswordReset)
_RESET_BY_HASH = sa.select(*columns(password_resets, _RESET_FIELDS)).where(
    password_resets.c.token_hash == sa.bindparam("token_hash")
)
_RESET_INSERT = password_resets.insert().returning(password_resets.c.id)
_RESET_USE = (
    password_resets.update()
    .where(password_resets.c.id == sa.bindparam("where_id"), password_resets.c.used_at.is_(None))
    .values(used_at=sa.bindparam("now"))
)
_RESETS_CLOSE = (
    password_resets.update()
    .where(
        password_resets.c.user_id == sa.bindparam("of_user"), password_resets.c.used_at.is_(None)
    )
    .values(used_at=sa.bindparam("now"))
)
_RESET_DELIVERED = (
    password_resets.update()
    .where(password_resets.c.token_hash == sa.bindparam("of_token"))
    .values(delivered=sa.bindparam("is_delivered"))
)
_RESET_REISSUE = (
    password_resets.update()
    .where(password_resets.c.id == sa.bindparam("where_id"))
    .values(token_hash=sa.bindparam("new_hash"))
)

_FACTOR_FIELDS = _fields(SecondFactor)
_FACTOR_BY_USER = sa.select(*columns(second_factors, _FACTOR_FIELDS)).where(
    second_factors.c.user_id == sa.bindparam("user_id")
)
_FACTOR_INSERT = second_factors.insert()
_FACTOR_DELETE = second_factors.delete().where(second_factors.c.user_id == sa.bindparam("user_id"))
_FACTOR_CONFIRM = (
    second_factors.update()
    .where(second_factors.c.user_id == sa.bindparam("of_user"))
    .values(confirmed_at=sa.bindparam("at"))
)
_FACTOR_ADVANCE = (
    second_factors.update()
    .where(
        second_factors.c.user_id == sa.bindparam("of_user"),
        sa.or_(
            second_factors.c.last_used_step.is_(None),
            second_factors.c.last_used_step < sa.bindparam("step"),
        ),
    )
    .values(last_used_step=sa.bindparam("step"))
)

_CODES_DELETE = recovery_codes.delete().where(recovery_codes.c.user_id == sa.bindparam("user_id"))
_CODES_INSERT = recovery_codes.insert()
_CODE_USE = (
    recovery_codes.update()
    .where(
        recovery_codes.c.user_id == sa.bindparam("of_user"),
        recovery_codes.c.code_hash == sa.bindparam("of_hash"),
        recovery_codes.c.used_at.is_(None),
    )
    .values(used_at=sa.bindparam("now"))
)
_CODES_UNUSED = (
    sa.select(sa.func.count())
    .select_from(recovery_codes)
    .where(recovery_codes.c.user_id == sa.bindparam("user_id"), recovery_codes.c.used_at.is_(None))
)


class SqlAuthRepository(Repository):
    # -- sessions

    def add_session(self, session: Session) -> Session:
        values = _values(session, _SESSION_FIELDS)
        new_id = self.conn.execute(_SESSION_INSERT, values).scalar_one()
        return dataclasses.replace(session, id=new_id)

    def find_session(self, key: str) -> Session | None:
        row = self._one(_SESSION_BY_KEY, {"key": key})
        return _session(row) if row else None

    def touch_session(self, key: str, now: datetime) -> None:
        self.conn.execute(_SESSION_TOUCH, {"of_key": key, "now": now})

    def revoke_session(self, key: str, now: datetime) -> bool:
        """End one session; False when it had already ended."""
        return self.conn.execute(_SESSION_REVOKE, {"of_key": key, "now": now}).rowcount == 1

    def revoke_sessions(self, user_id: str, now: datetime) -> int:
        return self.conn.execute(_REVOKE_SESSIONS, {"of_user": user_id, "now": now}).rowcount

    def delete_sessions_expired_before(self, before: datetime) -> int:
        return self.conn.execute(_DELETE_OLD_SESSIONS, {"before": before}).rowcount

    # -- password resets

    def add_password_reset(self, reset: PasswordReset) -> PasswordReset:
        new_id = self.conn.execute(_RESET_INSERT, _values(reset, _RESET_FIELDS)).scalar_one()
        return dataclasses.replace(reset, id=new_id)

    def find_password_reset(self, token_hash: str) -> PasswordReset | None:
        row = self._one(_RESET_BY_HASH, {"token_hash": token_hash})
        return _reset(row) if row else None

    def use_password_reset(self, reset_id: int, now: datetime) -> bool:
        """Mark the reset used; False when it already was (another request won)."""
        result = self.conn.execute(_RESET_USE, {"where_id": reset_id, "now": now})
        return result.rowcount == 1

    def close_password_resets(self, user_id: str, now: datetime) -> int:
        return self.conn.execute(_RESETS_CLOSE, {"of_user": user_id, "now": now}).rowcount

    def set_password_reset_delivered(self, token_hash: str, delivered: bool) -> None:
        self.conn.execute(_RESET_DELIVERED, {"of_token": token_hash, "is_delivered": delivered})

    def reissue_password_reset(self, reset_id: int, token_hash: str) -> PasswordReset | None:
        self.conn.execute(_RESET_REISSUE, {"where_id": reset_id, "new_hash": token_hash})
        return self.find_password_reset(token_hash)

    # -- second factors

    def find_second_factor(self, user_id: str) -> SecondFactor | None:
        row = self._one(_FACTOR_BY_USER, {"user_id": user_id})
        return _factor(row) if row else None

    def replace_second_factor(self, factor: SecondFactor) -> None:
        self.conn.execute(_FACTOR_DELETE, {"user_id": factor.user_id})
        self.conn.execute(_FACTOR_INSERT, _values(factor, _FACTOR_FIELDS))

    def confirm_second_factor(self, user_id: str, confirmed_at: datetime) -> None:
        self.conn.execute(_FACTOR_CONFIRM, {"of_user": user_id, "at": confirmed_at})

    def advance_totp_step(self, user_id: str, step: int) -> bool:
        """Record `step` as used; False when it (or a later one) already was: a replay."""
        result = self.conn.execute(_FACTOR_ADVANCE, {"of_user": user_id, "step": step})
        return result.rowcount == 1

    def delete_second_factor(self, user_id: str) -> None:
        self.conn.execute(_FACTOR_DELETE, {"user_id": user_id})
        self.conn.execute(_CODES_DELETE, {"user_id": user_id})

    # -- recovery codes

    def replace_recovery_codes(self, user_id: str, code_hashes: Sequence[str]) -> None:
        self.conn.execute(_CODES_DELETE, {"user_id": user_id})
        if code_hashes:
            rows = [{"user_id": user_id, "code_hash": h, "used_at": None} for h in code_hashes]
            self.conn.execute(_CODES_INSERT, rows)

    def use_recovery_code(self, user_id: str, code_hash: str, now: datetime) -> bool:
        """Spend an unused recovery code; False when there is no such unused code."""
        parameters = {"of_user": user_id, "of_hash": code_hash, "now": now}
        return self.conn.execute(_CODE_USE, parameters).rowcount == 1

    def unused_recovery_codes(self, user_id: str) -> int:
        count: int = self.conn.execute(_CODES_UNUSED, {"user_id": user_id}).scalar_one()
        return count


# Rows are selected in the order of the dataclasses' fields, so they construct them by position.
def _session(row: Any) -> Session:
    return Session(*row)


def _reset(row: Any) -> PasswordReset:
    return PasswordReset(*row)


def _factor(row: Any) -> SecondFactor:
    return SecondFactor(*row)


def _values(item: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(item, name) for name in fields if name != "id"}
