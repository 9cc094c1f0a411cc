"""What a signed-in person sees about themselves: their accounts and their role in each."""

from __future__ import annotations

from dataclasses import dataclass

from tenantry.domain.accounts import AccountKind
from tenantry.domain.memberships import MembershipStatus
from tenantry.services.auth import SignedIn
from tenantry.services.context import ServiceContext


@dataclass(frozen=True, slots=True)
class MyMembership:
    account_id: str
    account_name: str
    account_kind: AccountKind
    role_name: str
    status: MembershipStatus
    two_factor_required: bool


def my_memberships(ctx: ServiceContext, signed_in: SignedIn) -> list[MyMembership]:
    """The signed-in user's memberships, by account name, in three queries however many."""
    with ctx.uow(readonly=True) as uow:
        memberships = uow.memberships.for_user(signed_in.user.id)
        account_ids = {m.account_id for m in memberships}
        if not account_ids:
            return []
        accounts = uow.accounts.find_many(account_ids)
        custom = uow.custom_roles.for_accounts(account_ids)
    result = []
    for membership in memberships:
        account = accounts.get(membership.account_id)
        if account is None:
            continue
        role = ctx.roles.find(membership.role_key) or next(
            (r for r in custom.get(account.id, []) if r.key == membership.role_key), None
        )
        result.append(
            MyMembership(
                account_id=account.id,
                account_name=account.name,
                account_kind=account.kind,
                role_name=role.display_name if role else membership.role_key,
                status=membership.status,
                two_factor_required=account.two_factor_required,
            )
        )
    return sorted(result, key=lambda m: (m.account_name.lower(), m.account_id))
