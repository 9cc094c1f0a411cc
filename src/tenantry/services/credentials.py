"""Credentials: API accounts, API tokens, access tokens, and authenticating a presented token."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tenantry.domain.accounts import Account, is_closed
from tenantry.domain.credentials import (
    ACCESS_TOKEN_PREFIX,
    API_TOKEN_PREFIX,
    AccessToken,
    ApiAccount,
    ApiToken,
    check_room_for_credential,
    validate_client_id,
)
from tenantry.domain.errors import (
    Conflict,
    ErrorCode,
    InvalidInput,
    NotFound,
    Throttled,
    Unauthenticated,
)
from tenantry.domain.ids import hash_secret, new_secret, new_token, secret_matches, split_token
from tenantry.domain.memberships import MembershipStatus
from tenantry.domain.roles import Need, Role
from tenantry.domain.throttling import Limits, SlidingWindow
from tenantry.domain.users import User, UserStatus, normalize_email
from tenantry.services import metrics, throttling
from tenantry.services.context import Actor, ActorKind, ServiceContext, record
from tenantry.services.credential_reads import access_token_rows, api_token_rows, read_cached
from tenantry.services.policy import acting_from, check_may_manage, require, require_grant
from tenantry.services.policy_credentials import check_credential_role, check_token_role
from tenantry.services.policy_roles import resolve_role, roles_of, usable_role
from tenantry.services.ports import UnitOfWork, WriterBusy
from tenantry.services.throttling import Throttle
from tenantry.settings import Settings

# Writing last-used times on every request would turn each read into a write; a minute's
# precision is what people need to spot an unused credential.
TOUCH_INTERVAL = timedelta(minutes=1)
_DUMMY_HASH = hash_secret("not-a-secret")
DEACTIVATED_CREDENTIAL = "The account this credential belongs to is deactivated."


@dataclass(slots=True)
class IssuedAccessToken:
    token: str
    expires_in: int


# -- API accounts (client credentials) ---------------------------------------------------------


def create_api_account(
    ctx: ServiceContext,
    actor: Actor,
    account_id: str,
    client_id: str,
    *,
    role_key: str | None = None,
) -> tuple[ApiAccount, str]:
    """A new API account acting with `role_key` (by default the maker's own role); the
    secret is returned here and never again."""
    client_id = validate_client_id(client_id)
    secret = new_secret(32)
    with ctx.uow() as uow:
        account, grant = require_grant(ctx, uow, actor, account_id, Need.MANAGE_API_ACCESS)
        actor_role = grant.role
        role = _credential_role(ctx, uow, account, actor_role, role_key or actor_role.key)
        if uow.api_accounts.find_by_client_id(client_id) is not None:
            raise Conflict(ErrorCode.ID_TAKEN, "This API account name is taken.", field="client_id")
        check_room_for_credential(uow.api_accounts.count_open(account_id), "API accounts")
        api_account = uow.api_accounts.add(
            ApiAccount(
                id=None,
                account_id=account_id,
                client_id=client_id,
                secret_hash=hash_secret(secret),
                role_key=role.key,
                created_by=actor.label,
                created_at=ctx.now(),
                minted_in_account_id=acting_from(grant, actor, account.id),
            )
        )
        record(
            ctx,
            uow,
            actor,
            "api_account.create",
            target_type="api_account",
            target_id=client_id,
            account_id=account_id,
            after={"client_id": client_id, "role": role.key},
        )
        return api_account, secret


def _credential_role(
    ctx: ServiceContext, uow: UnitOfWork, account: Account, actor_role: Role, role_key: str
) -> Role:
    """The role a new credential acts with: one of the account's, never above its maker's."""
    role = usable_role(ctx, uow, account, role_key)
    check_credential_role(actor_role, role)
    return role


def list_api_accounts(ctx: ServiceContext, actor: Actor, account_id: str) -> list[ApiAccount]:
    with ctx.uow(readonly=True) as uow:
        require(ctx, uow, actor, account_id, Need.READ_API_ACCESS)
        return uow.api_accounts.for_account(account_id)


def revoke_api_account(ctx: ServiceContext, actor: Actor, account_id: str, client_id: str) -> None:
    """Revoke an API account; its access tokens stop working at once."""
    with ctx.uow() as uow:
        require(ctx, uow, actor, account_id, Need.MANAGE_API_ACCESS)
        api_account = uow.api_accounts.find_by_client_id(client_id)
        if api_account is None or api_account.account_id != account_id:
            raise NotFound(ErrorCode.NOT_FOUND, "No such API account.", field="client_id")
        if api_account.revoked_at is None:
            api_account.revoked_at = ctx.now()
            uow.api_accounts.update(api_account)
            record(
                ctx,
                uow,
                actor,
                "api_account.revoke",
                target_type="api_account",
                target_id=client_id,
                account_id=account_id,
                before={"client_id": client_id, "revoked_at": None},
                after={"client_id": client_id, "revoked_at": api_account.revoked_at.isoformat()},
            )


def issue_access_token(
    ctx: ServiceContext, client_id: str, client_secret: str, *, source: str = "unknown"
) -> IssuedAccessToken:
    """The client-credentials grant. Failures are counted in the database (so the limits hold
    across processes) per client id from this network address and per network address; past a
    limit that address is refused unchecked, while the right secret from an address that has
    not failed still gets a token (`domain.throttling.Limits`)."""
    settings = ctx.settings
    now = ctx.now()
    throttle = _token_failures(settings)
    with ctx.uow() as uow:
        if throttling.refused(uow, throttle, client_id, source, now):
            metrics.TOKEN_GRANT_FAILURES.labels("throttled").inc()
            raise Throttled(ErrorCode.THROTTLED)
        api_account = uow.api_accounts.find_by_client_id(client_id)
        # Compare against a dummy digest when the client is unknown, so timing tells nothing.
        valid = secret_matches(
            client_secret, api_account.secret_hash if api_account else _DUMMY_HASH
        )
        if api_account is not None and valid and api_account.revoked_at is None:
            assert api_account.id is not None
            chain = uow.accounts.chain(api_account.account_id)
            if is_closed(chain):
                metrics.TOKEN_GRANT_FAILURES.labels("deactivated").inc()
                raise Unauthenticated(ErrorCode.UNAUTHENTICATED, DEACTIVATED_CREDENTIAL)
            token, key, digest = new_token(ACCESS_TOKEN_PREFIX)
            ttl = settings.access_token_ttl_seconds
            uow.access_tokens.add(
                AccessToken(
                    id=None,
                    key=key,
                    api_account_id=api_account.id,
                    secret_hash=digest,
                    created_at=now,
                    expires_at=now + timedelta(seconds=ttl),
                )
            )
            api_account.last_used_at = now
            uow.api_accounts.update(api_account)
            return IssuedAccessToken(token, ttl)
    with ctx.uow() as uow:
        throttling.count(uow, throttle, client_id, source, now)
    metrics.TOKEN_GRANT_FAILURES.labels("invalid_credentials").inc()
    raise Unauthenticated(ErrorCode.UNAUTHENTICATED, "Invalid client credentials.")


def _token_failures(settings: Settings) -> Throttle:
    return Throttle(
        "token-failures",
        SlidingWindow(timedelta(seconds=settings.token_failure_window_seconds)),
        Limits(
            per_pair=settings.token_failures_per_window,
            per_source=settings.token_failures_per_window,
            ceiling=settings.token_failure_ceiling_per_client,
        ),
    )


# -- API tokens (act as a user in an account) --------------------------------------------------


def create_api_token(
    ctx: ServiceContext,
    actor: Actor,
    account_id: str,
    *,
    user_email: str | None = None,
    name: str = "",
    expires_at: datetime | None = None,
    role_key: str | None = None,
) -> tuple[ApiToken, str, User]:
    """A long-lived token acting as a member of the account (by default its first admin),
    with `role_key` (by default the member's role) as the most it may do.

    Its role is never above its maker's nor its user's; and minting one for a member whose
    role exceeds the maker's own takes an admin, as changing that member would, since the
    token's actions are that member's in the audit trail."""
    with ctx.uow() as uow:
        account, grant = require_grant(ctx, uow, actor, account_id, Need.MANAGE_API_ACCESS)
        actor_role = grant.role
        user = _token_user(ctx, uow, account_id, user_email)
        membership = uow.memberships.find(user.id, account_id)
        if membership is None or membership.status is not MembershipStatus.ACTIVE:
            raise InvalidInput(
                ErrorCode.INVALID_INPUT,
                "A token acts as an active member of the account; this user is not one.",
                field="user",
            )
        check_may_manage(ctx, uow, account, actor_role, membership, field="user")
        role = _credential_role(ctx, uow, account, actor_role, role_key or membership.role_key)
        check_token_role(role, resolve_role(ctx, uow, account, membership.role_key))
        check_room_for_credential(uow.api_tokens.count_open(account_id), "API tokens")
        token, key, digest = new_token(API_TOKEN_PREFIX)
        api_token = uow.api_tokens.add(
            ApiToken(
                id=None,
                key=key,
                account_id=account.id,
                user_id=user.id,
                name=name.strip()[:100] or f"token for {user.email}",
                secret_hash=digest,
                role_key=role.key,
                created_by=actor.label,
                created_at=ctx.now(),
                expires_at=expires_at,
                minted_in_account_id=acting_from(grant, actor, account.id),
            )
        )
        record(
            ctx,
            uow,
            actor,
            "api_token.create",
            target_type="api_token",
            target_id=key,
            account_id=account_id,
            after={"user": user.email, "name": api_token.name, "role": role.key},
        )
        return api_token, token, user


def _token_user(
    ctx: ServiceContext, uow: UnitOfWork, account_id: str, user_email: str | None
) -> User:
    if user_email:
        user = uow.users.find_by_email(normalize_email(user_email))
        if user is None:
            raise NotFound(ErrorCode.USER_NOT_FOUND, field="user")
        return user
    account = uow.accounts.get(account_id)
    admin_keys = [r.key for r in roles_of(ctx, uow, account).values() if r.is_admin_like]
    user_id = uow.memberships.first_with_roles(account_id, admin_keys)
    if user_id is None:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            "The account has no admin to act as; name a user.",
            field="user",
        )
    return uow.users.get(user_id)


def list_api_tokens(ctx: ServiceContext, actor: Actor, account_id: str) -> list[ApiToken]:
    with ctx.uow(readonly=True) as uow:
        require(ctx, uow, actor, account_id, Need.READ_API_ACCESS)
        return uow.api_tokens.for_account(account_id)


@dataclass(slots=True)
class ListedApiToken:
    """An API token as a listing shows it: with the e-mail address of the user it acts as."""

    token: ApiToken
    user_email: str | None  # None when the user no longer exists


def list_api_tokens_with_users(
    ctx: ServiceContext, actor: Actor, account_id: str
) -> list[ListedApiToken]:
    """`list_api_tokens` with each token's user, read in one more statement."""
    with ctx.uow(readonly=True) as uow:
        require(ctx, uow, actor, account_id, Need.READ_API_ACCESS)
        tokens = uow.api_tokens.for_account(account_id)
        users = uow.users.find_many({t.user_id for t in tokens})
    return [
        ListedApiToken(t, users[t.user_id].email if t.user_id in users else None) for t in tokens
    ]


def revoke_api_token(ctx: ServiceContext, actor: Actor, account_id: str, key: str) -> None:
    with ctx.uow() as uow:
        require(ctx, uow, actor, account_id, Need.MANAGE_API_ACCESS)
        token = uow.api_tokens.find_by_key(key)
        if token is None or token.account_id != account_id:
            raise NotFound(ErrorCode.NOT_FOUND, "No such API token.", field="token")
        if token.revoked_at is None:
            token.revoked_at = ctx.now()
            uow.api_tokens.update(token)
            record(
                ctx,
                uow,
                actor,
                "api_token.revoke",
                target_type="api_token",
                target_id=key,
                account_id=account_id,
                before={"name": token.name, "revoked_at": None},
                after={"name": token.name, "revoked_at": token.revoked_at.isoformat()},
            )


# -- authenticating ----------------------------------------------------------------------------


def authenticate(
    ctx: ServiceContext, token: str, *, face: str, request_id: str | None = None
) -> Actor:
    """The actor a presented bearer token stands for, or Unauthenticated."""
    now = ctx.now()
    parts = split_token(token, API_TOKEN_PREFIX)
    if parts is not None:
        return _api_token_actor(ctx, parts, now, face, request_id)
    parts = split_token(token, ACCESS_TOKEN_PREFIX)
    if parts is not None:
        return _access_token_actor(ctx, parts, now, face, request_id)
    raise Unauthenticated(ErrorCode.UNAUTHENTICATED)


def _api_token_actor(
    ctx: ServiceContext, parts: tuple[str, str], now: datetime, face: str, request_id: str | None
) -> Actor:
    key, secret = parts
    token, user = read_cached(
        ctx, f"{API_TOKEN_PREFIX}_{key}", lambda uow: api_token_rows(uow, key)
    )
    valid = secret_matches(secret, token.secret_hash if token else _DUMMY_HASH)
    if token is None or not valid or token.revoked_at is not None:
        raise Unauthenticated(ErrorCode.UNAUTHENTICATED)
    if token.expires_at is not None and token.expires_at <= now:
        raise Unauthenticated(ErrorCode.UNAUTHENTICATED, "The token has expired.")
    if user is None or user.status is UserStatus.DEACTIVATED:
        raise Unauthenticated(ErrorCode.UNAUTHENTICATED, "The token's user is deactivated.")
    if user.has_expired(now.date()):
        raise Unauthenticated(ErrorCode.UNAUTHENTICATED, "The token's user has expired.")
    if token.last_used_at is None or now - token.last_used_at > TOUCH_INTERVAL:
        _touch(ctx, lambda uow: uow.api_tokens.touch(key, now))
    return Actor(
        ActorKind.API_TOKEN,
        id=key,
        label=user.email,
        user_id=user.id,
        home_account_id=token.account_id,
        face=face,
        request_id=request_id,
        role_key=token.role_key,
        minted_by=token.created_by,
        minted_in=token.minted_in_account_id,
    )


def _touch(ctx: ServiceContext, touch: Callable[[UnitOfWork], None]) -> None:
    """Write a credential's last use, on its own (what was read may be a second old), unless
    that would wait for SQLite's single writer: a call that only reads must not queue behind a
    long write for it. A use that is not written is written by a later one."""
    with contextlib.suppress(WriterBusy), ctx.uow(waits=False) as uow:
        touch(uow)


def _access_token_actor(
    ctx: ServiceContext, parts: tuple[str, str], now: datetime, face: str, request_id: str | None
) -> Actor:
    key, secret = parts
    token, api_account = read_cached(
        ctx, f"{ACCESS_TOKEN_PREFIX}_{key}", lambda uow: access_token_rows(uow, key)
    )
    valid = secret_matches(secret, token.secret_hash if token else _DUMMY_HASH)
    if token is None or not valid or token.revoked_at is not None or token.expires_at <= now:
        raise Unauthenticated(ErrorCode.UNAUTHENTICATED)
    if api_account is None or api_account.revoked_at is not None:
        raise Unauthenticated(ErrorCode.UNAUTHENTICATED)
    if api_account.last_used_at is None or now - api_account.last_used_at > TOUCH_INTERVAL:
        account_id = api_account.id
        assert account_id is not None
        _touch(ctx, lambda uow: uow.api_accounts.touch(account_id, now))
    return Actor(
        ActorKind.API_ACCOUNT,
        id=api_account.client_id,
        label=api_account.client_id,
        home_account_id=api_account.account_id,
        face=face,
        request_id=request_id,
        role_key=api_account.role_key,
        minted_by=api_account.created_by,
        minted_in=api_account.minted_in_account_id,
    )
