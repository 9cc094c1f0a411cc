from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tenantry.domain.invitations import Invitation
from tenantry.storage.repositories.base import Repository, columns
from tenantry.storage.repositories.inserts import insert_rows
from tenantry.storage.tables import invitations

_FIELDS = tuple(f.name for f in dataclasses.fields(Invitation))
_SELECT = sa.select(*columns(invitations, _FIELDS))
_BY_TOKEN_HASH = _SELECT.where(invitations.c.token_hash == sa.bindparam("token_hash"))
_BY_MAIL_TOKEN_HASH = _SELECT.where(invitations.c.mail_token_hash == sa.bindparam("token_hash"))
_OPEN = (invitations.c.accepted_at.is_(None), invitations.c.revoked_at.is_(None))
_OPEN_FOR_ACCOUNT = _SELECT.where(
    invitations.c.user_id == sa.bindparam("user_id"),
    invitations.c.account_id == sa.bindparam("account_id"),
    *_OPEN,
)
_OPEN_WITHOUT_ACCOUNT = _SELECT.where(
    invitations.c.user_id == sa.bindparam("user_id"), invitations.c.account_id.is_(None), *_OPEN
)
_OPEN_FOR_USER = _SELECT.where(invitations.c.user_id == sa.bindparam("user_id"), *_OPEN)
_OPEN_FOR_USERS = _SELECT.where(
    invitations.c.user_id.in_(sa.bindparam("user_ids", expanding=True)), *_OPEN
)
_REVOKE_OPEN = (
    invitations.update()
    .where(
        invitations.c.account_id == sa.bindparam("where_account_id"),
        invitations.c.user_id.in_(sa.bindparam("user_ids", expanding=True)),
        *_OPEN,
    )
    .values(revoked_at=sa.bindparam("at"))
)
# Expired, never accepted nor revoked, and not yet recorded as expired: by expiry, within the
# look-back (the index on expires_at keeps this a range read however many invitations there are).
_EXPIRED_UNRECORDED = (
    _SELECT.where(
        invitations.c.accepted_at.is_(None),
        invitations.c.revoked_at.is_(None),
        invitations.c.expiry_recorded_at.is_(None),
        invitations.c.expires_at > sa.bindparam("since"),
        invitations.c.expires_at <= sa.bindparam("now"),
    )
    .order_by(invitations.c.expires_at, invitations.c.id)
    .limit(sa.bindparam("limit", type_=sa.Integer))
    # PostgreSQL: rows another process is recording right now are left to it.
    .with_for_update(skip_locked=True)
)
_RECORD_EXPIRY = (
    invitations.update()
    .where(invitations.c.id.in_(sa.bindparam("ids", expanding=True)))
    .values(expiry_recorded_at=sa.bindparam("at"))
)
_FOR_ACCOUNT = (
    _SELECT.where(invitations.c.account_id == sa.bindparam("account_id"))
    .order_by(invitations.c.id.desc())
    .limit(sa.bindparam("limit", type_=sa.Integer))
)
_INSERT = invitations.insert().returning(invitations.c.id)
# A bound name other than a column's: those are reserved for the SET clause.
_UPDATE = invitations.update().where(invitations.c.id == sa.bindparam("where_id"))
# The sender's two writes touch their own column only, so that a revocation or acceptance
# committed since it read the invitation stands.
_SET_MAIL_TOKEN = (
    invitations.update()
    .where(invitations.c.id == sa.bindparam("where_id"), *_OPEN)
    .values(mail_token_hash=sa.bindparam("new_hash"))
)
_SET_DELIVERED = (
    invitations.update()
    .where(invitations.c.token_hash == sa.bindparam("where_token_hash"))
    .values(delivered=sa.bindparam("new_delivered"))
)


def to_invitation(row: Any) -> Invitation:
    """An invitation from a row of `_SELECT`, whose columns are the dataclass's fields."""
    return Invitation(*row)


def _values(invitation: Invitation) -> dict[str, Any]:
    return {name: getattr(invitation, name) for name in _FIELDS if name != "id"}


class SqlInvitationRepository(Repository):
    def add(self, invitation: Invitation) -> Invitation:
        new_id = self.conn.execute(_INSERT, _values(invitation)).scalar_one()
        return dataclasses.replace(invitation, id=new_id)

    def add_many(self, new: Sequence[Invitation]) -> None:
        """`add` for many invitations, in one statement (their ids are not read back)."""
        if new:
            insert_rows(self.conn, invitations, [_values(invitation) for invitation in new])

    def find_by_token_hash(self, token_hash: str) -> Invitation | None:
        row = self._one(_BY_TOKEN_HASH, {"token_hash": token_hash})
        return to_invitation(row) if row else None

    def find_by_mail_token_hash(self, token_hash: str) -> Invitation | None:
        row = self._one(_BY_MAIL_TOKEN_HASH, {"token_hash": token_hash})
        return to_invitation(row) if row else None

    def open_for(self, user_id: str, account_id: str | None) -> list[Invitation]:
        if account_id is None:
            rows = self.conn.execute(_OPEN_WITHOUT_ACCOUNT, {"user_id": user_id})
        else:
            rows = self.conn.execute(
                _OPEN_FOR_ACCOUNT, {"user_id": user_id, "account_id": account_id}
            )
        return [to_invitation(row) for row in rows]

    def open_for_user(self, user_id: str) -> list[Invitation]:
        """Every invitation of the user not yet accepted nor revoked, in any account."""
        return [
            to_invitation(row) for row in self.conn.execute(_OPEN_FOR_USER, {"user_id": user_id})
        ]

    def open_for_users(self, user_ids: Collection[str]) -> dict[str, list[Invitation]]:
        """`open_for_user` for many users, in one statement."""
        found: dict[str, list[Invitation]] = defaultdict(list)
        if user_ids:
            rows = self.conn.execute(_OPEN_FOR_USERS, {"user_ids": list(set(user_ids))})
            for invitation in map(to_invitation, rows):
                found[invitation.user_id].append(invitation)
        return found

    def revoke_open(self, account_id: str, user_ids: Collection[str], at: datetime) -> None:
        """Revoke the users' open invitations to the account, in one statement."""
        if user_ids:
            self.conn.execute(
                _REVOKE_OPEN,
                {"where_account_id": account_id, "user_ids": list(set(user_ids)), "at": at},
            )

    def for_account(self, account_id: str, *, limit: int) -> list[Invitation]:
        rows = self.conn.execute(_FOR_ACCOUNT, {"account_id": account_id, "limit": limit})
        return [to_invitation(row) for row in rows]

    def expired_unrecorded(self, since: datetime, now: datetime, *, limit: int) -> list[Invitation]:
        """Invitations that expired in (since, now] and whose expiry is not recorded yet."""
        rows = self.conn.execute(_EXPIRED_UNRECORDED, {"since": since, "now": now, "limit": limit})
        return [to_invitation(row) for row in rows]

    def record_expiry(self, invitation_ids: Collection[int], at: datetime) -> None:
        if invitation_ids:
            self.conn.execute(_RECORD_EXPIRY, {"ids": list(invitation_ids), "at": at})

    def update(self, invitation: Invitation) -> None:
        values = _values(invitation)
        values["where_id"] = invitation.id
        self.conn.execute(_UPDATE, values)

    def set_mail_token(self, invitation_id: int, mail_token_hash: str) -> bool:
        """Keep the hash of the token an open invitation's mail carries; False when the
        invitation is no longer open (accepted or revoked since it was read)."""
        params = {"where_id": invitation_id, "new_hash": mail_token_hash}
        return bool(self.conn.execute(_SET_MAIL_TOKEN, params).rowcount == 1)

    def set_delivered(self, token_hash: str, delivered: bool) -> None:
        """Record whether the invitation's mail was delivered, touching nothing else."""
        params = {"where_token_hash": token_hash, "new_delivered": delivered}
        self.conn.execute(_SET_DELIVERED, params)
