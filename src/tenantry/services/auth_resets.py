"""Password resets by e-mail: asking for a link, and setting a new password with it.

Asking always gets the same answer, whether or not the address belongs to someone, and the
mail goes through the outbox, written in the request's transaction and sent by the outbox
sender, so the time the answer takes tells nothing either; its token is made when it is sent.
A link works once, for an hour; using it ends every session of its user.
"""

from __future__ import annotations

from datetime import timedelta

from tenantry.domain.auth import (
    PASSWORD_RESET_LIFETIME,
    PasswordReset,
)
from tenantry.domain.errors import ErrorCode, Forbidden, InvalidInput, NotFound
from tenantry.domain.ids import hash_secret, new_secret
from tenantry.domain.throttling import Limits, SlidingWindow
from tenantry.domain.users import User, UserStatus, is_valid_email
from tenantry.services import throttling
from tenantry.services.auth import Origin, typed_address, user_actor
from tenantry.services.context import Actor, ServiceContext, record
from tenantry.services.delivery import password_reset_link
from tenantry.services.identities import prove_address
from tenantry.services.mail import PasswordResetMail
from tenantry.services.outbox import enqueue_password_reset
from tenantry.services.passwords import check_strength
from tenantry.services.ports import UnitOfWork
from tenantry.services.sso_rules import requires_single_sign_on
from tenantry.services.throttling import Throttle
from tenantry.settings import Settings

INVALID_RESET_LINK = "This link to reset a password is not valid any more. Ask for a new one."
NOT_RESETTABLE = "No active user who signs in here with a password has this address."


def request_password_reset(ctx: ServiceContext, email: str, origin: Origin) -> None:
    """Mail a reset link to the user with this address, when there is one who signs in here
    with a password and a mailer is configured; nothing otherwise (nor when asked too often).
    Earlier links of the user die.

    Requests are counted per address typed from this network address and per network
    address, so a stranger asking often for someone's address cannot stop their own request
    from elsewhere (`domain.throttling.Limits`); refused requests are not counted."""
    typed = typed_address(email)
    now = ctx.now()
    throttle = _reset_requests(ctx.settings)
    with ctx.uow() as uow:
        if throttling.refused(uow, throttle, typed, origin.source, now):
            return
        throttling.count(uow, throttle, typed, origin.source, now)
        if not is_valid_email(typed):
            return
        user = uow.users.find_by_email(typed)
        if user is None or not _may_reset(uow, user):
            return
        # The token made here is never told: the sender makes the one it mails.
        reset, _ = _new_reset(
            ctx, uow, user, user_actor(user, origin), {"source": origin.source[:64]}, shown=False
        )
        assert reset.id is not None
        enqueue_password_reset(ctx, uow, reset.id)


def _reset_requests(settings: Settings) -> Throttle:
    return Throttle(
        "reset-requests",
        SlidingWindow(timedelta(seconds=settings.reset_request_window_seconds)),
        Limits(
            per_pair=settings.reset_requests_per_account_and_address,
            per_source=settings.reset_requests_per_address,
            ceiling=settings.reset_request_ceiling_per_account,
        ),
    )


def issue_password_reset(ctx: ServiceContext, actor: Actor, email: str) -> PasswordResetMail:
    """A reset link for the operator to hand over (a lost admin password on a deployment
    without SMTP): the system actor only, audited as it, not throttled."""
    if not actor.is_system:
        raise Forbidden(ErrorCode.FORBIDDEN)
    with ctx.uow() as uow:
        user = uow.users.find_by_email(typed_address(email))
        if user is None or not _may_reset(uow, user):
            raise NotFound(ErrorCode.USER_NOT_FOUND, NOT_RESETTABLE, field="email")
        reset, token = _new_reset(ctx, uow, user, actor, {}, shown=True)
        return PasswordResetMail(
            to=user.email, link=password_reset_link(ctx, token), expires_at=reset.expires_at
        )


def _new_reset(
    ctx: ServiceContext,
    uow: UnitOfWork,
    user: User,
    actor: Actor,
    details: dict[str, str],
    *,
    shown: bool,
) -> tuple[PasswordReset, str]:
    """A new link for `user`, and its token; their earlier links die. A link `shown` to an
    operator rather than mailed proves nothing about the address when used."""
    now = ctx.now()
    uow.auth.close_password_resets(user.id, now)
    token = new_secret(32)
    reset = uow.auth.add_password_reset(
        PasswordReset(
            id=None,
            user_id=user.id,
            token_hash=hash_secret(token),
            created_at=now,
            expires_at=now + PASSWORD_RESET_LIFETIME,
            shown=shown,
        )
    )
    record(
        ctx,
        uow,
        actor,
        "auth.password_reset_request",
        target_type="user",
        target_id=user.id,
        account_id=None,
        after={"expires_at": reset.expires_at.isoformat(), **details},
    )
    return reset, token


def check_password_reset(ctx: ServiceContext, token: str) -> str:
    """The address a reset link is for, without using it; the error using it would raise."""
    with ctx.uow(readonly=True) as uow:
        _, user = _usable_reset(ctx, uow, token)
        return user.email


def complete_password_reset(ctx: ServiceContext, token: str, password: str, origin: Origin) -> User:
    """Set a new password with a reset link; the link dies and every session of the user
    ends, so whoever held the old password is signed out."""
    now = ctx.now()
    with ctx.uow() as uow:
        reset, user = _usable_reset(ctx, uow, token)
        check_strength(password, email=user.email)
        assert reset.id is not None
        if not uow.auth.use_password_reset(reset.id, now):
            raise InvalidInput(ErrorCode.INVALID_INPUT, INVALID_RESET_LINK, field="token")
        user.password_hash = ctx.passwords.hash(password)
        uow.users.update(user)
        uow.auth.close_password_resets(user.id, now)
        ended = uow.auth.revoke_sessions(user.id, now)
        if not reset.shown:
            prove_address(ctx, uow, user, user_actor(user, origin), "password_reset")
        record(
            ctx,
            uow,
            user_actor(user, origin),
            "auth.password_reset",
            target_type="user",
            target_id=user.id,
            account_id=None,
            after={"sessions_ended": ended, "source": origin.source[:64]},
        )
        return user


def _usable_reset(ctx: ServiceContext, uow: UnitOfWork, token: str) -> tuple[PasswordReset, User]:
    reset = uow.auth.find_password_reset(hash_secret(token)) if 0 < len(token) <= 128 else None
    user = uow.users.find(reset.user_id) if reset is not None else None
    if reset is None or user is None or not reset.is_usable(ctx.now()) or not _may_reset(uow, user):
        raise InvalidInput(ErrorCode.INVALID_INPUT, INVALID_RESET_LINK, field="token")
    return reset, user


def _may_reset(uow: UnitOfWork, user: User) -> bool:
    """Active users who sign in here (not through their network, nor only through their
    account's identity provider) may reset a password."""
    return (
        user.can_login_via_platform
        and user.status is UserStatus.ACTIVATED
        and not requires_single_sign_on(uow, user)
    )
