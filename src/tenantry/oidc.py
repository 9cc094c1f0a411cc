"""The OpenID Connect side of `services.sso_ports.IdentityProviderClient`: discovery, the
token endpoint (authorization code with PKCE), and ID-token checks with joserfc.

A provider's metadata is kept a few minutes and its signing keys until a token names a key
they lack: then they are fetched again, once (key rotation). Nothing here logs a secret.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import quote

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import BadSignatureError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from tenantry.services.sso_ports import (
    AuthorizationRequest,
    CodeExchange,
    ProviderUnavailable,
    TokenRejected,
)

METADATA_SECONDS = 300.0
LEEWAY_SECONDS = 60
"""Clock skew allowed between us and a provider on `exp`, `iat` and `nbf`."""
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
"""Asymmetric signatures only: `none` and shared-secret ones are never accepted."""
MAX_ANSWER_BYTES = 512 * 1024


class OidcClient:
    def __init__(self, *, timeout_seconds: float = 10.0) -> None:
        self._http = httpx.Client(timeout=timeout_seconds, follow_redirects=False)
        self._lock = threading.Lock()
        self._metadata: dict[str, tuple[float, dict[str, Any]]] = {}
        self._keys: dict[str, KeySet] = {}

    def close(self) -> None:
        self._http.close()

    # -- the port

    def authorization_url(self, request: AuthorizationRequest) -> str:
        metadata = self._discover(request.issuer)
        params = {
            "response_type": "code",
            "client_id": request.client_id,
            "redirect_uri": request.redirect_uri,
            "scope": " ".join(request.scopes),
            "state": request.state,
            "nonce": request.nonce,
            "code_challenge": create_s256_code_challenge(request.code_verifier),
            "code_challenge_method": "S256",
            "login_hint": request.login_hint,
        }
        return str(httpx.URL(metadata["authorization_endpoint"]).copy_merge_params(params))

    def exchange_code(self, exchange: CodeExchange) -> dict[str, Any]:
        metadata = self._discover(exchange.issuer)
        form = {
            "grant_type": "authorization_code",
            "code": exchange.code,
            "redirect_uri": exchange.redirect_uri,
            "code_verifier": exchange.code_verifier,
        }
        methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        auth: httpx.Auth | None = None
        if "client_secret_basic" in methods:
            # RFC 6749 2.3.1: both are form-encoded before they go into the Basic header.
            auth = httpx.BasicAuth(
                quote(exchange.client_id, safe=""), quote(exchange.client_secret, safe="")
            )
        else:
            form |= {"client_id": exchange.client_id, "client_secret": exchange.client_secret}
        try:
            response = self._http.post(
                metadata["token_endpoint"], data=form, auth=auth or httpx.USE_CLIENT_DEFAULT
            )
        except httpx.HTTPError as error:
            raise ProviderUnavailable(type(error).__name__) from None
        if response.status_code != 200:
            raise TokenRejected(f"the token endpoint answered {response.status_code}")
        body = _json(response)
        id_token = body.get("id_token")
        if not isinstance(id_token, str):
            raise TokenRejected("no ID token")
        return self._verify(id_token, metadata, exchange)

    # -- ID tokens

    def _verify(
        self, id_token: str, metadata: dict[str, Any], exchange: CodeExchange
    ) -> dict[str, Any]:
        try:
            header = extract_compact(id_token.encode()).headers()
        except (JoseError, ValueError):
            raise TokenRejected("not a signed token") from None
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise TokenRejected(f"algorithm {algorithm!r} is not accepted")
        jwks_uri = metadata["jwks_uri"]
        try:
            token = self._decode(id_token, algorithm, self._key_set(jwks_uri, refresh=False))
        except (InvalidKeyIdError, BadSignatureError) as error:
            if isinstance(error, BadSignatureError) and header.get("kid") is not None:
                raise TokenRejected("bad signature") from None
            # A key we have not seen: the provider may have rotated its keys.
            try:
                token = self._decode(id_token, algorithm, self._key_set(jwks_uri, refresh=True))
            except (InvalidKeyIdError, BadSignatureError):
                raise TokenRejected("signed with an unknown key") from None
        claims = dict(token.claims)
        _check_claims(claims, metadata["issuer"], exchange)
        return claims

    @staticmethod
    def _decode(id_token: str, algorithm: str, keys: KeySet) -> jwt.Token:
        try:
            return jwt.decode(id_token, keys, algorithms=[algorithm])
        except (InvalidKeyIdError, BadSignatureError):
            raise
        except (JoseError, ValueError) as error:
            raise TokenRejected(type(error).__name__) from None

    def _key_set(self, jwks_uri: str, *, refresh: bool) -> KeySet:
        with self._lock:
            cached = self._keys.get(jwks_uri)
        if cached is not None and not refresh:
            return cached
        body = self._get_json(jwks_uri)
        try:
            keys = KeySet.import_key_set(body)  # type: ignore[arg-type]
        except (JoseError, ValueError, KeyError, TypeError):
            raise ProviderUnavailable("unusable key set") from None
        with self._lock:
            self._keys[jwks_uri] = keys
        return keys

    # -- discovery

    def _discover(self, issuer: str) -> dict[str, Any]:
        now = time.monotonic()
        with self._lock:
            cached = self._metadata.get(issuer)
        if cached is not None and now - cached[0] < METADATA_SECONDS:
            return cached[1]
        metadata = self._get_json(f"{issuer}/.well-known/openid-configuration")
        # OpenID Connect Discovery 4.3: the document must name the issuer it was asked for.
        if metadata.get("issuer") != issuer:
            raise ProviderUnavailable("the discovery document names another issuer")
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            value = metadata.get(name)
            if not isinstance(value, str) or not value.startswith(("https://", "http://")):
                raise ProviderUnavailable(f"no {name}")
        with self._lock:
            self._metadata[issuer] = (now, metadata)
        return metadata

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = self._http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            raise ProviderUnavailable(type(error).__name__) from None
        if response.status_code != 200:
            raise ProviderUnavailable(f"{url} answered {response.status_code}")
        return _json(response)


def _json(response: httpx.Response) -> dict[str, Any]:
    if len(response.content) > MAX_ANSWER_BYTES:
        raise ProviderUnavailable("answer too large")
    try:
        body = response.json()
    except ValueError:
        raise ProviderUnavailable("not JSON") from None
    if not isinstance(body, dict):
        raise ProviderUnavailable("not a JSON object")
    return body


def _check_claims(claims: dict[str, Any], issuer: str, exchange: CodeExchange) -> None:
    registry = jwt.JWTClaimsRegistry(
        now=int(exchange.now.timestamp()),
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": exchange.client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": exchange.nonce},
    )
    try:
        registry.validate(claims)
    except JoseError as error:
        raise TokenRejected(f"claims: {type(error).__name__}") from None
    audience = claims.get("aud")
    # OpenID Connect Core 3.1.3.7: with several audiences, the party it was issued to is us.
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != exchange.client_id:
        raise TokenRejected("issued to another party")
