"""What authenticating a presented token reads: the token and its owner (a user, or an API
account), in a read transaction, or as read less than a second ago (`credential_cache`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tenantry.domain.credentials import AccessToken, ApiAccount, ApiToken
from tenantry.domain.errors import NotFound
from tenantry.domain.users import User
from tenantry.services.context import ServiceContext
from tenantry.services.ports import UnitOfWork

T = TypeVar("T")


def read_cached(ctx: ServiceContext, key: str, read: Callable[[UnitOfWork], T]) -> T:
    """What `read` gives in a read transaction, or what it gave less than a second ago;
    cached values are never changed, only replaced."""
    cache = ctx.credential_cache
    found: T | None = cache.get(key)
    if found is None:
        started = cache.start()
        with ctx.uow(readonly=True) as uow:
            found = read(uow)
        cache.put(key, found, started)
    return found


def api_token_rows(uow: UnitOfWork, key: str) -> tuple[ApiToken | None, User | None]:
    token = uow.api_tokens.find_by_key(key)
    return token, (uow.users.find(token.user_id) if token is not None else None)


def access_token_rows(uow: UnitOfWork, key: str) -> tuple[AccessToken | None, ApiAccount | None]:
    """The token and its API account, or None for an account that is not the token's: two
    reads, between which both may have been deleted and, on SQLite, a new API account made
    with the same id (the highest id deleted is taken again). No token predates its account."""
    token = uow.access_tokens.find_by_key(key)
    if token is None:
        return None, None
    try:
        api_account = uow.api_accounts.get(token.api_account_id)
    except NotFound:  # deleted, with the token, since the token was read: refused
        return token, None
    return token, (api_account if api_account.created_at <= token.created_at else None)
