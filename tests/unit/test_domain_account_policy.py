"""The security policy's rules on their own: changes validated, domains in their ASCII form,
what a change makes stricter, new members' domains, and the session lifetime a person gets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tenantry.domain.account_policy import (
    KEEP,
    Breach,
    PolicyChanges,
    apply_policy,
    breaches,
    check_email_domain,
    normalize_email_domains,
    session_lifetime,
)
from tenantry.domain.accounts import Account, AccountKind, SsoMode
from tenantry.domain.auth import SESSION_LIFETIME
from tenantry.domain.errors import Conflict, ErrorCode, InvalidInput


def account(**settings: object) -> Account:
    return Account(id="aaaaaaaa", name="A", kind=AccountKind.ADVERTISER, **settings)  # type: ignore[arg-type]


def test_domains_are_lower_case_ascii_once_each_in_order() -> None:
    given = [" Example.COM ", "@example.org", "bücher.Example.", "EXAMPLE.com", "", "a_b.example"]
    assert normalize_email_domains(given) == (
        "example.com",
        "example.org",
        "xn--bcher-kva.example",
        "a_b.example",
    )
    assert normalize_email_domains(["例え.テスト"]) == ("xn--r8jz45g.xn--zckzah",)


@pytest.mark.parametrize(
    "domain",
    ["localhost", "exa mple.com", "-a.com", "a-.com", "a..com", "xn--zz.com", "*.a.com", "a@b.com"],
)
def test_what_is_not_a_domain_is_refused(domain: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        normalize_email_domains([domain])
    assert refused.value.field == "allowed_email_domains"


def test_sso_modes_set_both_flags_and_keep_leaves_lifetimes() -> None:
    before = account(invitation_ttl_days=7, session_lifetime_minutes=60)
    required = apply_policy(before, PolicyChanges(sso_mode=SsoMode.REQUIRED))
    assert (required.sso_enabled, required.sso_required, required.sso_mode) == (
        True,
        True,
        SsoMode.REQUIRED,
    )
    allowed = apply_policy(required, PolicyChanges(sso_mode=SsoMode.ALLOWED))
    assert (allowed.sso_enabled, allowed.sso_required) == (True, False)
    off = apply_policy(allowed, PolicyChanges(sso_mode=SsoMode.OFF))
    assert (off.sso_enabled, off.sso_required) == (False, False)
    assert (off.invitation_ttl_days, off.session_lifetime_minutes) == (7, 60)
    reset = apply_policy(
        off, PolicyChanges(invitation_ttl_days=None, session_lifetime_minutes=KEEP)
    )
    assert (reset.invitation_ttl_days, reset.session_lifetime_minutes) == (None, 60)
    assert before.sso_mode is SsoMode.OFF  # the account given is not changed


def test_breaches_are_what_a_change_makes_stricter() -> None:
    lax = account()
    strict = account(
        two_factor_required=True,
        multi_account_users=False,
        allowed_email_domains=("a.io",),
        sso_enabled=True,
        sso_required=True,
    )
    assert breaches(lax, strict) == list(Breach)
    assert breaches(strict, lax) == []
    assert breaches(strict, strict) == []
    # SSO on limits users in several accounts as much as turning them off does.
    assert breaches(lax, account(sso_enabled=True)) == [Breach.IN_OTHER_ACCOUNTS]
    # Narrowing the domains is stricter; widening them is not.
    assert breaches(
        account(allowed_email_domains=("a.io", "b.io")), account(allowed_email_domains=("a.io",))
    ) == [Breach.OUTSIDE_ALLOWED_DOMAINS]
    assert (
        breaches(
            account(allowed_email_domains=("a.io",)),
            account(allowed_email_domains=("a.io", "b.io")),
        )
        == []
    )


def test_new_members_need_an_allowed_domain_exactly() -> None:
    check_email_domain(account(), "anyone@anywhere.example")
    limited = account(allowed_email_domains=("example.com", "example.org"))
    check_email_domain(limited, "ann@example.org")
    for email in ("ann@eu.example.com", "ann@example.com.evil.io", "ann@notexample.com"):
        with pytest.raises(Conflict) as refused:
            check_email_domain(limited, email)
        assert refused.value.code is ErrorCode.EMAIL_DOMAIN_NOT_ALLOWED
        assert refused.value.message.endswith("addresses at example.com, example.org.")


def test_the_strictest_account_sets_the_session_lifetime() -> None:
    assert session_lifetime([]) == SESSION_LIFETIME
    assert session_lifetime([account(), account(session_lifetime_minutes=90)]) == timedelta(
        minutes=90
    )
    assert session_lifetime(
        [account(session_lifetime_minutes=90), account(session_lifetime_minutes=15)]
    ) == timedelta(minutes=15)
