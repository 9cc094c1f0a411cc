"""The ID-token checks of the OpenID Connect client, token by token: only the provider's
asymmetric keys sign, and the issuer, audience, expiry and nonce must be ours. (The whole flow
runs against a real provider in tests/api/web/test_single_sign_on.py.)"""

from __future__ import annotations

import base64
import json
import socket
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

from tenantry.oidc import OidcClient
from tenantry.services.metrics import sign_in_failure_label
from tenantry.services.sso_ports import CodeExchange, ProviderUnavailable, TokenRejected
from tenantry.settings import Settings

ISSUER = "https://idp.example.com"
JWKS = f"{ISSUER}/jwks"
METADATA = {"issuer": ISSUER, "jwks_uri": JWKS}
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})


@pytest.fixture
def client() -> OidcClient:
    built = OidcClient()
    # The provider's published keys, as the client keeps them after fetching (no network here).
    built._keys[JWKS] = KeySet([RSAKey.import_key(KEY.as_dict(private=False))])
    return built


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "aud": "tenantry",
        "sub": "ann",
        "iat": now,
        "exp": now + 300,
        "nonce": "n-1",
        "email": "ann@example.com",
    } | changes


def exchange() -> CodeExchange:
    return CodeExchange(
        ISSUER, "tenantry", "secret", "https://t/cb", "code", "v", "n-1", datetime.now(UTC)
    )


def signed(payload: dict[str, Any]) -> str:
    return jwt.encode({"alg": "RS256", "kid": "k1"}, payload, KEY)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_good_token_passes(client: OidcClient) -> None:
    assert client._verify(signed(claims()), METADATA, exchange())["email"] == "ann@example.com"


@pytest.mark.parametrize(
    "changes",
    [
        {"iss": "https://other.example.com"},
        {"aud": "someone-else"},
        {"aud": ["tenantry", "someone-else"]},  # several audiences and no azp naming us
        {"nonce": "n-2"},
        {"exp": int(time.time()) - 600},
        {"nonce": None},
    ],
)
def test_claims_that_are_not_ours_are_refused(client: OidcClient, changes: dict[str, Any]) -> None:
    payload = {k: v for k, v in claims(**changes).items() if v is not None}
    with pytest.raises(TokenRejected):
        client._verify(signed(payload), METADATA, exchange())


def test_unsigned_and_shared_secret_tokens_are_refused(client: OidcClient) -> None:
    unsigned = f"{_b64({'alg': 'none'})}.{_b64(claims())}."
    with pytest.raises(TokenRejected):
        client._verify(unsigned, METADATA, exchange())
    # HS256 under the public key's text: the classic confusion of key kinds.
    public = OctKey.import_key(json.dumps(KEY.as_dict(private=False)).encode())
    confused = jwt.encode({"alg": "HS256", "kid": "k1"}, claims(), public)
    with pytest.raises(TokenRejected):
        client._verify(confused, METADATA, exchange())


def _resolving_to(monkeypatch: pytest.MonkeyPatch, address: str) -> None:
    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://idp.example.com", "93.184.216.34"),  # not https
        ("https://idp.example.com", "127.0.0.1"),
        ("https://idp.example.com", "10.1.2.3"),
        ("https://idp.example.com", "169.254.169.254"),  # a cloud's metadata service
        ("https://idp.example.com", "::ffff:192.168.0.1"),
    ],
)
def test_a_provider_on_a_private_address_or_over_http_is_never_reached(
    monkeypatch: pytest.MonkeyPatch, url: str, address: str
) -> None:
    _resolving_to(monkeypatch, address)
    reached: list[str] = []
    strict = OidcClient(Settings(sso_allow_insecure=False))
    monkeypatch.setattr(strict._http, "get", lambda target, **_: reached.append(target))
    with pytest.raises(ProviderUnavailable):
        strict._discover(url)
    assert reached == []


def test_every_endpoint_discovery_names_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    addresses = {"idp.example.com": "93.184.216.34", "internal.example.com": "10.0.0.7"}

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (addresses[host], port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    document = {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/authorize",
        "token_endpoint": "https://internal.example.com/token",
        "jwks_uri": JWKS,
    }
    strict = OidcClient(Settings(sso_allow_insecure=False))
    monkeypatch.setattr(strict, "_get_json", lambda url: document)
    with pytest.raises(ProviderUnavailable, match="not a public address"):
        strict._discover(ISSUER)
    addresses["internal.example.com"] = "93.184.216.35"
    assert strict._discover(ISSUER) == document


def test_a_providers_words_never_become_a_metrics_label() -> None:
    garbage = "token_rejected: algorithm 'x-\\u2603-' + 'a' * 90 + ' is not accepted"
    assert sign_in_failure_label(garbage) == "token_rejected"
    assert sign_in_failure_label("token_rejected: claims: ExpiredTokenError") == "token_rejected"
    assert sign_in_failure_label("join_refused: 409") == "join_refused"
    assert sign_in_failure_label("wrong_password") == "wrong_password"
    assert sign_in_failure_label("algorithm 'HS256-evil' is not accepted") == "other"
    assert sign_in_failure_label("") == "other"
