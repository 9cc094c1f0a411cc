"""What the account security policy needs from storage (beside `ports`, which it extends)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from tenantry.domain.account_policy import Breach


class AccountPolicyRepository(Protocol):
    def members_breaking(
        self, account_id: str, breach: Breach, *, domains: Sequence[str] = (), limit: int
    ) -> tuple[list[tuple[str, str]], int]:
        """A page of the account's members (user id, address) who break the policy as
        `breach` says, by address, and how many there are in all."""
        ...

    def cap_sessions(
        self,
        lifetime: timedelta,
        now: datetime,
        *,
        account_id: str | None = None,
        user_id: str | None = None,
    ) -> int:
        """End the live sessions of the account's active members (or of one user) at most
        `lifetime` after they began; how many were shortened."""
        ...
