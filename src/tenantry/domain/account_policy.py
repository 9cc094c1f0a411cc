"""An account's security policy: users in several accounts, two-factor sign-in, single sign-on,
how long invitations and console sessions last, and the e-mail domains new members may have.

The rules that read the policy live where they bite (`memberships.check_can_join` for the
multi-account ones, `check_email_domain` below for new members, `session_lifetime` for
sign-in); this module validates a change and says which current members it leaves breaking
the new policy (`Breach`), so turning a policy on is never a silent change.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum, StrEnum

from tenantry.domain.accounts import Account, SsoMode
from tenantry.domain.auth import SESSION_LIFETIME
from tenantry.domain.errors import Conflict, ErrorCode, InvalidInput

MIN_INVITATION_DAYS, MAX_INVITATION_DAYS = 1, 90
MIN_SESSION_MINUTES = 5
MAX_SESSION_MINUTES = int(SESSION_LIFETIME.total_seconds() // 60)
"""A policy only shortens sessions: none outlives the deployment's own session lifetime."""
MAX_EMAIL_DOMAINS = 50

# A DNS label as user addresses may have it (`users._LABEL`, underscores included), once the
# domain is in its ASCII (IDNA) form.
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")


class Keep(Enum):
    """A setting a change leaves as it is (where None means "back to the default")."""

    KEEP = "keep"


KEEP = Keep.KEEP


class Breach(StrEnum):
    """Why a current member breaks a policy that was just turned on; each keeps what they have,
    and the answer says what happens to them."""

    WITHOUT_TWO_FACTOR = "without_two_factor"
    IN_OTHER_ACCOUNTS = "in_other_accounts"
    OUTSIDE_ALLOWED_DOMAINS = "outside_allowed_domains"
    NEEDS_SSO = "needs_sso"

    @property
    def consequence(self) -> str:
        return _CONSEQUENCES[self]


_CONSEQUENCES = {
    Breach.WITHOUT_TWO_FACTOR: (
        "They have no second factor yet: they must set one up at their next sign-in."
    ),
    Breach.IN_OTHER_ACCOUNTS: (
        "They are also in other accounts and keep those memberships; only new "
        "memberships across accounts are refused."
    ),
    Breach.OUTSIDE_ALLOWED_DOMAINS: (
        "Their address is outside the allowed domains: they stay members; only new members "
        "need an allowed address."
    ),
    Breach.NEEDS_SSO: (
        "They sign in with a password today: they will need to sign in through the "
        "account's single sign-on."
    ),
}


@dataclass(frozen=True, slots=True)
class PolicyChanges:
    """What to change; None (or `KEEP`) leaves a setting as it is. For the invitation and
    session lifetimes, None means the deployment's default; no allowed domains (an empty
    list) means any domain."""

    multi_account_users: bool | None = None
    two_factor_required: bool | None = None
    sso_mode: SsoMode | None = None
    invitation_ttl_days: int | Keep | None = KEEP
    allowed_email_domains: Sequence[str] | None = None
    session_lifetime_minutes: int | Keep | None = KEEP


def apply_policy(account: Account, changes: PolicyChanges) -> Account:
    """A copy of `account` with the changes made, each validated (`InvalidInput` names the
    setting at fault)."""
    updated = dataclasses.replace(account)
    if changes.multi_account_users is not None:
        updated.multi_account_users = changes.multi_account_users
    if changes.two_factor_required is not None:
        updated.two_factor_required = changes.two_factor_required
    if changes.sso_mode is not None:
        updated.sso_enabled = changes.sso_mode is not SsoMode.OFF
        updated.sso_required = changes.sso_mode is SsoMode.REQUIRED
    if not isinstance(changes.invitation_ttl_days, Keep):
        updated.invitation_ttl_days = check_invitation_days(changes.invitation_ttl_days)
    if changes.allowed_email_domains is not None:
        updated.allowed_email_domains = normalize_email_domains(changes.allowed_email_domains)
    if not isinstance(changes.session_lifetime_minutes, Keep):
        updated.session_lifetime_minutes = check_session_minutes(changes.session_lifetime_minutes)
    return updated


def breaches(before: Account, after: Account) -> list[Breach]:
    """The ways current members may break the policy `after` where they did not break
    `before`: what a change turned on or tightened."""
    found = []
    if after.two_factor_required and not before.two_factor_required:
        found.append(Breach.WITHOUT_TWO_FACTOR)
    if _limits_several_accounts(after) and not _limits_several_accounts(before):
        found.append(Breach.IN_OTHER_ACCOUNTS)
    narrowed = set(before.allowed_email_domains or ()) - set(after.allowed_email_domains)
    if after.allowed_email_domains and (narrowed or not before.allowed_email_domains):
        found.append(Breach.OUTSIDE_ALLOWED_DOMAINS)
    if after.sso_mode is SsoMode.REQUIRED and before.sso_mode is not SsoMode.REQUIRED:
        found.append(Breach.NEEDS_SSO)
    return found


def _limits_several_accounts(account: Account) -> bool:
    """Whether the multi-account rules refuse people of other accounts joining this one
    (`memberships.check_can_join`)."""
    return not account.multi_account_users or account.sso_enabled or account.two_factor_required


def check_invitation_days(days: int | None) -> int | None:
    if days is not None and not MIN_INVITATION_DAYS <= days <= MAX_INVITATION_DAYS:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            f"Invitations last {MIN_INVITATION_DAYS} to {MAX_INVITATION_DAYS} days.",
            field="invitation_days",
        )
    return days


def check_session_minutes(minutes: int | None) -> int | None:
    if minutes is not None and not MIN_SESSION_MINUTES <= minutes <= MAX_SESSION_MINUTES:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            f"Console sessions last {MIN_SESSION_MINUTES} to {MAX_SESSION_MINUTES} minutes.",
            field="session_minutes",
        )
    return minutes


def normalize_email_domains(domains: Iterable[str]) -> tuple[str, ...]:
    """Domains as addresses have them: lower-case, in their ASCII form (an internationalized
    name is turned into its `xn--` labels, as IDNA writes it), each once, in the order given.
    Blank entries are skipped; anything that is not a domain name is refused."""
    found: dict[str, None] = {}
    for raw in domains:
        text = raw.strip()
        if text:
            found[_ascii_domain(text)] = None
    if len(found) > MAX_EMAIL_DOMAINS:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            f"An account allows at most {MAX_EMAIL_DOMAINS} e-mail domains.",
            field="allowed_email_domains",
        )
    return tuple(found)


def _ascii_domain(text: str) -> str:
    name = text.removeprefix("@").removesuffix(".")
    try:
        ascii_name = name.encode("idna").decode("ascii").lower()
        labels = ascii_name.split(".")
        # An `xn--` label must decode: it names the Unicode label it stands for.
        for label in labels:
            if label.startswith("xn--"):
                label.encode("ascii").decode("idna")
    except UnicodeError:
        labels = []
    if len(labels) < 2 or len(name) > 253 or not all(_LABEL.fullmatch(p) for p in labels):
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            f"\u201c{text}\u201d is not an e-mail domain (such as example.com).",
            field="allowed_email_domains",
        )
    return ".".join(labels)


def email_domain_allowed(account: Account, email: str) -> bool:
    """Whether a (normalized) address may join the account: any, while it lists no domains;
    else one whose domain is one of them exactly (a subdomain is another domain)."""
    if not account.allowed_email_domains:
        return True
    return email.rpartition("@")[2] in account.allowed_email_domains


def check_email_domain(account: Account, email: str) -> None:
    """New members need an address in the account's allowed domains; current ones stay."""
    if not email_domain_allowed(account, email):
        raise Conflict(
            ErrorCode.EMAIL_DOMAIN_NOT_ALLOWED,
            "This user can't be added because this account only accepts addresses at "
            f"{', '.join(account.allowed_email_domains)}.",
            field="email",
        )


def session_lifetime(accounts: Iterable[Account]) -> timedelta:
    """How long a console session lasts for a member of `accounts`: the shortest lifetime
    among them, and never more than the deployment's.

    A session is the person's, not an account's: once signed in, they move between every
    account they belong to without signing in again. Were the lifetime that of the account a
    page is about, a session kept alive on a lax account's pages would still open a strict
    account's, so the strictest account a person belongs to bounds all their sessions.
    """
    minutes = [a.session_lifetime_minutes for a in accounts if a.session_lifetime_minutes]
    return min([SESSION_LIFETIME, *(timedelta(minutes=m) for m in minutes)])
