"""The security policy in /hub/graphql/: `UpdateTenantPolicyInput` read into the core's
`PolicyChanges`, and `TenantPolicy` and the affected members as the SDL shows them."""

from __future__ import annotations

from typing import Any

from tenantry.domain.account_policy import KEEP, Breach, PolicyChanges
from tenantry.domain.accounts import Account, SsoMode
from tenantry.services.account_policy import AffectedMembers, PolicyUpdate

# The SDL's enum values, by the core's; "tenants" is what this face calls accounts.
_BREACHES = {
    Breach.WITHOUT_TWO_FACTOR: "WITHOUT_TWO_FACTOR",
    Breach.IN_OTHER_ACCOUNTS: "IN_OTHER_TENANTS",
    Breach.OUTSIDE_ALLOWED_DOMAINS: "OUTSIDE_ALLOWED_DOMAINS",
    Breach.NEEDS_SSO: "NEEDS_SSO",
}


def policy_changes(data: dict[str, Any]) -> PolicyChanges:
    """The input's fields as changes: a field left out stays as it is; null sets a lifetime
    back to the deployment's default, and allowed domains back to any."""
    sso = data.get("sso")
    return PolicyChanges(
        multi_account_users=data.get("multiAccountUsers"),
        two_factor_required=data.get("twoFactorRequired"),
        sso_mode=SsoMode(sso.lower()) if sso else None,
        invitation_ttl_days=data.get("invitationDays", KEEP),
        allowed_email_domains=(
            (data["allowedEmailDomains"] or []) if "allowedEmailDomains" in data else None
        ),
        session_lifetime_minutes=data.get("sessionMinutes", KEEP),
    )


def policy_view(account: Account) -> dict[str, Any]:
    return {
        "multiAccountUsers": account.multi_account_users,
        "twoFactorRequired": account.two_factor_required,
        "sso": account.sso_mode.name,
        "invitationDays": account.invitation_ttl_days,
        "allowedEmailDomains": list(account.allowed_email_domains),
        "sessionMinutes": account.session_lifetime_minutes,
    }


def affected_view(affected: AffectedMembers) -> dict[str, Any]:
    return {
        "reason": _BREACHES[affected.breach],
        "consequence": affected.consequence,
        "count": affected.total,
        "users": [{"id": m.user_id, "email": m.email} for m in affected.members],
    }


def update_view(update: PolicyUpdate, tenant: object) -> dict[str, Any]:
    """`UpdateTenantPolicyResponse`, with `tenant` the node the Tenant resolvers take."""
    return {
        "tenant": tenant,
        "policy": policy_view(update.account),
        "affectedMembers": [affected_view(a) for a in update.affected],
        "sessionsShortened": update.sessions_shortened,
    }
