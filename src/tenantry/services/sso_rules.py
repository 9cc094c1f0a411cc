"""The rules of single sign-on that the faces share.

- Passwords where single sign-on is required: a member of an account that requires it signs in
  through its identity provider only, gets no password reset, and accepts an invitation of
  such an account without choosing a password. API tokens are not sign-ins, so this never
  touches them.
- Whom a provider speaks for: an existing identity only while every account it belongs to
  (pending memberships too) lies within what the provider's account manages (DESIGN rule 1,
  with the provider's account as the admin).
"""

from __future__ import annotations

from tenantry.domain.accounts import Account
from tenantry.domain.errors import ErrorCode, Forbidden
from tenantry.domain.memberships import MembershipStatus
from tenantry.domain.users import User
from tenantry.services.policy_accounts import accounts_managed_from
from tenantry.services.ports import UnitOfWork

SINGLE_SIGN_ON_REQUIRED = (
    "Your account requires single sign-on: sign in through your organisation's identity provider."
)

INVITATION_NEEDS_SINGLE_SIGN_ON = (
    "This account requires single sign-on: you don't choose a password here. Sign in through "
    "your organisation's identity provider."
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


def accepts_without_password(account: Account | None, user: User, signed_in: str | None) -> bool:
    """Whether an invitation of `account` is accepted with no password set nor password session
    opened: so it is where the account requires single sign-on, and then only by its person
    signed in (through the provider); anyone else is refused, told to sign in that way."""
    if account is None or not (account.sso_enabled and account.sso_required):
        return False
    if not user.can_login_via_platform:
        return False  # their network signs them in: no password here anyway
    if signed_in != user.id:
        raise Forbidden(ErrorCode.FORBIDDEN, INVITATION_NEEDS_SINGLE_SIGN_ON, field="password")
    return True


def provider_speaks_for(uow: UnitOfWork, provider_account_id: str, user: User) -> bool:
    """Whether the provider of `provider_account_id` may sign in the existing `user`: every
    membership of the identity, active or pending, lies in an account the provider's account
    manages (itself, or below it as far as partner management reaches). An identity with no
    membership at all goes by its home (or network) account. Serving the address's domain, or
    having made the identity once, is not enough: the identity may belong elsewhere now."""
    reached = accounts_managed_from(uow, provider_account_id)
    memberships = uow.memberships.for_user(user.id)
    if not memberships:
        homes = {user.home_account_id, user.network_account_id} - {None}
        return bool(homes) and homes <= reached
    return all(m.account_id in reached for m in memberships)
