"""The WebAuthn ceremonies, through the `webauthn` library: the options a browser passes to
`navigator.credentials.create()` / `.get()`, and checking what it sends back.

What the browser sends is untrusted input: anything malformed, signed by another key, over
another challenge, for another site or origin, or with a counter that went backwards is a
`CeremonyFailed`, never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.parse_authentication_credential_json import (
    parse_authentication_credential_json,
)
from webauthn.helpers.parse_registration_credential_json import (
    parse_registration_credential_json,
)
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from tenantry.domain.passkeys import CHALLENGE_LIFETIME, CeremonyFailed, Passkey, RelyingParty

MAX_CREDENTIAL_CHARS = 16_384
"""Far more than a real answer (a few KB with a large attestation): longer is refused unread."""
_TIMEOUT_MS = int(CHALLENGE_LIFETIME.total_seconds() * 1000)
# What parsing a hostile answer can raise besides the library's own errors (bad base64, CBOR
# or JSON, wrong types inside it).
_MALFORMED = (WebAuthnException, ValueError, TypeError, KeyError, IndexError, AttributeError)


@dataclass(frozen=True, slots=True)
class NewCredential:
    credential_id: str
    public_key: bytes
    sign_count: int
    transports: list[str]


def registration_options(
    party: RelyingParty,
    challenge: str,
    *,
    user_handle: str,
    user_name: str,
    display_name: str,
    existing: list[Passkey],
) -> str:
    """JSON for `navigator.credentials.create()`: user verification preferred, no attestation
    asked for, the person's passkeys excluded so one authenticator is not added twice."""
    options = generate_registration_options(
        rp_id=party.id,
        rp_name=party.name,
        user_id=user_handle.encode(),
        user_name=user_name,
        user_display_name=display_name,
        challenge=base64url_to_bytes(challenge),
        timeout=_TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[_descriptor(p) for p in existing],
    )
    return options_to_json(options)


def sign_in_options(party: RelyingParty, challenge: str, passkeys: list[Passkey]) -> str:
    """JSON for `navigator.credentials.get()`, offering the person's own passkeys."""
    options = generate_authentication_options(
        rp_id=party.id,
        challenge=base64url_to_bytes(challenge),
        timeout=_TIMEOUT_MS,
        allow_credentials=[_descriptor(p) for p in passkeys],
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return options_to_json(options)


def verify_new_credential(party: RelyingParty, challenge: str, answer: str) -> NewCredential:
    """The credential a `create()` answer registers, once its challenge, site, origin and
    user presence check out."""
    _check_size(answer)
    try:
        credential = parse_registration_credential_json(answer)
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=party.id,
            expected_origin=party.origin,
        )
    except _MALFORMED as error:
        raise CeremonyFailed(str(error)) from error
    transports = [t.value for t in credential.response.transports or []]
    return NewCredential(
        credential_id=bytes_to_base64url(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=sorted(set(transports)),
    )


def credential_of(answer: str) -> tuple[str, AuthenticationCredential]:
    """The credential id a `get()` answer names (base64url), and the answer parsed."""
    _check_size(answer)
    try:
        credential = parse_authentication_credential_json(answer)
    except _MALFORMED as error:
        raise CeremonyFailed(str(error)) from error
    return bytes_to_base64url(credential.raw_id), credential


def verify_assertion(
    party: RelyingParty, challenge: str, credential: AuthenticationCredential, passkey: Passkey
) -> int:
    """The authenticator's new signature counter, once the signature by `passkey`'s key over
    this challenge, site and origin checks out and the counter moved forward (a counter that
    stands still or goes back means a cloned authenticator; both at zero means it keeps none)."""
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=party.id,
            expected_origin=party.origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
        )
    except _MALFORMED as error:
        raise CeremonyFailed(str(error)) from error
    return verified.new_sign_count


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    transports = []
    for name in passkey.transports:
        try:
            transports.append(AuthenticatorTransport(name))
        except ValueError:
            continue  # a transport this library does not know yet: the browser finds it anyway
    return PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(passkey.credential_id), transports=transports or None
    )


def _check_size(answer: str) -> None:
    if not answer or len(answer) > MAX_CREDENTIAL_CHARS:
        raise CeremonyFailed("no answer, or one too long to be real")
