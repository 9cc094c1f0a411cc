"""The one rule on passwords where single sign-on is required: a member of an account that
requires it signs in through its identity provider only, and gets no password reset. API
tokens are not sign-ins, so this never touches them."""

from __future__ import annotations

from tenantry.domain.memberships import MembershipStatus
from tenantry.domain.users import User
from tenantry.services.ports import UnitOfWork

SINGLE_SIGN_ON_REQUIRED = (
    "Your account requires single sign-on: sign in through your organisation's identity provider."
)


def single_sign_on_accounts(uow: UnitOfWork, user: User) -> list[str]:
    """The accounts where the user is an active member and that require single sign-on."""
    active = {
        m.account_id
        for m in uow.memberships.for_user(user.id)
        if m.status is MembershipStatus.ACTIVE
    }
    accounts = uow.accounts.find_many(active) if active else {}
    return sorted(a.id for a in accounts.values() if a.sso_enabled and a.sso_required)


def requires_single_sign_on(uow: UnitOfWork, user: User) -> bool:
    """Whether the user may not use a password here (sign-in or reset)."""
    return bool(single_sign_on_accounts(uow, user))
