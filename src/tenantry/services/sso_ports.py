"""What single sign-on needs from the outside: its storage, and an OpenID Connect client that
talks to identity providers (discovery, the token endpoint, signing keys)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from tenantry.domain.sso import IdentityProvider, PendingSignIn


class SingleSignOnRepository(Protocol):
    def find(self, account_id: str) -> IdentityProvider | None: ...
    def for_accounts(self, account_ids: Collection[str]) -> dict[str, IdentityProvider]: ...
    def for_domain(self, domain: str) -> IdentityProvider | None: ...
    def domain_holders(self, domains: Collection[str]) -> dict[str, str]: ...
    def save(self, provider: IdentityProvider, *, new: bool) -> None: ...
    def delete(self, account_id: str) -> bool: ...
    def add_sign_in(self, pending: PendingSignIn, *, expired_before: datetime) -> None: ...
    def find_sign_in(self, state_hash: str) -> PendingSignIn | None: ...
    def use_sign_in(self, state_hash: str, now: datetime) -> bool: ...


class ProviderUnavailable(Exception):
    """The identity provider could not be reached, or answered something unusable."""


class TokenRejected(Exception):
    """The provider's ID token (or its answer to the code) is not to be trusted."""


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    issuer: str
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str
    nonce: str
    code_verifier: str
    login_hint: str


@dataclass(frozen=True, slots=True)
class CodeExchange:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    code: str
    code_verifier: str
    nonce: str
    now: datetime


class IdentityProviderClient(Protocol):
    def authorization_url(self, request: AuthorizationRequest) -> str:
        """Where to send the browser (discovery tells the endpoint)."""
        ...

    def exchange_code(self, exchange: CodeExchange) -> dict[str, Any]:
        """Trade the code for tokens and answer the ID token's checked claims (signature
        against the provider's keys, issuer, audience, expiry and nonce)."""
        ...
