"""An account's security policy: read it, change it (saying who among the current members a
stricter policy affects), and bound console sessions by it.

The settings themselves and their rules are `domain.account_policy`'s; the multi-account rules
that read them are `domain.memberships.check_can_join`'s, and the allowed e-mail domains are
checked where every new member is decided (`membership_batch`). Two-factor sign-in, once
required, is asked of each member at their next sign-in (`auth.stage_after_password`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from tenantry.domain.account_policy import (
    Breach,
    PolicyChanges,
    apply_policy,
    breaches,
    session_lifetime,
)
from tenantry.domain.accounts import Account
from tenantry.domain.memberships import MembershipStatus
from tenantry.services.context import Actor, ServiceContext, record
from tenantry.services.policy_accounts import check_may_change_policy
from tenantry.services.ports import UnitOfWork

MEMBERS_LISTED = 100
"""How many affected members an answer names for each kind of breach (it counts them all)."""


@dataclass(frozen=True, slots=True)
class AffectedMember:
    user_id: str
    email: str


@dataclass(frozen=True, slots=True)
class AffectedMembers:
    """Current members who break the new policy in one way: the first `MEMBERS_LISTED` of them
    by address, and how many there are."""

    breach: Breach
    members: list[AffectedMember]
    total: int

    @property
    def consequence(self) -> str:
        return self.breach.consequence


@dataclass(frozen=True, slots=True)
class PolicyUpdate:
    """The account with its policy as it is now, and whom the change affects."""

    account: Account
    affected: list[AffectedMembers] = field(default_factory=list)
    sessions_shortened: int = 0
    """Console sessions of the account's members that the new session lifetime ended sooner."""


def policy_snapshot(account: Account) -> dict[str, Any]:
    """The policy as the audit trail keeps it."""
    return {
        "multi_account_users": account.multi_account_users,
        "two_factor_required": account.two_factor_required,
        "sso_mode": account.sso_mode.value,
        "invitation_ttl_days": account.invitation_ttl_days,
        "allowed_email_domains": list(account.allowed_email_domains),
        "session_lifetime_minutes": account.session_lifetime_minutes,
    }


def update_account_policy(
    ctx: ServiceContext, actor: Actor, account_id: str, changes: PolicyChanges
) -> PolicyUpdate:
    """Change the account's security policy, in one transaction with its audit event.

    Current members keep what they have; the answer names those a stricter policy affects
    (`Breach`): members without a second factor must set one up at their next sign-in, those
    in other accounts keep those memberships, addresses outside the allowed domains stay, and
    password users of an account that now requires single sign-on are listed. A shorter
    session lifetime ends the members' longer sessions now. Only the account's settings admins
    (or those who manage it from above while partner management reaches it) may change it.
    """
    with ctx.uow() as uow:
        account = check_may_change_policy(ctx, uow, actor, account_id)
        updated = apply_policy(account, changes)
        before, after = policy_snapshot(account), policy_snapshot(updated)
        if after == before:
            return PolicyUpdate(account)
        uow.accounts.update(updated)
        affected = [_affected(uow, updated, breach) for breach in breaches(account, updated)]
        affected = [a for a in affected if a.total]
        shortened = 0
        minutes = updated.session_lifetime_minutes
        if minutes is not None and minutes != account.session_lifetime_minutes:
            shortened = uow.account_policy.cap_sessions(
                timedelta(minutes=minutes), ctx.now(), account_id=account.id
            )
        record(
            ctx,
            uow,
            actor,
            "account.policy_update",
            target_type="account",
            target_id=account.id,
            account_id=account.id,
            before=before,
            after=after | {"affected_members": {a.breach.value: a.total for a in affected}},
        )
        return PolicyUpdate(updated, affected, shortened)


def _affected(uow: UnitOfWork, account: Account, breach: Breach) -> AffectedMembers:
    found, total = uow.account_policy.members_breaking(
        account.id, breach, domains=account.allowed_email_domains, limit=MEMBERS_LISTED
    )
    return AffectedMembers(breach, [AffectedMember(i, e) for i, e in found], total)


# -- console sessions --------------------------------------------------------------------------


def session_lifetime_of(uow: UnitOfWork, user_id: str) -> timedelta:
    """How long a new console session of the user lasts: bounded by every account the user is
    an active member of (`account_policy.session_lifetime` says why the strictest one wins).
    Invitations not accepted yet bind nobody. One statement."""
    held = uow.memberships.everywhere([user_id]).get(user_id, [])
    return session_lifetime(a for m, a in held if m.status is MembershipStatus.ACTIVE)


def bound_sessions_on_joining(
    ctx: ServiceContext, uow: UnitOfWork, user_id: str, account: Account
) -> None:
    """A person who joins an account while signed in keeps their session only as long as the
    account's session lifetime allows."""
    if account.session_lifetime_minutes:
        uow.account_policy.cap_sessions(
            timedelta(minutes=account.session_lifetime_minutes), ctx.now(), user_id=user_id
        )
