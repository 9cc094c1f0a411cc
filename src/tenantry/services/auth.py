"""Signing in to the console: password sign-in with throttling, sessions, signing out, and
signing in straight after accepting an invitation.

A session is opened in one of three stages (`SessionStage`): complete, or waiting for the
second factor (a challenge for users who set one up, enrolment where an account requires one
and none is set up). A session that clears its second factor is replaced by a new one, so the
cookie that was issued before the second factor never grants more than the challenge.
Two-factor steps and password resets live in `auth_totp`, `auth_passkeys` and `auth_resets`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from tenantry.domain.auth import (
    PENDING_SESSION_LIFETIME,
    SESSION_TOUCH_INTERVAL,
    Session,
    SessionStage,
    new_session_credentials,
    split_session_cookie,
)
from tenantry.domain.errors import ErrorCode, Throttled, Unauthenticated
from tenantry.domain.ids import hash_secret, secret_matches
from tenantry.domain.throttling import Limits, SlidingWindow
from tenantry.domain.users import User, UserStatus, is_valid_email
from tenantry.services import invitations, metrics, throttling
from tenantry.services.account_policy import session_lifetime_of
from tenantry.services.context import Actor, ActorKind, ServiceContext, record
from tenantry.services.ports import UnitOfWork
from tenantry.services.sso_rules import SINGLE_SIGN_ON_REQUIRED, requires_single_sign_on
from tenantry.services.throttling import Throttle
from tenantry.settings import Settings

FACE = "console"
WRONG_CREDENTIALS = "The e-mail address or the password is not right."
_DUMMY_HASH = hash_secret("not-a-session")
# Sessions are kept a while after they end, so the trail of who was signed in stays readable.
_KEEP_ENDED_SESSIONS = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a browser request comes from: for throttles, sessions and the audit trail."""

    source: str
    user_agent: str = ""
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class IssuedSession:
    """A new session; `cookie` (`<key>.<secret>`) is given out here and never again."""

    cookie: str
    stage: SessionStage
    expires_at: datetime
    user: User


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The session behind a browser request."""

    key: str
    user: User
    csrf_token: str
    stage: SessionStage
    expires_at: datetime
    single_sign_on: bool = False

    def actor(self, request_id: str | None = None) -> Actor:
        return Actor.for_user(self.user.id, self.user.email, face=FACE).via(FACE, request_id)


# -- signing in --------------------------------------------------------------------------------


def sign_in(ctx: ServiceContext, email: str, password: str, origin: Origin) -> IssuedSession:
    """Check an e-mail address and password and open a session.

    Failures are counted in the database (so the limits hold across processes) per address
    typed from this network address and per network address; past a limit, attempts from that
    network address are refused without being checked, while the right password from an
    address that has not failed still signs in (`domain.throttling.Limits`). The throttle
    costs one statement, and one more on a failure.
    """
    typed = typed_address(email)
    now = ctx.now()
    reason: str | None
    with ctx.uow() as uow:
        if sign_in_throttled(ctx, uow, typed, origin):
            reason = "throttled"
            user = uow.users.find_by_email(typed) if is_valid_email(typed) else None
        else:
            user = uow.users.find_by_email(typed) if is_valid_email(typed) else None
            reason = _password_problem(ctx, user, password, now)
            if user is not None and reason is None and requires_single_sign_on(uow, user):
                reason = "single_sign_on_required"
            if user is not None and reason is None:
                issued = open_session(ctx, uow, user, stage_after_password(uow, user), origin)
                if issued.stage is SessionStage.COMPLETE:
                    finish_sign_in(ctx, uow, user, origin, method="password")
                return issued
    with ctx.uow() as uow:
        if reason not in ("throttled", "single_sign_on_required"):
            count_sign_in_failure(ctx, uow, typed, origin)
        record_failure(ctx, uow, typed, user, origin, reason or "wrong_password")
    if reason == "throttled":
        raise Throttled(ErrorCode.THROTTLED)
    if reason == "single_sign_on_required":
        raise Unauthenticated(ErrorCode.UNAUTHENTICATED, SINGLE_SIGN_ON_REQUIRED)
    raise Unauthenticated(ErrorCode.UNAUTHENTICATED, WRONG_CREDENTIALS)


def accept_invitation_and_sign_in(
    ctx: ServiceContext,
    token: str,
    email: str,
    password: str | None,
    origin: Origin,
    *,
    signed_in_user_id: str | None = None,
) -> IssuedSession | None:
    """Accept an invitation (`invitations.accept_invitation`) and, when this set the user's
    password, sign them in. An existing login accepts only while signed in as itself
    (`signed_in_user_id`), so the link alone never joins it anywhere nor opens a session;
    people whose network signs them in get no session here (None)."""
    check = invitations.check_invitation(ctx, token, email)
    user = invitations.accept_invitation(
        ctx,
        token,
        email,
        password if check.needs_password else None,
        face=FACE,
        signed_in_user_id=signed_in_user_id,
    )
    if not check.needs_password or not may_sign_in(user, ctx.now()):
        return None
    with ctx.uow() as uow:
        issued = open_session(ctx, uow, user, stage_after_password(uow, user), origin)
        if issued.stage is SessionStage.COMPLETE:
            finish_sign_in(ctx, uow, user, origin, method="invitation")
        return issued


def typed_address(email: str) -> str:
    """An address as typed, made safe to count and audit: trimmed, lower-case, printable
    characters only (PostgreSQL refuses NUL characters in text), at most 254 of them."""
    return "".join(ch for ch in email.strip().lower() if ch.isprintable())[:254]


def may_sign_in(user: User, now: datetime) -> bool:
    """Users who sign in here with a password, and are active."""
    return (
        user.can_login_via_platform
        and user.password_hash is not None
        and user.status is UserStatus.ACTIVATED
        and not user.has_expired(now.date())
    )


def _password_problem(
    ctx: ServiceContext, user: User | None, password: str, now: datetime
) -> str | None:
    if user is None or user.password_hash is None:
        # Spend the time a check takes, so an unknown address does not answer faster.
        ctx.passwords.hash(password)
        return "unknown_user" if user is None else "no_password"
    if not ctx.passwords.verify(user.password_hash, password):
        return "wrong_password"
    if not may_sign_in(user, now):
        return "not_allowed"
    return None


def two_factor_required(uow: UnitOfWork, user: User) -> bool:
    """Whether any account the user belongs to requires two-factor sign-in."""
    account_ids = {m.account_id for m in uow.memberships.for_user(user.id)}
    accounts = uow.accounts.find_many(account_ids) if account_ids else {}
    return any(a.two_factor_required for a in accounts.values())


def stage_after_password(uow: UnitOfWork, user: User) -> SessionStage:
    """What a session still needs once the password (or an accepted invitation) is through."""
    if uow.passkeys.has_second_factor(user.id):
        return SessionStage.CHALLENGE
    if two_factor_required(uow, user):
        return SessionStage.ENROL
    return SessionStage.COMPLETE


def open_session(
    ctx: ServiceContext,
    uow: UnitOfWork,
    user: User,
    stage: SessionStage,
    origin: Origin,
    *,
    single_sign_on: bool = False,
) -> IssuedSession:
    """A new session in the caller's transaction; one waiting for a second factor lives only
    minutes. Sessions that ended long ago are cleared out on the way."""
    now = ctx.now()
    complete = stage is SessionStage.COMPLETE
    # A complete session lasts as long as the strictest account of the person allows.
    expires_at = now + (session_lifetime_of(uow, user.id) if complete else PENDING_SESSION_LIFETIME)
    cookie, key, digest = new_session_credentials()
    uow.auth.add_session(
        Session(
            id=None,
            key=key,
            secret_hash=digest,
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            second_factor_done=complete,
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
            source=origin.source[:64],
            user_agent=origin.user_agent[:256],
            single_sign_on=single_sign_on,
        )
    )
    uow.auth.delete_sessions_expired_before(now - _KEEP_ENDED_SESSIONS)
    return IssuedSession(cookie, stage, expires_at, user)


def finish_sign_in(
    ctx: ServiceContext, uow: UnitOfWork, user: User, origin: Origin, *, method: str
) -> None:
    """What every completed sign-in does: keep `last_login_at` and audit it."""
    before = user.last_login_at
    user.last_login_at = ctx.now()
    uow.users.update(user)
    record(
        ctx,
        uow,
        user_actor(user, origin),
        "auth.sign_in",
        target_type="user",
        target_id=user.id,
        account_id=None,
        before={"last_login_at": before.isoformat() if before else None},
        after={
            "last_login_at": user.last_login_at.isoformat(),
            "method": method,
            "source": origin.source[:64],
        },
    )


def replace_session(
    ctx: ServiceContext, uow: UnitOfWork, signed_in: SignedIn, origin: Origin, *, method: str
) -> IssuedSession:
    """The second factor is cleared: end the waiting session and open a complete one."""
    uow.auth.revoke_session(signed_in.key, ctx.now())
    issued = open_session(
        ctx,
        uow,
        signed_in.user,
        SessionStage.COMPLETE,
        origin,
        single_sign_on=signed_in.single_sign_on,
    )
    finish_sign_in(ctx, uow, signed_in.user, origin, method=method)
    return issued


# -- throttling --------------------------------------------------------------------------------


def _failures(settings: Settings) -> Throttle:
    return Throttle(
        "sign-in-failures",
        SlidingWindow(timedelta(seconds=settings.sign_in_failure_window_seconds)),
        Limits(
            per_pair=settings.sign_in_failures_per_account_and_address,
            per_source=settings.sign_in_failures_per_address,
            ceiling=settings.sign_in_failure_ceiling_per_account,
        ),
    )


def sign_in_throttled(
    ctx: ServiceContext, uow: UnitOfWork, typed_email: str, origin: Origin
) -> bool:
    """Whether this network address has used up its failures, for the address typed or for
    all; past the address typed's ceiling, addresses that have failed for it are refused too.
    One statement."""
    return throttling.refused(uow, _failures(ctx.settings), typed_email, origin.source, ctx.now())


def count_sign_in_failure(
    ctx: ServiceContext, uow: UnitOfWork, typed_email: str, origin: Origin
) -> None:
    """Count a wrong password or code for the address typed from this network address. One
    statement."""
    throttling.count(uow, _failures(ctx.settings), typed_email, origin.source, ctx.now())


def record_failure(
    ctx: ServiceContext,
    uow: UnitOfWork,
    typed_email: str,
    user: User | None,
    origin: Origin,
    reason: str,
) -> None:
    """Audit a failed attempt, as the user it named when there is one, and count it."""
    metrics.SIGN_IN_FAILURES.labels(reason).inc()
    actor = (
        user_actor(user, origin)
        if user is not None
        else Actor(
            ActorKind.USER,
            id="anonymous",
            label=typed_email or "(none)",
            face=FACE,
            request_id=origin.request_id,
        )
    )
    record(
        ctx,
        uow,
        actor,
        "auth.sign_in_failed",
        target_type="user",
        target_id=user.id if user is not None else (typed_email or "(none)"),
        account_id=None,
        after={"reason": reason, "source": origin.source[:64]},
    )


def user_actor(user: User, origin: Origin) -> Actor:
    """The user acting through the console, for the audit trail."""
    return Actor.for_user(user.id, user.email, face=FACE).via(FACE, origin.request_id)


# -- sessions ----------------------------------------------------------------------------------


def authenticate_session(ctx: ServiceContext, cookie: str) -> SignedIn | None:
    """The live session a cookie stands for, or None (unknown, ended, idle too long, or its
    user may no longer sign in)."""
    parts = split_session_cookie(cookie)
    if parts is None:
        return None
    key, secret = parts
    now = ctx.now()
    with ctx.uow(readonly=True) as uow:
        session = uow.auth.find_session(key)
        valid = secret_matches(secret, session.secret_hash if session else _DUMMY_HASH)
        if session is None or not valid or not session.is_live(now):
            return None
        user = uow.users.find(session.user_id)
        if user is None or not _may_hold(session, user, now):
            return None
        if session.second_factor_done:
            stage = SessionStage.COMPLETE
        else:
            has_factor = uow.passkeys.has_second_factor(user.id)
            stage = SessionStage.CHALLENGE if has_factor else SessionStage.ENROL
    if now - session.last_seen_at > SESSION_TOUCH_INTERVAL:
        with ctx.uow() as uow:
            uow.auth.touch_session(key, now)
    return SignedIn(
        key, user, session.csrf_token, stage, session.expires_at, session.single_sign_on
    )


def _may_hold(session: Session, user: User, now: datetime) -> bool:
    """A session holds while its user may sign in the way it was opened: with a password
    here, or through an identity provider (which needs no password here)."""
    if session.single_sign_on:
        return user.status is UserStatus.ACTIVATED and not user.has_expired(now.date())
    return may_sign_in(user, now)


def sign_out(ctx: ServiceContext, signed_in: SignedIn, origin: Origin) -> None:
    """End the session (its row is kept, marked revoked)."""
    with ctx.uow() as uow:
        if uow.auth.revoke_session(signed_in.key, ctx.now()):
            record(
                ctx,
                uow,
                user_actor(signed_in.user, origin),
                "auth.sign_out",
                target_type="user",
                target_id=signed_in.user.id,
                account_id=None,
                after={"source": origin.source[:64]},
            )
