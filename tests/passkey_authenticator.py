"""A software WebAuthn authenticator, for tests: a real P-256 key (from `cryptography`) that
answers `navigator.credentials.create()` and `.get()` options as a browser and authenticator
would, with real clientDataJSON, authenticatorData and ECDSA signatures.

Each answer can be bent (another origin, site, challenge, counter, key) to show what the
server refuses.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

USER_PRESENT = 0x01
USER_VERIFIED = 0x04
ATTESTED_DATA = 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftwareAuthenticator:
    """One credential on one authenticator, with its signature counter."""

    def __init__(self, *, counts: bool = True) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(32)
        self.counts = counts
        """False: an authenticator that keeps no counter (always 0), as synced passkeys do."""
        self.sign_count = 0
        self.user_handle: bytes | None = None

    @property
    def id(self) -> str:
        return b64url(self.credential_id)

    def create(
        self,
        options_json: str,
        origin: str,
        *,
        rp_id: str | None = None,
        challenge: str | None = None,
        flags: int = USER_PRESENT | USER_VERIFIED | ATTESTED_DATA,
    ) -> str:
        """The JSON a browser sends after `navigator.credentials.create(options)`."""
        options = json.loads(options_json)
        self.user_handle = from_b64url(options["user"]["id"])
        client_data = _client_data("webauthn.create", challenge or options["challenge"], origin)
        numbers = self.key.public_key().public_numbers()
        cose_key = {
            1: 2,  # kty: EC2
            3: -7,  # alg: ES256
            -1: 1,  # crv: P-256
            -2: numbers.x.to_bytes(32, "big"),
            -3: numbers.y.to_bytes(32, "big"),
        }
        auth_data = (
            _rp_hash(rp_id or options["rp"]["id"])
            + bytes([flags])
            + struct.pack(">I", self.sign_count)
            + bytes(16)  # AAGUID: none
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + cbor2.dumps(cose_key)
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return _credential(
            self.credential_id,
            {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal", "hybrid"],
            },
        )

    def get(
        self,
        options_json: str,
        origin: str,
        *,
        rp_id: str | None = None,
        challenge: str | None = None,
        sign_count: int | None = None,
        flags: int = USER_PRESENT | USER_VERIFIED,
        key: ec.EllipticCurvePrivateKey | None = None,
    ) -> str:
        """The JSON a browser sends after `navigator.credentials.get(options)`, signed by
        this credential's key (or `key`), its counter moved on (or set to `sign_count`)."""
        options = json.loads(options_json)
        allowed = {c["id"] for c in options.get("allowCredentials", [])}
        assert not allowed or self.id in allowed, "the options do not offer this credential"
        if sign_count is not None:
            self.sign_count = sign_count
        elif self.counts:
            self.sign_count += 1
        client_data = _client_data("webauthn.get", challenge or options["challenge"], origin)
        auth_data = (
            _rp_hash(rp_id or options["rpId"]) + bytes([flags]) + struct.pack(">I", self.sign_count)
        )
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = (key or self.key).sign(signed, ec.ECDSA(hashes.SHA256()))
        response: dict[str, Any] = {
            "clientDataJSON": b64url(client_data),
            "authenticatorData": b64url(auth_data),
            "signature": b64url(signature),
        }
        if self.user_handle is not None:
            response["userHandle"] = b64url(self.user_handle)
        return _credential(self.credential_id, response)


def _rp_hash(rp_id: str) -> bytes:
    return hashlib.sha256(rp_id.encode()).digest()


def _client_data(kind: str, challenge: str, origin: str) -> bytes:
    return json.dumps(
        {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
    ).encode()


def _credential(credential_id: bytes, response: dict[str, Any]) -> str:
    return json.dumps(
        {
            "id": b64url(credential_id),
            "rawId": b64url(credential_id),
            "type": "public-key",
            "response": response,
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
    )
