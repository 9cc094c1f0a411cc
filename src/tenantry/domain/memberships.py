"""Memberships: a user's one role, scope and status in one account, and the rules around them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tenantry.domain.accounts import Account, AccountKind
from tenantry.domain.errors import Conflict, ErrorCode, InvalidInput
from tenantry.domain.roles import Role


class MembershipStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"


@dataclass(slots=True, frozen=True)
class Scope:
    """What a member may see: None means all (apps: all current ones)."""

    app_ids: tuple[str, ...] | None = None
    all_future_apps: bool = True
    media_sources: tuple[str, ...] | None = None
    geos: tuple[str, ...] | None = None

    @property
    def is_unrestricted(self) -> bool:
        return (
            self.app_ids is None
            and self.all_future_apps
            and self.media_sources is None
            and self.geos is None
        )

    @classmethod
    def build(
        cls,
        *,
        app_ids: Iterable[str] | None,
        all_future_apps: bool,
        media_sources: Iterable[str] | None,
        geos: Iterable[str] | None,
    ) -> Scope:
        """AppsFlyer's rules: missing apps = all, [] = none; empty or missing sources/geos = all."""
        apps = None if app_ids is None else tuple(dict.fromkeys(app_ids))
        if all_future_apps and apps is not None:
            raise InvalidInput(
                ErrorCode.FUTURE_APPS_NEED_ALL_APPS, field="allow_access_to_all_future_apps"
            )
        sources = tuple(dict.fromkeys(media_sources)) if media_sources else None
        countries = tuple(dict.fromkeys(geos)) if geos else None
        return cls(apps, all_future_apps, sources, countries)


UNRESTRICTED = Scope()


@dataclass(slots=True)
class Membership:
    user_id: str
    account_id: str
    role_key: str
    status: MembershipStatus = MembershipStatus.PENDING
    scope: Scope = UNRESTRICTED
    created_at: datetime | None = None


def check_scope_for_role(role: Role, scope: Scope) -> None:
    if role.unrestricted_scope and not scope.is_unrestricted:
        raise InvalidInput(ErrorCode.UNRESTRICTED_ROLE_RESTRICTED, field="role")


def check_role_for_account(role: Role, account: Account) -> None:
    if role.is_custom and role.account_id != account.id:
        raise InvalidInput(ErrorCode.UNKNOWN_ROLE, field="role")
    if not role.applies_to(account.kind):
        raise InvalidInput(ErrorCode.ROLE_NOT_FOR_ACCOUNT_KIND, field="role")


def check_can_join(target: Account, elsewhere: Sequence[tuple[Membership, Account]]) -> None:
    """The AppsFlyer document's multi-account rules, in the order its error table lists them.

    `elsewhere` holds the user's memberships in other accounts with those accounts.
    """
    if not elsewhere:
        return
    if any(m.status is MembershipStatus.PENDING for m, _ in elsewhere):
        raise Conflict(ErrorCode.PENDING_ELSEWHERE, field="email")
    kinds = {a.kind for _, a in elsewhere}
    if target.kind.is_host_like and AccountKind.ADVERTISER in kinds:
        raise Conflict(ErrorCode.ADVERTISER_USER_TO_AGENCY, field="email")
    if target.kind is AccountKind.ADVERTISER and any(k.is_host_like for k in kinds):
        raise Conflict(ErrorCode.AGENCY_USER_TO_ADVERTISER, field="email")
    if any(not a.multi_account_users for _, a in elsewhere):
        raise Conflict(ErrorCode.OTHER_ACCOUNT_SINGLE, field="email")
    if not target.multi_account_users:
        raise Conflict(ErrorCode.THIS_ACCOUNT_SINGLE, field="email")
    if any(a.sso_enabled for _, a in elsewhere):
        raise Conflict(ErrorCode.OTHER_ACCOUNT_SSO, field="email")
    if target.sso_enabled:
        raise Conflict(ErrorCode.THIS_ACCOUNT_SSO, field="email")
    if any(a.two_factor_required for _, a in elsewhere):
        raise Conflict(ErrorCode.OTHER_ACCOUNT_2FA, field="email")
    if target.two_factor_required:
        raise Conflict(ErrorCode.THIS_ACCOUNT_2FA, field="email")


def check_keeps_an_admin(
    current_role: Role,
    membership: Membership,
    new_role: Role | None,
    active_admins: int,
    *,
    user_active: bool = True,
) -> None:
    """Refuse to remove (new_role None), demote or deactivate the last admin of an account
    who can act. `active_admins` counts accepted admins whose users are not deactivated;
    a pending or deactivated admin is not one of them, so losing them loses nothing."""
    losing_admin = current_role.is_admin_like and (new_role is None or not new_role.is_admin_like)
    counted = membership.status is MembershipStatus.ACTIVE and user_active
    if losing_admin and counted and active_admins <= 1:
        raise Conflict(ErrorCode.LAST_ADMIN, field="role")


def check_not_self(user_id: str, acting_user_id: str | None) -> None:
    """Nobody removes or deactivates themselves."""
    if acting_user_id is not None and user_id == acting_user_id:
        raise Conflict(ErrorCode.SELF_DELETE, field="email")
