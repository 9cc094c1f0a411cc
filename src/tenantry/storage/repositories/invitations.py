from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa

from tenantry.domain.invitations import Invitation
from tenantry.storage.repositories.base import Repository
from tenantry.storage.tables import invitations


def to_invitation(row: Any) -> Invitation:
    return Invitation(**{f.name: getattr(row, f.name) for f in dataclasses.fields(Invitation)})


class SqlInvitationRepository(Repository):
    def add(self, invitation: Invitation) -> Invitation:
        values = dataclasses.asdict(invitation)
        values.pop("id")
        new_id = self.conn.execute(
            invitations.insert().values(**values).returning(invitations.c.id)
        ).scalar_one()
        return dataclasses.replace(invitation, id=new_id)

    def find_by_token_hash(self, token_hash: str) -> Invitation | None:
        row = self._one(sa.select(invitations).where(invitations.c.token_hash == token_hash))
        return to_invitation(row) if row else None

    def open_for(self, user_id: str, account_id: str | None) -> list[Invitation]:
        rows = self.conn.execute(
            sa.select(invitations).where(
                invitations.c.user_id == user_id,
                invitations.c.account_id.is_(None)
                if account_id is None
                else invitations.c.account_id == account_id,
                invitations.c.accepted_at.is_(None),
                invitations.c.revoked_at.is_(None),
            )
        )
        return [to_invitation(row) for row in rows]

    def for_account(self, account_id: str, *, limit: int) -> list[Invitation]:
        rows = self.conn.execute(
            sa.select(invitations)
            .where(invitations.c.account_id == account_id)
            .order_by(invitations.c.id.desc())
            .limit(limit)
        )
        return [to_invitation(row) for row in rows]

    def update(self, invitation: Invitation) -> None:
        values = dataclasses.asdict(invitation)
        values.pop("id")
        self.conn.execute(
            invitations.update().where(invitations.c.id == invitation.id).values(**values)
        )
