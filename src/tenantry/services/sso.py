"""Signing in through an account's identity provider (OpenID Connect, authorization code flow
with PKCE).

1. `route` tells, from an address typed, whether it signs in through a provider: its domain
   is served by one (of an account that uses single sign-on), or its person is network-managed
   (their network's provider), or a member of an account that requires single sign-on.
2. `start_sign_in` keeps a sign-in under way (a digest of its `state`, its `nonce` and PKCE
   verifier, bound to the browser by a secret only that browser holds) and answers where to
   send the browser.
3. `finish_sign_in` takes the provider's answer: the sign-in is used once (a replayed answer
   loses), the code is traded for an ID token whose signature, issuer, audience, expiry and
   nonce the client checks, and the person behind the address signs in: the address typed
   at the first step, and only while the provider speaks for that identity (every account it
   belongs to is one the provider's account manages: `sso_rules.provider_speaks_for`).
   Signing in this way proves the address (`identities.prove_address`, DESIGN rule 4), but
   never removes a second factor. A person nobody knows yet, of a domain the provider serves,
   joins its account with the provider's just-in-time role, when it has one (consent: they
   asked by signing in); otherwise they are refused.
Then the session goes through the usual stages (a second factor where one is set or required).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tenantry.domain.accounts import is_closed
from tenantry.domain.auth import SessionStage
from tenantry.domain.errors import DomainError, ErrorCode, NotFound, Unauthenticated
from tenantry.domain.ids import hash_secret, secret_matches
from tenantry.domain.sso import SIGN_IN_LIFETIME, IdentityProvider, PendingSignIn, email_domain
from tenantry.domain.users import User, UserStatus, is_valid_email, normalize_email
from tenantry.services.auth import (
    IssuedSession,
    Origin,
    open_session,
    record_failure,
    stage_after_password,
    typed_address,
    user_actor,
)
from tenantry.services.auth import (
    finish_sign_in as complete_sign_in,
)
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.identities import prove_address
from tenantry.services.membership_changes import change_member_in
from tenantry.services.membership_commands import NewMember
from tenantry.services.policy_roles import usable_role
from tenantry.services.ports import UnitOfWork
from tenantry.services.sso_ports import (
    AuthorizationRequest,
    CodeExchange,
    IdentityProviderClient,
    ProviderUnavailable,
    TokenRejected,
)
from tenantry.services.sso_rules import provider_speaks_for, single_sign_on_accounts
from tenantry.services.sso_secrets import SecretUnreadable, unseal

FACE = "console"
CALLBACK_PATH = "/auth/sso/callback"
SIGN_IN_EXPIRED = (
    "This sign-in is not valid any more (it was used, or it took too long). Start again."
)
PROVIDER_FAILED = (
    "Your identity provider could not be reached, or its answer could not be trusted. "
    "Try again; if it happens again, tell an admin of your organisation."
)
PROVIDER_REFUSED = "Your identity provider did not sign you in."
UNKNOWN_PERSON = (
    "You are not a member here yet. Ask an admin of your organisation to add you, then sign in "
    "again."
)
UNVERIFIED_ADDRESS = (
    "Your identity provider has not verified your e-mail address, and this organisation "
    "requires that. Verify it there, then sign in again."
)
NOT_SERVED = "Your identity provider may not sign in this e-mail address here."
OTHER_ADDRESS = (
    "Your identity provider signed you in with another e-mail address than the one you typed. "
    "Start again with the address you use there."
)
NO_ADDRESS = "Your identity provider did not tell your e-mail address."
NOT_ALLOWED = "This user may not sign in. Ask an admin of your organisation."
_DUMMY_HASH = hash_secret("not-a-sign-in")
_KEEP_ENDED_SIGN_INS = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class StartedSignIn:
    """Where to send the browser, and the secret that binds the sign-in to it (a cookie)."""

    url: str
    binding: str


@dataclass(frozen=True, slots=True)
class ProviderAnswer:
    """What the browser brought back from the provider, and the binding cookie it holds."""

    state: str
    code: str
    error: str
    binding: str


@dataclass(frozen=True, slots=True)
class FinishedSignIn:
    issued: IssuedSession
    next_url: str


class _Refused(Exception):
    def __init__(self, reason: str, message: str, user: User | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message
        self.user = user


def callback_url(ctx: ServiceContext) -> str:
    return ctx.settings.base_url.rstrip("/") + CALLBACK_PATH


# -- where an address signs in -----------------------------------------------------------------


def route(ctx: ServiceContext, email: str) -> str | None:
    """The account whose identity provider signs in this address, or None (a password)."""
    typed = typed_address(email)
    if not is_valid_email(typed):
        return None
    with ctx.uow(readonly=True) as uow:
        provider = uow.single_sign_on.for_domain(email_domain(typed))
        if provider is not None and _in_use(uow, provider.account_id):
            return provider.account_id
        user = uow.users.find_by_email(typed)
        return _route_of(uow, user) if user is not None else None


def _in_use(uow: UnitOfWork, account_id: str) -> bool:
    """A provider signs people in while its account uses SSO and is not closed (deactivated,
    or below a deactivated account)."""
    chain = uow.accounts.chain(account_id)
    return bool(chain) and chain[0].sso_enabled and not is_closed(chain)


def _route_of(uow: UnitOfWork, user: User) -> str | None:
    if user.is_network_managed:
        network = user.network_account_id
        found = network is not None and uow.single_sign_on.find(network) is not None
        return network if found else None
    required = single_sign_on_accounts(uow, user)
    providers = uow.single_sign_on.for_accounts(required) if required else {}
    return next((account_id for account_id in required if account_id in providers), None)


# -- going to the provider ---------------------------------------------------------------------


def start_sign_in(ctx: ServiceContext, account_id: str, email: str, next_url: str) -> StartedSignIn:
    """Keep a new sign-in through the account's provider; where to send the browser. Raises
    `Unauthenticated` when the provider cannot be reached."""
    client = _client(ctx)
    with ctx.uow(readonly=True) as uow:
        provider = uow.single_sign_on.find(account_id)
    if provider is None:
        raise NotFound(ErrorCode.NOT_FOUND, "This account has no identity provider.")
    state, nonce, binding = (secrets.token_urlsafe(32) for _ in range(3))
    verifier = secrets.token_urlsafe(48)
    request = AuthorizationRequest(
        issuer=provider.issuer,
        client_id=provider.client_id,
        redirect_uri=callback_url(ctx),
        scopes=provider.scopes,
        state=state,
        nonce=nonce,
        code_verifier=verifier,
        login_hint=typed_address(email),
    )
    try:
        url = client.authorization_url(request)
    except ProviderUnavailable:
        raise Unauthenticated(ErrorCode.UNAUTHENTICATED, PROVIDER_FAILED) from None
    now = ctx.now()
    pending = PendingSignIn(
        state_hash=hash_secret(state),
        binding_hash=hash_secret(binding),
        account_id=provider.account_id,
        nonce=nonce,
        code_verifier=verifier,
        next_url=next_url[:500],
        created_at=now,
        expires_at=now + SIGN_IN_LIFETIME,
        email=typed_address(email),
    )
    with ctx.uow() as uow:
        uow.single_sign_on.add_sign_in(pending, expired_before=now - _KEEP_ENDED_SIGN_INS)
    return StartedSignIn(url, binding)


# -- coming back -------------------------------------------------------------------------------


def finish_sign_in(ctx: ServiceContext, answer: ProviderAnswer, origin: Origin) -> FinishedSignIn:
    """Sign in the person the provider's answer names; `Unauthenticated` with a message a
    person can act on otherwise (and the attempt audited)."""
    client = _client(ctx)
    pending, provider = _claim(ctx, answer)
    try:
        if answer.error or not answer.code:
            raise _Refused("provider_refused", PROVIDER_REFUSED)
        claims = _exchange(ctx, client, provider, pending, answer.code)
        with ctx.uow() as uow:
            user = _signing_in(ctx, uow, provider, pending, claims, origin)
            stage = stage_after_password(uow, user)
            issued = open_session(ctx, uow, user, stage, origin, single_sign_on=True)
            if issued.stage is SessionStage.COMPLETE:
                complete_sign_in(ctx, uow, user, origin, method="single_sign_on")
            return FinishedSignIn(issued, pending.next_url)
    except _Refused as refused:
        with ctx.uow() as uow:
            label = refused.user.email if refused.user is not None else f"sso:{provider.account_id}"
            record_failure(ctx, uow, label, refused.user, origin, refused.reason)
        raise Unauthenticated(ErrorCode.UNAUTHENTICATED, refused.message) from None


def _claim(ctx: ServiceContext, answer: ProviderAnswer) -> tuple[PendingSignIn, IdentityProvider]:
    """The sign-in this answer is for, used up here (whatever follows), with its provider."""
    now = ctx.now()
    with ctx.uow() as uow:
        usable = 0 < len(answer.state) <= 128 and 0 < len(answer.binding) <= 128
        pending = uow.single_sign_on.find_sign_in(hash_secret(answer.state)) if usable else None
        bound = secret_matches(answer.binding, pending.binding_hash if pending else _DUMMY_HASH)
        if (
            pending is None
            or not bound
            or not pending.is_usable(now)
            or not uow.single_sign_on.use_sign_in(pending.state_hash, now)
        ):
            raise Unauthenticated(ErrorCode.UNAUTHENTICATED, SIGN_IN_EXPIRED)
        provider = uow.single_sign_on.find(pending.account_id)
    if provider is None:
        raise Unauthenticated(ErrorCode.UNAUTHENTICATED, SIGN_IN_EXPIRED)
    return pending, provider


def _exchange(
    ctx: ServiceContext,
    client: IdentityProviderClient,
    provider: IdentityProvider,
    pending: PendingSignIn,
    code: str,
) -> dict[str, Any]:
    try:
        return client.exchange_code(
            CodeExchange(
                issuer=provider.issuer,
                client_id=provider.client_id,
                client_secret=unseal(ctx.settings, provider.client_secret),
                redirect_uri=callback_url(ctx),
                code=code[:2048],
                code_verifier=pending.code_verifier,
                nonce=pending.nonce,
                now=ctx.now(),
            )
        )
    except TokenRejected as error:
        raise _Refused(f"token_rejected: {error}"[:200], PROVIDER_FAILED) from None
    except (ProviderUnavailable, SecretUnreadable):
        raise _Refused("provider_unavailable", PROVIDER_FAILED) from None


def _signing_in(
    ctx: ServiceContext,
    uow: UnitOfWork,
    provider: IdentityProvider,
    pending: PendingSignIn,
    claims: dict[str, Any],
    origin: Origin,
) -> User:
    """The user the claims name, checked, verified and (just in time) made a member."""
    raw = claims.get("email")
    if not isinstance(raw, str) or not is_valid_email(raw):
        raise _Refused("no_address", NO_ADDRESS)
    email = normalize_email(raw)
    user = uow.users.find_by_email(email)
    if email != pending.email:
        raise _Refused("other_address", OTHER_ADDRESS, user)
    if provider.require_verified_email and claims.get("email_verified") is not True:
        raise _Refused("address_unverified", UNVERIFIED_ADDRESS, user)
    # A provider speaks for newcomers of the domains it serves, and for an existing identity
    # only while its account manages every account that identity belongs to.
    if user is None and not provider.serves(email):
        raise _Refused("address_not_served", NOT_SERVED)
    if user is not None and not provider_speaks_for(uow, provider.account_id, user):
        raise _Refused("address_not_served", NOT_SERVED, user)
    if user is None:
        user = _join(ctx, uow, provider, email)
    if user.status is UserStatus.DEACTIVATED or user.has_expired(ctx.now().date()):
        raise _Refused("not_allowed", NOT_ALLOWED, user)
    if user.status is UserStatus.PENDING:
        user.status = UserStatus.ACTIVATED  # the person proved who they are
        uow.users.update(user)
    if not user.is_verified:
        # A second factor already set stays, and the session that follows must clear it.
        kept = uow.passkeys.has_second_factor(user.id)
        actor = user_actor(user, origin)
        prove_address(ctx, uow, user, actor, "single_sign_on", keep_second_factor=kept)
    return user


def _join(ctx: ServiceContext, uow: UnitOfWork, provider: IdentityProvider, email: str) -> User:
    """A person the provider signs in for the first time joins its account with the
    just-in-time role, active at once; without one, they are refused."""
    if provider.jit_role_key is None:
        raise _Refused("unknown_person", UNKNOWN_PERSON)
    chain = uow.accounts.chain(provider.account_id)
    if not chain or is_closed(chain):
        raise _Refused("account_deactivated", NOT_ALLOWED)
    account = chain[0]
    actor = Actor.system(face=FACE, label="single sign-on")
    try:
        role = usable_role(ctx, uow, account, provider.jit_role_key)
        spec = NewMember(email=email, role_key=role.key, consented=True)
        return change_member_in(ctx, uow, actor, account, role, spec).user
    except DomainError as error:
        raise _Refused(f"join_refused: {error.code}", error.message) from None


def _client(ctx: ServiceContext) -> IdentityProviderClient:
    if ctx.identity_providers is None:
        raise Unauthenticated(ErrorCode.UNAUTHENTICATED, PROVIDER_FAILED)
    return ctx.identity_providers
