"""Two-factor sign-in with TOTP (RFC 6238): enrolment, the challenge after the password,
recovery codes, and turning it off where no account requires it.

A code is accepted once: the step it belongs to is recorded and only later steps pass
(replay protection), atomically in the database. Recovery codes are kept as digests and each
works once. Wrong codes count against the same per-address limits as wrong passwords.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tenantry.domain.auth import (
    RECOVERY_CODE_COUNT,
    SecondFactor,
    SessionStage,
    matching_step,
    new_recovery_code,
    new_totp_secret,
    normalize_recovery_code,
    provisioning_uri,
    recovery_code_hash,
)
from tenantry.domain.errors import (
    Conflict,
    ErrorCode,
    Forbidden,
    InvalidInput,
    Throttled,
    Unauthenticated,
)
from tenantry.domain.passkeys import Passkey
from tenantry.domain.users import User
from tenantry.services.auth import (
    IssuedSession,
    Origin,
    SignedIn,
    count_sign_in_failure,
    record_failure,
    replace_session,
    sign_in_throttled,
    two_factor_required,
    user_actor,
)
from tenantry.services.context import ServiceContext, record
from tenantry.services.ports import UnitOfWork

ISSUER = "tenantry"
WRONG_CODE = "That code is not right. Enter the current code from your authenticator app."
# An enrolment left half-done is started afresh after this long, with a new secret.
_ENROLMENT_LIFETIME = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    secret: str
    uri: str
    """The `otpauth://` URI to show as a QR code."""


@dataclass(frozen=True, slots=True)
class Enrolled:
    recovery_codes: list[str]
    """Shown once, now; only their digests are kept."""
    session: IssuedSession | None
    """The complete session that replaces a waiting one, when enrolment finished a sign-in."""


@dataclass(frozen=True, slots=True)
class TwoFactorStatus:
    enrolled: bool
    """An authenticator app (TOTP) is set up."""
    required: bool
    recovery_codes_left: int
    passkeys: tuple[Passkey, ...] = ()
    """The person's passkeys, the other second factor, oldest first."""

    @property
    def app_may_be_removed(self) -> bool:
        """Turning the app off leaves what an account requires (a passkey, or nothing)."""
        return not self.required or bool(self.passkeys)


def start_totp_enrolment(ctx: ServiceContext, signed_in: SignedIn) -> TotpEnrolment:
    """The secret to set up in an authenticator app; the same one until it is confirmed (or
    an hour passes), so reloading the page keeps the QR code the app already scanned."""
    user = signed_in.user
    now = ctx.now()
    with ctx.uow() as uow:
        factor = uow.auth.find_second_factor(user.id)
        if factor is not None and factor.confirmed_at is not None:
            raise Conflict(ErrorCode.CONFLICT, "Two-factor sign-in is already set up.")
        if factor is None or factor.created_at < now - _ENROLMENT_LIFETIME:
            factor = SecondFactor(user.id, new_totp_secret(), None, None, now)
            uow.auth.replace_second_factor(factor)
    return TotpEnrolment(
        factor.totp_secret, provisioning_uri(factor.totp_secret, user.email, ISSUER)
    )


def confirm_totp_enrolment(
    ctx: ServiceContext, signed_in: SignedIn, code: str, origin: Origin
) -> Enrolled:
    """Confirm the enrolment with a code from the app; returns the recovery codes (once) and,
    when this finished a sign-in, the session that replaces the waiting one."""
    user = signed_in.user
    now = ctx.now()
    with ctx.uow() as uow:
        factor = uow.auth.find_second_factor(user.id)
        if factor is None or factor.confirmed_at is not None:
            raise Conflict(ErrorCode.CONFLICT, "Start the set-up again.", field="code")
        step = matching_step(factor.totp_secret, code, now, None)
        if step is None:
            raise InvalidInput(ErrorCode.INVALID_INPUT, WRONG_CODE, field="code")
        uow.auth.confirm_second_factor(user.id, now)
        uow.auth.advance_totp_step(user.id, step)
        codes = _new_recovery_codes(uow, user.id)
        record(
            ctx,
            uow,
            user_actor(user, origin),
            "auth.totp_enrol",
            target_type="user",
            target_id=user.id,
            account_id=None,
            before={"two_factor": False},
            after={"two_factor": True, "recovery_codes": len(codes)},
        )
        session = None
        if signed_in.stage is SessionStage.ENROL:
            session = replace_session(ctx, uow, signed_in, origin, method="totp_enrolment")
        return Enrolled(codes, session)


def verify_second_factor(
    ctx: ServiceContext, signed_in: SignedIn, code: str, origin: Origin
) -> IssuedSession:
    """The challenge after the password: a current TOTP code or an unused recovery code."""
    if signed_in.stage is not SessionStage.CHALLENGE:
        raise Conflict(ErrorCode.CONFLICT, "No code is due.")
    user = signed_in.user
    now = ctx.now()
    with ctx.uow() as uow:
        throttled = sign_in_throttled(ctx, uow, user.email, origin)
        method = None if throttled else _spend_code(uow, user.id, code, now)
        if method is not None:
            return replace_session(ctx, uow, signed_in, origin, method=method)
    with ctx.uow() as uow:
        if not throttled:
            count_sign_in_failure(ctx, uow, user.email, origin)
        record_failure(
            ctx, uow, user.email, user, origin, "throttled" if throttled else "wrong_code"
        )
    if throttled:
        raise Throttled(ErrorCode.THROTTLED)
    raise Unauthenticated(ErrorCode.UNAUTHENTICATED, WRONG_CODE)


def regenerate_recovery_codes(
    ctx: ServiceContext, signed_in: SignedIn, code: str, origin: Origin
) -> list[str]:
    """New recovery codes for a current TOTP code; the earlier ones stop working."""
    user = _complete(signed_in)
    with ctx.uow() as uow:
        _require_totp(ctx, uow, user.id, code)
        codes = _new_recovery_codes(uow, user.id)
        record(
            ctx,
            uow,
            user_actor(user, origin),
            "auth.recovery_codes_renew",
            target_type="user",
            target_id=user.id,
            account_id=None,
            after={"recovery_codes": len(codes)},
        )
        return codes


def disable_totp(ctx: ServiceContext, signed_in: SignedIn, code: str, origin: Origin) -> None:
    """Turn the authenticator app off, with a current code; refused where an account
    requires two-factor sign-in and no passkey is left."""
    user = _complete(signed_in)
    with ctx.uow() as uow:
        if two_factor_required(uow, user) and not uow.passkeys.for_user(user.id):
            raise Forbidden(
                ErrorCode.FORBIDDEN,
                "An account you belong to requires two-factor sign-in, so it stays on "
                "until you add a passkey.",
            )
        _require_totp(ctx, uow, user.id, code)
        uow.auth.delete_second_factor(user.id)
        record(
            ctx,
            uow,
            user_actor(user, origin),
            "auth.totp_disable",
            target_type="user",
            target_id=user.id,
            account_id=None,
            before={"two_factor": True},
            after={"two_factor": False},
        )


def two_factor_status(ctx: ServiceContext, signed_in: SignedIn) -> TwoFactorStatus:
    """Whether the user has the app on, must have a second factor, how many recovery codes
    are left, and which passkeys they have."""
    user = signed_in.user
    with ctx.uow(readonly=True) as uow:
        factor = uow.auth.find_second_factor(user.id)
        enrolled = factor is not None and factor.confirmed_at is not None
        return TwoFactorStatus(
            enrolled=enrolled,
            required=two_factor_required(uow, user),
            recovery_codes_left=uow.auth.unused_recovery_codes(user.id) if enrolled else 0,
            passkeys=tuple(uow.passkeys.for_user(user.id)),
        )


def _spend_code(uow: UnitOfWork, user_id: str, code: str, now: datetime) -> str | None:
    """Use `code` as a TOTP code, else as a recovery code: how it passed, or None."""
    factor = uow.auth.find_second_factor(user_id)
    if factor is None or factor.confirmed_at is None:
        return None
    step = matching_step(factor.totp_secret, code, now, factor.last_used_step)
    if step is not None and uow.auth.advance_totp_step(user_id, step):
        return "totp"
    recovery = normalize_recovery_code(code)
    if recovery is not None and uow.auth.use_recovery_code(
        user_id, recovery_code_hash(user_id, recovery), now
    ):
        return "recovery_code"
    return None


def _require_totp(ctx: ServiceContext, uow: UnitOfWork, user_id: str, code: str) -> None:
    factor = uow.auth.find_second_factor(user_id)
    if factor is None or factor.confirmed_at is None:
        raise Conflict(ErrorCode.CONFLICT, "Two-factor sign-in is not set up.")
    step = matching_step(factor.totp_secret, code, ctx.now(), factor.last_used_step)
    if step is None or not uow.auth.advance_totp_step(user_id, step):
        raise InvalidInput(ErrorCode.INVALID_INPUT, WRONG_CODE, field="code")


def _new_recovery_codes(uow: UnitOfWork, user_id: str) -> list[str]:
    codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    uow.auth.replace_recovery_codes(user_id, [recovery_code_hash(user_id, c) for c in codes])
    return codes


def _complete(signed_in: SignedIn) -> User:
    """The user of a session that is fully signed in (settings are not for waiting sessions)."""
    if signed_in.stage is not SessionStage.COMPLETE:
        raise Forbidden(ErrorCode.FORBIDDEN, "Finish signing in first.")
    return signed_in.user
