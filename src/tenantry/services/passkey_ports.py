"""What the passkey services need from storage (beside `ports`, which holds the rest)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from tenantry.domain.passkeys import ChallengePurpose, Passkey, PasskeyChallenge


class PasskeyRepository(Protocol):
    """Passkeys and the challenges sessions are given to sign. `take_challenge` and
    `advance_sign_count` are atomic and answer whether this call won."""

    def has_second_factor(self, user_id: str) -> bool:
        """Whether the person has any second factor: a confirmed TOTP app or a passkey. The
        one answer to "has two-factor sign-in", in one statement."""
        ...

    def for_user(self, user_id: str) -> list[Passkey]: ...
    def find_by_credential(self, credential_id: str) -> Passkey | None: ...
    def add(self, passkey: Passkey) -> Passkey: ...
    def delete(self, user_id: str, passkey_id: int) -> bool: ...
    def delete_for_user(self, user_id: str) -> int: ...
    def advance_sign_count(
        self, passkey_id: int, old_count: int, new_count: int, used_at: datetime
    ) -> bool:
        """Record a use; False when another use got there first (the count moved)."""
        ...

    def put_challenge(self, challenge: PasskeyChallenge) -> None: ...
    def take_challenge(
        self, session_key: str, purpose: ChallengePurpose
    ) -> PasskeyChallenge | None:
        """The session's challenge for `purpose`, deleted as it is read; None when there is
        none (never issued, or already used)."""
        ...
