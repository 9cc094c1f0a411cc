"""The OpenID Connect client (`tenantry.oidc`), built when a single sign-on first needs it.

Its libraries (an HTTP client, JOSE) cost each worker some 17 MB; a deployment whose accounts
use no identity provider never loads them.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from tenantry.services.sso_ports import AuthorizationRequest, CodeExchange
from tenantry.settings import Settings

if TYPE_CHECKING:
    from tenantry.oidc import OidcClient


class LazyOidcClient:
    """`IdentityProviderClient`, delegating to one `OidcClient` made on first use."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: OidcClient | None = None
        self._lock = threading.Lock()

    def authorization_url(self, request: AuthorizationRequest) -> str:
        return self._made().authorization_url(request)

    def exchange_code(self, exchange: CodeExchange) -> dict[str, Any]:
        return self._made().exchange_code(exchange)

    def _made(self) -> OidcClient:
        with self._lock:
            if self._client is None:
                from tenantry.oidc import OidcClient

                self._client = OidcClient(self._settings)
            return self._client
