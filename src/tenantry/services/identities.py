"""Identities: proving an address, and changing one.

A user is one global identity per address, so whoever could choose its password or change its
address could walk into every account that later adds that address. Two steps guard it:

- proving the address (following a link that was only ever mailed: an invitation's mailed
  link, a mailed password reset) marks the identity verified and, the first time, revokes
  every session, API token and second factor (TOTP app, passkeys) that someone else may have
  set while it was unproven;
- changing the address (by the person, or an admin of the identity's home account while every
  account the identity belongs to is within that admin's reach: `policy`) makes the identity
  unproven again, ends its sessions and tokens, and tells the old address.
"""

from __future__ import annotations

from tenantry.domain.errors import Conflict, ErrorCode
from tenantry.domain.users import User, normalize_email
from tenantry.services.context import Actor, ServiceContext, record
from tenantry.services.mail import AddressChangedMail
from tenantry.services.outbox import enqueue_address_notice
from tenantry.services.ports import UnitOfWork


def prove_address(ctx: ServiceContext, uow: UnitOfWork, user: User, actor: Actor, how: str) -> None:
    """The owner of `user`'s address proved it (`how`: the kind of mailed link followed),
    inside the caller's transaction. Saves `user`."""
    now = ctx.now()
    revoked: dict[str, int] = {}
    if not user.is_verified:
        # Until now anybody who was shown a link could have set these: none of them is the
        # owner's doing for sure. The caller opens the owner's own session afterwards.
        revoked = {
            "sessions": uow.auth.revoke_sessions(user.id, now),
            "api_tokens": uow.api_tokens.revoke_for_user(user.id, now),
            "second_factor": _drop_second_factor(uow, user.id),
            "passkeys": uow.passkeys.delete_for_user(user.id),
        }
    before = user.email_verified_at
    user.email_verified_at = now
    uow.users.update(user)
    record(
        ctx,
        uow,
        actor,
        "user.address_proved",
        target_type="user",
        target_id=user.id,
        account_id=None,
        before={"email_verified_at": before.isoformat() if before else None},
        after={"email_verified_at": now.isoformat(), "how": how, "revoked": revoked},
    )


def _drop_second_factor(uow: UnitOfWork, user_id: str) -> int:
    if uow.auth.find_second_factor(user_id) is None:
        return 0
    uow.auth.delete_second_factor(user_id)
    uow.auth.replace_recovery_codes(user_id, [])
    return 1


def change_address(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, user: User, new_address: str
) -> None:
    """Give `user` a new address inside the caller's transaction (the caller checked
    `check_may_edit_identity` and saves and audits the user); the old address is told,
    through the outbox, once the change commits."""
    email = normalize_email(new_address)
    if email == user.email:
        return
    holder = uow.users.find_by_email(email)
    if holder is not None and holder.id != user.id:
        raise Conflict(ErrorCode.ID_TAKEN, "Another user has this e-mail address.", field="email")
    old = user.email
    now = ctx.now()
    user.email = email
    user.email_verified_at = None
    uow.auth.revoke_sessions(user.id, now)
    uow.api_tokens.revoke_for_user(user.id, now)
    uow.auth.close_password_resets(user.id, now)
    # Links sent to the old address must not let its holder in any more.
    for invitation in uow.invitations.open_for_user(user.id):
        invitation.revoked_at = now
        uow.invitations.update(invitation)
    notice = AddressChangedMail(to=old, new_address=email, changed_by=actor.label)
    enqueue_address_notice(ctx, uow, notice)
