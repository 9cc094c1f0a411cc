"""The ID-token checks of the OpenID Connect client, token by token: only the provider's
asymmetric keys sign, and the issuer, audience, expiry and nonce must be ours. (The whole flow
runs against a real provider in tests/api/web/test_single_sign_on.py.)"""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

from tenantry.oidc import OidcClient
from tenantry.services.sso_ports import CodeExchange, TokenRejected

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
