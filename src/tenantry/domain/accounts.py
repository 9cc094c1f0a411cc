"""Accounts (tenants): partner, agency and advertiser accounts in one tree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum

from tenantry.domain.errors import ErrorCode, InvalidInput

MAX_NAME_LENGTH = 200


class AccountKind(StrEnum):
    PARTNER = "partner"
    AGENCY = "agency"
    ADVERTISER = "advertiser"

    @property
    def is_host_like(self) -> bool:
        """Partner and agency accounts are on one side of the AppsFlyer multi-account rules."""
        return self is not AccountKind.ADVERTISER


class SsoMode(StrEnum):
    """How an account's members sign in to the console. "Uses SSO" in the multi-account rules
    means any mode but off."""

    OFF = "off"
    ALLOWED = "allowed"
    REQUIRED = "required"


class AccountStatus(IntEnum):
    """Numbers as the GraphQL Tenant object documents them."""

    ACTIVE = 0
    PENDING_CONFIGURATION = 1
    DEACTIVATED = 2


@dataclass(slots=True)
class Account:
    id: str
    name: str
    kind: AccountKind
    parent_id: str | None = None
    status: AccountStatus = AccountStatus.ACTIVE
    can_partner_manage: bool = True
    event_enrichment: bool = False
    id_from_network: str | None = None
    multi_account_users: bool = True
    sso_enabled: bool = False
    two_factor_required: bool = False
    owner_user_id: str | None = None
    invitation_ttl_days: int | None = None
    # Kept beside `sso_enabled` (rather than replacing it) so that a process of the previous
    # release still reads "uses SSO" correctly from a migrated database.
    sso_required: bool = False
    allowed_email_domains: tuple[str, ...] = ()
    session_lifetime_minutes: int | None = None
    custom_data: dict[str, str] = field(default_factory=dict)
    created_at: datetime | None = None

    @property
    def sso_mode(self) -> SsoMode:
        if not self.sso_enabled:
            return SsoMode.OFF
        return SsoMode.REQUIRED if self.sso_required else SsoMode.ALLOWED


@dataclass(slots=True, frozen=True)
class AccountLink:
    """An account's place in the tree, without its details."""

    id: str
    parent_id: str | None
    can_partner_manage: bool


def validate_account_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if any(not ch.isprintable() for ch in cleaned):
        # Control and formatting characters (escapes, bidirectional overrides, zero-width
        # ones) would let a name pass for another in mails, pages and terminals.
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            "The account name can have printable characters only.",
            field="name",
        )
    if not cleaned:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT, "The account name can't be blank.", field="name"
        )
    if len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            f"The account name can have at most {MAX_NAME_LENGTH} characters.",
            field="name",
        )
    return cleaned


def check_parent(kind: AccountKind, parent: Account | None) -> None:
    """An advertiser sits under a partner or agency; an agency under a partner; partners on top."""
    if parent is None:
        if kind is AccountKind.ADVERTISER:
            return  # a stand-alone advertiser account is allowed (AppsFlyer accounts)
        return
    if parent.kind is AccountKind.ADVERTISER:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            "An advertiser account can't have child accounts.",
            field="parent",
        )
    if kind is AccountKind.PARTNER:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT, "A partner account can't have a parent.", field="parent"
        )
    if kind is AccountKind.AGENCY and parent.kind is not AccountKind.PARTNER:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT, "An agency account must sit under a partner.", field="parent"
        )


def parse_status(value: int) -> AccountStatus:
    try:
        return AccountStatus(value)
    except ValueError:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT, "The status must be 0, 1 or 2.", field="status"
        ) from None


def is_closed(chain: Sequence[Account]) -> bool:
    """An account and its ancestors (`chain`, nearest first) are closed when any of them is
    deactivated: nothing held in the first account grants anything, and nothing leaves it."""
    return any(a.status is AccountStatus.DEACTIVATED for a in chain)


def reaches(chain: Sequence[Account], ancestor_id: str) -> bool:
    """Whether the account `ancestor_id` (`chain[0]` itself, or one of the ancestors in
    `chain`, nearest first) reaches `chain[0]`: every account below it on the way up lets its
    partner manage it. Turning partner management off cuts every account above off."""
    for account in chain:
        if account.id == ancestor_id:
            return True
        if not account.can_partner_manage:
            return False
    return False
