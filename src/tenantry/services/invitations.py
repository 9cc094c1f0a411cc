"""Invitations: renew (resend), revoke, list and accept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tenantry.domain.errors import ErrorCode, Forbidden, InvalidInput, NotFound
from tenantry.domain.ids import hash_secret, new_secret
from tenantry.domain.invitations import Invitation, InvitationStatus
from tenantry.domain.memberships import MembershipStatus, check_can_join
from tenantry.domain.roles import Need
from tenantry.domain.users import User, UserStatus, normalize_email
from tenantry.services.account_policy import bound_sessions_on_joining
from tenantry.services.context import Actor, ServiceContext, record
from tenantry.services.identities import prove_address
from tenantry.services.outbox import enqueue_invitations
from tenantry.services.passwords import check_strength
from tenantry.services.policy import check_may_manage, require
from tenantry.services.policy_identities import memberships_weighed_elsewhere
from tenantry.services.ports import UnitOfWork

INVALID_LINK = "This invitation link is not valid any more. Ask for a new one."


@dataclass(slots=True)
class InvitationView:
    invitation: Invitation
    status: InvitationStatus


def renew_invitation(ctx: ServiceContext, actor: Actor, account_id: str, email: str) -> str:
    """A fresh link for a pending member; every earlier link dies. Returns the new token."""
    email = normalize_email(email)
    with ctx.uow() as uow:
        account, actor_role = require(ctx, uow, actor, account_id, Need.MANAGE_USERS)
        user = uow.users.find_by_email(email)
        membership = uow.memberships.find(user.id, account_id) if user else None
        if user is None or membership is None:
            raise NotFound(ErrorCode.USER_NOT_FOUND, field="email")
        check_may_manage(ctx, uow, account, actor_role, membership)
        if membership.status is not MembershipStatus.PENDING:
            raise InvalidInput(
                ErrorCode.INVALID_INPUT,
                "This user has already accepted the invitation.",
                field="email",
            )
        now = ctx.now()
        earlier = uow.invitations.open_for(user.id, account_id)
        for old in earlier:
            old.revoked_at = now
            uow.invitations.update(old)
        token = new_secret(16)
        renewed = uow.invitations.add(
            Invitation(
                id=None,
                email=user.email,
                user_id=user.id,
                account_id=account_id,
                role_key=membership.role_key,
                token_hash=hash_secret(token),
                expires_at=ctx.invitation_expiry(account.invitation_ttl_days),
                invited_by=actor.label,
                created_at=now,
            )
        )
        record(
            ctx,
            uow,
            actor,
            "invitation.renew",
            target_type="user",
            target_id=user.id,
            account_id=account_id,
            before={"open_invitations": [_snapshot(i, now) for i in earlier]},
            after={"open_invitations": [_snapshot(renewed, now)]},
        )
        enqueue_invitations(ctx, uow, [(token, email)])
    return token


def revoke_invitation(ctx: ServiceContext, actor: Actor, account_id: str, email: str) -> int:
    """Kill the open invitations of `email` to the account; returns how many there were."""
    email = normalize_email(email)
    with ctx.uow() as uow:
        account, actor_role = require(ctx, uow, actor, account_id, Need.MANAGE_USERS)
        user = uow.users.find_by_email(email)
        membership = uow.memberships.find(user.id, account_id) if user else None
        if user is None or membership is None:
            raise NotFound(ErrorCode.USER_NOT_FOUND, field="email")
        check_may_manage(ctx, uow, account, actor_role, membership)
        now = ctx.now()
        open_ones = [i for i in uow.invitations.open_for(user.id, account_id) if i.expires_at > now]
        for invitation in open_ones:
            invitation.revoked_at = now
            uow.invitations.update(invitation)
        if open_ones:
            record(
                ctx,
                uow,
                actor,
                "invitation.revoke",
                target_type="user",
                target_id=user.id,
                account_id=account_id,
                before={"open_invitations": [{"id": i.id, "status": "pending"} for i in open_ones]},
                after={"open_invitations": [_snapshot(i, now) for i in open_ones]},
            )
        return len(open_ones)


def list_invitations(
    ctx: ServiceContext, actor: Actor, account_id: str, *, limit: int = 100
) -> list[InvitationView]:
    with ctx.uow(readonly=True) as uow:
        require(ctx, uow, actor, account_id, Need.MANAGE_USERS)
        now = ctx.now()
        return [
            InvitationView(i, i.status(now))
            for i in uow.invitations.for_account(account_id, limit=min(limit, 1000))
        ]


@dataclass(frozen=True, slots=True)
class InvitationCheck:
    """What an invitation link leads to, for the page that accepts it."""

    email: str
    account_name: str | None
    role_name: str | None
    invited_by: str
    expires_at: datetime
    needs_password: bool
    """The invited person signs in here and has no password yet: accepting sets one."""
    needs_sign_in: bool
    """The address already has a login: only its owner, signed in, accepts (a link alone
    never sets a new password for it)."""
    network_managed: bool


_STATUS_MESSAGES = {
    InvitationStatus.ACCEPTED: (
        "This invitation has already been accepted. Sign in with your e-mail address."
    ),
    InvitationStatus.EXPIRED: (
        "This invitation has expired. Ask the person who invited you to send a new one."
    ),
    InvitationStatus.REVOKED: (
        "This invitation was withdrawn. Ask the person who invited you for a new one."
    ),
}


def check_invitation(ctx: ServiceContext, token: str, email: str) -> InvitationCheck:
    """Read what a link leads to without using it; raises when accepting it would fail, with
    a message that says why (already accepted, expired, withdrawn, or not a valid link)."""
    try:
        email = normalize_email(email)
    except InvalidInput:
        raise InvalidInput(ErrorCode.INVALID_INPUT, INVALID_LINK, field="token") from None
    with ctx.uow(readonly=True) as uow:
        invitation, mailed = _find(uow, token)
        if invitation is None or invitation.email != email:
            raise InvalidInput(ErrorCode.INVALID_INPUT, INVALID_LINK, field="token")
        status = invitation.status(ctx.now())
        if status is not InvitationStatus.PENDING:
            raise InvalidInput(
                ErrorCode.INVALID_INPUT, _STATUS_MESSAGES[status], field="token", status=status
            )
        user = uow.users.get(invitation.user_id)
        account = uow.accounts.find(invitation.account_id) if invitation.account_id else None
        role = None
        if invitation.role_key is not None:
            role = ctx.roles.find(invitation.role_key) or (
                uow.custom_roles.find(account.id, invitation.role_key) if account else None
            )
        return InvitationCheck(
            email=user.email,
            account_name=account.name if account else None,
            role_name=role.display_name if role else invitation.role_key,
            invited_by=invitation.invited_by,
            expires_at=invitation.expires_at,
            needs_password=user.can_login_via_platform and _sets_password(user, invitation, mailed),
            needs_sign_in=user.can_login_via_platform
            and not _sets_password(user, invitation, mailed),
            network_managed=user.is_network_managed,
        )


def _sets_password(user: User, invitation: Invitation, mailed: bool) -> bool:
    """Whether accepting this link sets the identity's password: only for an identity nobody
    has accepted an invitation of yet, and only by the link only ever mailed (it proves the
    address) or by an invitation of the account that created the identity (its home). Another
    account's shown link would otherwise hand that account an identity it does not own; any
    other identity is its owner's to sign in as (a mailed reset sets a password first)."""
    if user.status is not UserStatus.PENDING or user.password_hash is not None:
        return False
    return mailed or (
        invitation.account_id is not None and invitation.account_id == user.home_account_id
    )


def _find(uow: UnitOfWork, token: str) -> tuple[Invitation | None, bool]:
    """The invitation a link's token names, and whether it was the link only ever mailed."""
    digest = hash_secret(token)
    shown = uow.invitations.find_by_token_hash(digest)
    if shown is not None:
        return shown, False
    mailed = uow.invitations.find_by_mail_token_hash(digest)
    return mailed, mailed is not None


def _pending(uow: UnitOfWork, token: str, email: str, now: datetime) -> tuple[Invitation, bool]:
    """The still pending invitation a link (token and address) names, and whether it was the
    mailed link; the one answer for every other case, which tells nothing of why."""
    try:
        email = normalize_email(email)
    except InvalidInput:
        raise InvalidInput(ErrorCode.INVALID_INPUT, INVALID_LINK, field="token") from None
    invitation, mailed = _find(uow, token)
    if (
        invitation is None
        or invitation.email != email
        or invitation.status(now) is not InvitationStatus.PENDING
    ):
        raise InvalidInput(ErrorCode.INVALID_INPUT, INVALID_LINK, field="token")
    return invitation, mailed


def accept_invitation(
    ctx: ServiceContext,
    token: str,
    email: str,
    password: str | None,
    *,
    face: str = "console",
    signed_in_user_id: str | None = None,
) -> User:
    """Turn a valid link into an active membership (consent, DESIGN.md).

    A new identity sets its password here; accepting the link that was only ever mailed also
    proves its address. An identity that has a login already accepts only when its owner is
    signed in (`signed_in_user_id`): whoever was shown the link can't join it to anything."""
    with ctx.uow() as uow:
        now = ctx.now()
        invitation, mailed = _pending(uow, token, email, now)
        user = uow.users.get(invitation.user_id)
        actor = Actor.for_user(user.id, user.email, face=face)
        user_before = user.status
        _claim_login(
            ctx, uow, user, invitation, actor, password, mailed=mailed, signed_in=signed_in_user_id
        )
        if user.status is UserStatus.PENDING:
            user.status = UserStatus.ACTIVATED
        uow.users.update(user)
        before = {"user_status": int(user_before), "invitation": _snapshot(invitation, now)}
        joined = _activate_membership(ctx, uow, user, invitation.account_id)
        if joined is not None:
            before["membership_status"] = joined.value
        invitation.accepted_at = now
        uow.invitations.update(invitation)
        record(
            ctx,
            uow,
            actor,
            "invitation.accept",
            target_type="user",
            target_id=user.id,
            account_id=invitation.account_id,
            before=before,
            after={
                "user_status": int(user.status),
                "invitation": _snapshot(invitation, now),
                "membership_status": MembershipStatus.ACTIVE.value,
            },
        )
        return user


def _claim_login(
    ctx: ServiceContext,
    uow: UnitOfWork,
    user: User,
    invitation: Invitation,
    actor: Actor,
    password: str | None,
    *,
    mailed: bool,
    signed_in: str | None,
) -> None:
    """Only the identity's owner, signed in, accepts; except where the link sets the password
    (`_sets_password`), which then proves the address too when the link was the mailed one."""
    if user.can_login_via_platform and not _sets_password(user, invitation, mailed):
        if signed_in != user.id:
            raise Forbidden(ErrorCode.SIGN_IN_TO_ACCEPT, field="token")
    elif user.can_login_via_platform:
        if password is None:
            raise InvalidInput(ErrorCode.WEAK_PASSWORD, "Choose a password.", field="password")
        check_strength(password, email=user.email)
        user.password_hash = ctx.passwords.hash(password)
        if mailed:
            prove_address(ctx, uow, user, actor, "invitation")


def _activate_membership(
    ctx: ServiceContext, uow: UnitOfWork, user: User, account_id: str | None
) -> MembershipStatus | None:
    """Make the invitation's pending membership active; its status before, or None when there
    was none to activate."""
    if account_id is None:
        return None
    membership = uow.memberships.find(user.id, account_id)
    if membership is None or membership.status is not MembershipStatus.PENDING:
        return None
    # The multi-account rules, again: what the person joined since the invitation was made
    # counts now (invitations elsewhere never gated the invitation).
    account = uow.accounts.get(account_id)
    check_can_join(account, memberships_weighed_elsewhere(ctx, uow, user, account_id))
    before = membership.status
    membership.status = MembershipStatus.ACTIVE
    uow.memberships.update(membership)
    bound_sessions_on_joining(ctx, uow, user.id, account)
    return before


def decline_invitation(
    ctx: ServiceContext, token: str, email: str, *, face: str = "console"
) -> None:
    """Say no to an invitation: it dies, and the pending membership it would have made active
    goes, so it neither lingers in the account's list nor counts anywhere."""
    with ctx.uow() as uow:
        now = ctx.now()
        invitation, _ = _pending(uow, token, email, now)
        user = uow.users.get(invitation.user_id)
        before = _snapshot(invitation, now)
        invitation.revoked_at = now
        uow.invitations.update(invitation)
        dropped = None
        if invitation.account_id is not None:
            membership = uow.memberships.find(user.id, invitation.account_id)
            if membership is not None and membership.status is MembershipStatus.PENDING:
                uow.memberships.delete(user.id, invitation.account_id)
                dropped = membership.role_key
                # Declining to own an account leaves it without an owner, not with one who
                # is no member of it.
                account = uow.accounts.get(invitation.account_id)
                if account.owner_user_id == user.id:
                    account.owner_user_id = None
                    uow.accounts.update(account)
        record(
            ctx,
            uow,
            Actor.for_user(user.id, user.email, face=face),
            "invitation.decline",
            target_type="user",
            target_id=user.id,
            account_id=invitation.account_id,
            before={"invitation": before, "pending_role": dropped},
            after={"invitation": _snapshot(invitation, now), "pending_role": None},
        )


def _snapshot(invitation: Invitation, now: datetime) -> dict[str, object]:
    return {
        "id": invitation.id,
        "status": invitation.status(now).value,
        "expires_at": invitation.expires_at.isoformat(),
    }
