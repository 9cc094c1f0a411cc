"""Passkeys as a second factor beside the authenticator app: adding them (named, several per
person), signing in with one after the password, and removing them.

Every ceremony starts with a challenge kept in the database, bound to the session that asked
for it, good for minutes and used once: taking it deletes it, in the same transaction that
checks the answer, whether the answer is right or not. The relying party is the deployment's
host, from its base URL. A passkey counts as two-factor sign-in wherever that is asked
(`uow.passkeys.has_second_factor`), so an account that requires it is satisfied by one.

The ceremonies themselves (`passkey_ceremonies`, on webauthn and its CBOR and X.509 parsers)
are imported where a ceremony runs, not with this module: they cost each worker some 14 MB
that a deployment whose people use no passkeys never needs.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

from tenantry.domain.auth import SessionStage
from tenantry.domain.errors import (
    Conflict,
    DomainError,
    ErrorCode,
    Forbidden,
    InvalidInput,
    NotFound,
    Throttled,
    Unauthenticated,
)
from tenantry.domain.passkeys import (
    CHALLENGE_LIFETIME,
    MAX_PASSKEYS,
    CeremonyFailed,
    ChallengePurpose,
    Passkey,
    PasskeyChallenge,
    RelyingParty,
    normalize_passkey_name,
    relying_party,
)
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

WRONG_PASSKEY = "That passkey could not be checked. Try again, or use another second factor."
STALE = "That took too long, or the page was used twice. Try again."
NO_HOST_NAME = (
    "Passkeys need this server to be reached by a host name, not an IP address: set "
    "TENANTRY_BASE_URL to the name people use (http://localhost:8000 on this computer)."
)


@dataclass(frozen=True, slots=True)
class PasskeyAdded:
    passkey: Passkey
    session: IssuedSession | None
    """The complete session that replaces a waiting one, when adding it finished a sign-in."""


def start_passkey_registration(ctx: ServiceContext, signed_in: SignedIn) -> str:
    """The options (JSON) for the browser to create a passkey, with a fresh challenge for this
    session; for a person signed in, or one whose account requires a second factor to finish
    signing in."""
    from tenantry.services import passkey_ceremonies as ceremonies

    user = _may_add(signed_in)
    party = _party(ctx)
    with ctx.uow() as uow:
        existing = uow.passkeys.for_user(user.id)
        if len(existing) >= MAX_PASSKEYS:
            raise Conflict(ErrorCode.CONFLICT, _too_many(), field="name")
        challenge = _new_challenge(ctx, uow, signed_in, ChallengePurpose.REGISTER)
        return ceremonies.registration_options(
            party,
            challenge,
            user_handle=user.id,
            user_name=user.email,
            display_name=user.display_name,
            existing=existing,
        )


def add_passkey(
    ctx: ServiceContext, signed_in: SignedIn, name: str, answer: str, origin: Origin
) -> PasskeyAdded:
    """Register the passkey the browser created for this session's challenge, under `name`;
    when this finished a sign-in, the session that replaces the waiting one comes with it.
    The challenge is spent whatever the outcome."""
    user = _may_add(signed_in)
    label = normalize_passkey_name(name)
    party = _party(ctx)
    problem: DomainError
    with ctx.uow() as uow:
        challenge = _take_challenge(ctx, uow, signed_in, ChallengePurpose.REGISTER)
        try:
            if challenge is None:
                raise InvalidInput(ErrorCode.INVALID_INPUT, STALE, field="credential")
            added = _register(ctx, uow, user, party, challenge.challenge, label, answer, origin)
        except DomainError as error:
            problem = error  # raised once the spent challenge is committed
        else:
            session = None
            if signed_in.stage is SessionStage.ENROL:
                session = replace_session(ctx, uow, signed_in, origin, method="passkey_enrolment")
            return PasskeyAdded(added, session)
    raise problem


@dataclass(frozen=True, slots=True)
class SecondFactorChoices:
    """What the person may answer the second-factor step with."""

    app: bool
    """A code from the authenticator app (or a recovery code)."""
    passkey_options: str | None
    """The options (JSON) for the browser to sign with one of their passkeys; None when they
    have none, or this server cannot offer them."""


def start_passkey_sign_in(ctx: ServiceContext, signed_in: SignedIn) -> SecondFactorChoices:
    """The second factors the person may use now; with passkeys, a fresh challenge for this
    waiting session and the options for the browser to sign it."""
    if signed_in.stage is not SessionStage.CHALLENGE:
        raise Conflict(ErrorCode.CONFLICT, "No second factor is due.")
    party = relying_party(ctx.settings.base_url)
    with ctx.uow() as uow:
        factor = uow.auth.find_second_factor(signed_in.user.id)
        app = factor is not None and factor.confirmed_at is not None
        passkeys = uow.passkeys.for_user(signed_in.user.id)
        if party is None or not passkeys:
            return SecondFactorChoices(app=True, passkey_options=None)
        challenge = _new_challenge(ctx, uow, signed_in, ChallengePurpose.SIGN_IN)
        from tenantry.services import passkey_ceremonies as ceremonies

        options = ceremonies.sign_in_options(party, challenge, passkeys)
        return SecondFactorChoices(app=app, passkey_options=options)


def sign_in_with_passkey(
    ctx: ServiceContext, signed_in: SignedIn, answer: str, origin: Origin
) -> IssuedSession:
    """The second factor after the password, by passkey: the answer must be signed by one of
    the person's own passkeys over this session's challenge, with its counter moving forward.
    Failures count against the same limits as wrong passwords and codes."""
    if signed_in.stage is not SessionStage.CHALLENGE:
        raise Conflict(ErrorCode.CONFLICT, "No second factor is due.")
    user = signed_in.user
    party = _party(ctx)
    with ctx.uow() as uow:
        throttled = sign_in_throttled(ctx, uow, user.email, origin)
        if not throttled and _use_passkey(ctx, uow, signed_in, party, answer):
            return replace_session(ctx, uow, signed_in, origin, method="passkey")
    with ctx.uow() as uow:
        if not throttled:
            count_sign_in_failure(ctx, uow, user.email, origin)
        reason = "throttled" if throttled else "wrong_passkey"
        record_failure(ctx, uow, user.email, user, origin, reason)
    if throttled:
        raise Throttled(ErrorCode.THROTTLED)
    raise Unauthenticated(ErrorCode.UNAUTHENTICATED, WRONG_PASSKEY)


def remove_passkey(
    ctx: ServiceContext, signed_in: SignedIn, passkey_id: int, origin: Origin
) -> Passkey:
    """Remove one of the person's passkeys; refused when it is their last second factor and
    an account they belong to requires one."""
    if signed_in.stage is not SessionStage.COMPLETE:
        raise Forbidden(ErrorCode.FORBIDDEN, "Finish signing in first.")
    user = signed_in.user
    with ctx.uow() as uow:
        mine = uow.passkeys.for_user(user.id)
        passkey = next((p for p in mine if p.id == passkey_id), None)
        if passkey is None or passkey.id is None:
            raise NotFound(ErrorCode.NOT_FOUND, "You have no such passkey.", field="passkey")
        factor = uow.auth.find_second_factor(user.id)
        app = factor is not None and factor.confirmed_at is not None
        if len(mine) == 1 and not app and two_factor_required(uow, user):
            raise Forbidden(
                ErrorCode.FORBIDDEN,
                "An account you belong to requires two-factor sign-in: add another passkey "
                "or an authenticator app before you remove this one.",
                field="passkey",
            )
        uow.passkeys.delete(user.id, passkey.id)
        _audit(ctx, uow, user, origin, "auth.passkey_remove", passkey, len(mine), len(mine) - 1)
        return passkey


# -- steps -------------------------------------------------------------------------------------


def _register(
    ctx: ServiceContext,
    uow: UnitOfWork,
    user: User,
    party: RelyingParty,
    challenge: str,
    name: str,
    answer: str,
    origin: Origin,
) -> Passkey:
    from tenantry.services import passkey_ceremonies as ceremonies

    try:
        new = ceremonies.verify_new_credential(party, challenge, answer)
    except CeremonyFailed as error:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            "The browser's answer did not check out, so no passkey was added. Try again.",
            field="credential",
        ) from error
    existing = uow.passkeys.for_user(user.id)
    if len(existing) >= MAX_PASSKEYS:
        raise Conflict(ErrorCode.CONFLICT, _too_many(), field="name")
    if uow.passkeys.find_by_credential(new.credential_id) is not None:
        raise Conflict(ErrorCode.CONFLICT, "This passkey is already added.", field="credential")
    passkey = uow.passkeys.add(
        Passkey(
            id=None,
            user_id=user.id,
            credential_id=new.credential_id,
            public_key=new.public_key,
            sign_count=new.sign_count,
            name=name,
            transports=new.transports,
            created_at=ctx.now(),
        )
    )
    _audit(ctx, uow, user, origin, "auth.passkey_add", passkey, len(existing), len(existing) + 1)
    return passkey


def _use_passkey(
    ctx: ServiceContext, uow: UnitOfWork, signed_in: SignedIn, party: RelyingParty, answer: str
) -> bool:
    """Whether `answer` is this session's challenge signed by one of the person's passkeys;
    the challenge is spent either way, and the passkey's counter and last use recorded."""
    challenge = _take_challenge(ctx, uow, signed_in, ChallengePurpose.SIGN_IN)
    if challenge is None:
        return False
    from tenantry.services import passkey_ceremonies as ceremonies

    try:
        credential_id, credential = ceremonies.credential_of(answer)
        passkey = uow.passkeys.find_by_credential(credential_id)
        if passkey is None or passkey.id is None or passkey.user_id != signed_in.user.id:
            return False
        count = ceremonies.verify_assertion(party, challenge.challenge, credential, passkey)
    except CeremonyFailed:
        return False
    return uow.passkeys.advance_sign_count(passkey.id, passkey.sign_count, count, ctx.now())


def _new_challenge(
    ctx: ServiceContext, uow: UnitOfWork, signed_in: SignedIn, purpose: ChallengePurpose
) -> str:
    challenge = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    expires_at = ctx.now() + CHALLENGE_LIFETIME
    uow.passkeys.put_challenge(PasskeyChallenge(signed_in.key, purpose, challenge, expires_at))
    return challenge


def _take_challenge(
    ctx: ServiceContext, uow: UnitOfWork, signed_in: SignedIn, purpose: ChallengePurpose
) -> PasskeyChallenge | None:
    """This session's live challenge for `purpose`, spent; None when there is none."""
    challenge = uow.passkeys.take_challenge(signed_in.key, purpose)
    return challenge if challenge is not None and challenge.is_live(ctx.now()) else None


def _audit(
    ctx: ServiceContext,
    uow: UnitOfWork,
    user: User,
    origin: Origin,
    action: str,
    passkey: Passkey,
    before: int,
    after: int,
) -> None:
    record(
        ctx,
        uow,
        user_actor(user, origin),
        action,
        target_type="user",
        target_id=user.id,
        account_id=None,
        before={"passkeys": before},
        after={"passkeys": after, "passkey": passkey.name, "passkey_id": passkey.id},
    )


def _may_add(signed_in: SignedIn) -> User:
    """Passkeys are added signed in, or on the way in where an account requires a second
    factor and none is set up (as the app is)."""
    if signed_in.stage is SessionStage.CHALLENGE:
        raise Forbidden(ErrorCode.FORBIDDEN, "Finish signing in first.")
    return signed_in.user


def _party(ctx: ServiceContext) -> RelyingParty:
    party = relying_party(ctx.settings.base_url)
    if party is None:
        raise Conflict(ErrorCode.CONFLICT, NO_HOST_NAME)
    return party


def _too_many() -> str:
    return f"You have {MAX_PASSKEYS} passkeys, the most one person may have: remove one first."
