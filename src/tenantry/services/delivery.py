"""Delivering invitation links by mail, after the transaction that made them has committed.

A service that creates invitations calls `deliver_invitations` once its own transaction is
closed: the mail server's speed or failure never holds a transaction open, and a failed send
leaves the invitation in place, recorded as not delivered, to be resent.

The mail carries a link of its own, with a second token that nobody but the mailbox ever sees
(the first one may have been shown to the inviter, as the CAPIG control plane returns it):
accepting with it proves the address (`identities.prove_address`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from urllib.parse import urlencode

from tenantry.domain.ids import hash_secret, new_secret
from tenantry.domain.users import User, UserStatus
from tenantry.services.context import ServiceContext
from tenantry.services.mail import DeliveryFailed, InvitationMail

log = logging.getLogger("tenantry.mail")


def invitation_link(ctx: ServiceContext, token: str, email: str) -> str:
    """The link CAPIG documents: `<base>/auth/verify/?token=…&et=inv&email=…`."""
    query = urlencode({"token": token, "et": "inv", "email": email}, safe="@")
    return f"{ctx.settings.base_url.rstrip('/')}/auth/verify/?{query}"


def _has_login(user: User | None) -> bool:
    return user is not None and user.status is not UserStatus.PENDING


def deliver_invitations(ctx: ServiceContext, sent: Sequence[tuple[str, str]]) -> None:
    """E-mail each (token, address as written) invitation, when a mailer is configured, and
    record for each whether it was delivered."""
    if ctx.mailer is None or not sent:
        return
    mails: list[tuple[str, InvitationMail]] = []
    with ctx.uow() as uow:
        invitations = [(uow.invitations.find_by_token_hash(hash_secret(t)), e) for t, e in sent]
        account_ids = {i.account_id for i, _ in invitations if i and i.account_id}
        accounts = uow.accounts.find_many(account_ids)
        users = uow.users.find_many({i.user_id for i, _ in invitations if i})
        for invitation, email in invitations:
            if invitation is None:
                continue
            mail_token = new_secret(16)
            invitation.mail_token_hash = hash_secret(mail_token)
            uow.invitations.update(invitation)
            account = accounts.get(invitation.account_id or "")
            role = ctx.roles.find(invitation.role_key or "")
            mails.append(
                (
                    invitation.token_hash,
                    InvitationMail(
                        to=invitation.email,
                        link=invitation_link(ctx, mail_token, email),
                        account_name=account.name if account else None,
                        role_name=role.display_name if role else invitation.role_key,
                        invited_by=invitation.invited_by,
                        expires_at=invitation.expires_at,
                        has_login=_has_login(users.get(invitation.user_id)),
                    ),
                )
            )
    outcomes: dict[str, bool] = {}
    for token_hash, mail in mails:
        try:
            ctx.mailer.send_invitation(mail)
        except DeliveryFailed as error:
            log.warning("invitation not delivered", extra={"to": mail.to, "error": str(error)})
            outcomes[token_hash] = False
        else:
            outcomes[token_hash] = True
    with ctx.uow() as uow:
        for token_hash, delivered in outcomes.items():
            invitation = uow.invitations.find_by_token_hash(token_hash)
            if invitation is not None:
                invitation.delivered = delivered
                uow.invitations.update(invitation)
