"""Audit events: who changed what, through which face, with the state before and after."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class AuditEvent:
    action: str
    target_type: str
    target_id: str
    account_id: str | None
    actor_kind: str
    actor_id: str
    actor_label: str
    face: str
    request_id: str | None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    at: datetime | None = None
    id: int | None = None
    actor_user_id: str | None = None
    """For a credential: the user it acts as (an API token's user)."""
    actor_minted_by: str | None = None
    """For a credential: who created it."""
    extra: dict[str, Any] = field(default_factory=dict)
