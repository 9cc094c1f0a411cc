"""Passkeys and the challenges sessions are given to sign.

A challenge is taken by deleting it, and a passkey's use recorded only where its counter still
holds what was read, so two requests racing with the same answer cannot both win.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tenantry.domain.passkeys import ChallengePurpose, Passkey, PasskeyChallenge
from tenantry.storage.passkey_tables import passkey_challenges, passkeys
from tenantry.storage.repositories.base import Repository, columns
from tenantry.storage.tables import second_factors

_FIELDS = (
    "id",
    "user_id",
    "credential_id",
    "public_key",
    "sign_count",
    "name",
    "transports",
    "created_at",
    "last_used_at",
)
_SELECT = sa.select(*columns(passkeys, _FIELDS))
_FOR_USER = _SELECT.where(passkeys.c.user_id == sa.bindparam("user_id")).order_by(
    passkeys.c.created_at, passkeys.c.id
)
_BY_CREDENTIAL = _SELECT.where(passkeys.c.credential_id == sa.bindparam("credential_id"))
_INSERT = passkeys.insert().returning(passkeys.c.id)
_DELETE = passkeys.delete().where(
    passkeys.c.user_id == sa.bindparam("user_id"), passkeys.c.id == sa.bindparam("passkey_id")
)
_DELETE_FOR_USER = passkeys.delete().where(passkeys.c.user_id == sa.bindparam("user_id"))
_ADVANCE = (
    passkeys.update()
    .where(
        passkeys.c.id == sa.bindparam("where_id"),
        passkeys.c.sign_count == sa.bindparam("old_count"),
    )
    .values(sign_count=sa.bindparam("new_count"), last_used_at=sa.bindparam("used_at"))
)
_HAS_SECOND_FACTOR = sa.select(
    sa.or_(
        sa.exists().where(
            second_factors.c.user_id == sa.bindparam("user_id"),
            second_factors.c.confirmed_at.is_not(None),
        ),
        sa.exists().where(passkeys.c.user_id == sa.bindparam("user_id")),
    )
)

_CHALLENGE_FIELDS = ("session_key", "purpose", "challenge", "expires_at")
_CHALLENGE = sa.select(*columns(passkey_challenges, _CHALLENGE_FIELDS)).where(
    passkey_challenges.c.session_key == sa.bindparam("session_key"),
    passkey_challenges.c.purpose == sa.bindparam("purpose"),
)
_CHALLENGE_DELETE = passkey_challenges.delete().where(
    passkey_challenges.c.session_key == sa.bindparam("session_key"),
    passkey_challenges.c.purpose == sa.bindparam("purpose"),
)
_CHALLENGE_USE = _CHALLENGE_DELETE.where(
    passkey_challenges.c.challenge == sa.bindparam("challenge")
)
_CHALLENGE_INSERT = passkey_challenges.insert()


class SqlPasskeyRepository(Repository):
    def has_second_factor(self, user_id: str) -> bool:
        return bool(self.conn.execute(_HAS_SECOND_FACTOR, {"user_id": user_id}).scalar_one())

    def for_user(self, user_id: str) -> list[Passkey]:
        return [_passkey(row) for row in self.conn.execute(_FOR_USER, {"user_id": user_id})]

    def find_by_credential(self, credential_id: str) -> Passkey | None:
        row = self._one(_BY_CREDENTIAL, {"credential_id": credential_id})
        return _passkey(row) if row else None

    def add(self, passkey: Passkey) -> Passkey:
        values = {name: getattr(passkey, name) for name in _FIELDS if name != "id"}
        passkey.id = self.conn.execute(_INSERT, values).scalar_one()
        return passkey

    def delete(self, user_id: str, passkey_id: int) -> bool:
        parameters = {"user_id": user_id, "passkey_id": passkey_id}
        return self.conn.execute(_DELETE, parameters).rowcount == 1

    def delete_for_user(self, user_id: str) -> int:
        return self.conn.execute(_DELETE_FOR_USER, {"user_id": user_id}).rowcount

    def advance_sign_count(
        self, passkey_id: int, old_count: int, new_count: int, used_at: datetime
    ) -> bool:
        parameters = {
            "where_id": passkey_id,
            "old_count": old_count,
            "new_count": new_count,
            "used_at": used_at,
        }
        return self.conn.execute(_ADVANCE, parameters).rowcount == 1

    def put_challenge(self, challenge: PasskeyChallenge) -> None:
        key = {"session_key": challenge.session_key, "purpose": challenge.purpose.value}
        self.conn.execute(_CHALLENGE_DELETE, key)
        self.conn.execute(
            _CHALLENGE_INSERT,
            key | {"challenge": challenge.challenge, "expires_at": challenge.expires_at},
        )

    def take_challenge(
        self, session_key: str, purpose: ChallengePurpose
    ) -> PasskeyChallenge | None:
        key = {"session_key": session_key, "purpose": purpose.value}
        row: Any = self._one(_CHALLENGE, key)
        if row is None:
            return None
        # Whoever deletes it has it: a second request with the same challenge finds none.
        if self.conn.execute(_CHALLENGE_USE, key | {"challenge": row[2]}).rowcount != 1:
            return None
        return PasskeyChallenge(row[0], ChallengePurpose(row[1]), row[2], row[3])


def _passkey(row: Any) -> Passkey:
    values = dict(zip(_FIELDS, row, strict=True))
    values["public_key"] = bytes(values["public_key"])
    values["transports"] = list(values["transports"] or [])
    return Passkey(**values)
