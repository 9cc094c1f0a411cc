"""An account's Settings page: its security policy shown, changed by those who manage the
account's settings (a flash names the members a stricter policy affects), refused for others
and without the CSRF token, and bad values shown next to their field."""

from __future__ import annotations

import re

import httpx

from tenantry.domain.accounts import Account, SsoMode
from tenantry.services import accounts, members
from tenantry.services.context import ServiceContext

from browsing import Browser, Host, audit, forms_of, text_of
from console_support import console_user, csrf_of
from factories import OPERATOR, make_member

POLICY = {
    "multi_account_users": "yes",
    "two_factor_required": "no",
    "sso": "off",
    "invitation_days": "",
    "allowed_email_domains": "",
    "session_minutes": "",
}


def settings_url(account: Account) -> str:
    return f"/hub/accounts/{account.id}/settings"


def save(browser: Browser, page: httpx.Response, account: Account, **values: str) -> httpx.Response:
    """Post the policy form as the page has it, with `values` changed (selects included)."""
    return browser.submit(page, settings_url(account), **{**POLICY, **values})


def test_an_admin_changes_the_policy_and_sees_who_it_affects(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    outsider = make_member(ctx, host.tenant, role="view", email="ann@elsewhere.example")
    console_user(ctx, browser, host.tenant)
    page = browser.get(settings_url(host.tenant))
    assert page.status_code == 200
    assert 'aria-current="page">Settings<' in page.text
    answer = save(
        browser,
        page,
        host.tenant,
        two_factor_required="yes",
        sso="allowed",
        invitation_days="5",
        allowed_email_domains="Example.com,\nexample.org",
        session_minutes="240",
    )
    assert answer.status_code == 303, text_of(answer)
    shown = text_of(browser.follow(answer))
    assert "The security policy was saved." in shown
    assert "(ann@elsewhere.example): Their address is outside the allowed domains" in shown
    assert "must set one up at their next sign-in" in shown
    stored = accounts.get_account(ctx, OPERATOR, host.tenant.id)
    assert stored.two_factor_required
    assert stored.sso_mode is SsoMode.ALLOWED
    assert (stored.invitation_ttl_days, stored.session_lifetime_minutes) == (5, 240)
    assert stored.allowed_email_domains == ("example.com", "example.org")
    [event] = audit(ctx, "account.policy_update")
    assert event.face == "console"
    assert event.after["affected_members"]["outside_allowed_domains"] == 1
    kept = members.list_all_members(ctx, OPERATOR, host.tenant.id)
    assert outsider.email in {m.user.email for m in kept}  # the member stays
    trail = text_of(browser.get(f"/hub/accounts/{host.tenant.id}/audit"))
    assert "Security policy changed" in trail
    # The form shows the policy as it is now.
    fields = browser.form(browser.get(settings_url(host.tenant)), settings_url(host.tenant)).fields
    assert fields["invitation_days"] == "5"
    assert fields["allowed_email_domains"] == "example.com, example.org"
    assert fields["session_minutes"] == "240"


def test_a_parent_admin_with_partner_reach_may_change_it(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.account)
    page = browser.get(settings_url(host.tenant))
    answer = save(browser, page, host.tenant, multi_account_users="no")
    assert answer.status_code == 303, text_of(answer)
    assert not accounts.get_account(ctx, OPERATOR, host.tenant.id).multi_account_users


def test_a_bad_value_is_shown_next_to_its_field_and_kept(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant)
    page = browser.get(settings_url(host.tenant))
    for field, value, message in (
        ("invitation_days", "365", "Invitations last 1 to 90 days."),
        ("session_minutes", "soon", "Give a whole number, or leave it empty."),
        (
            "allowed_email_domains",
            "not a domain",
            "\u201cnot a domain\u201d is not an e-mail domain",
        ),
    ):
        answer = save(browser, page, host.tenant, two_factor_required="yes", **{field: value})
        assert answer.status_code == 400
        assert re.search(rf'id="{field}-error">{re.escape(message)}', answer.text), text_of(answer)
        assert f'value="{value}"' in answer.text
    assert not accounts.get_account(ctx, OPERATOR, host.tenant.id).two_factor_required


def test_a_viewer_sees_the_policy_but_no_form_and_may_not_post(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant, role="manage")
    page = browser.get(settings_url(host.tenant))
    assert page.status_code == 200
    assert "Allowed e-mail domains any" in text_of(page)
    assert [f.action for f in forms_of(page) if f.method == "post"] == ["/auth/logout"]
    data = {"csrf_token": csrf_of(browser), **POLICY, "two_factor_required": "yes"}
    assert browser.post(settings_url(host.tenant), data=data).status_code == 403
    assert not accounts.get_account(ctx, OPERATOR, host.tenant.id).two_factor_required


def test_the_policy_form_needs_its_csrf_token(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant)
    answer = browser.post(settings_url(host.tenant), data={**POLICY, "two_factor_required": "yes"})
    assert answer.status_code == 403
    assert not accounts.get_account(ctx, OPERATOR, host.tenant.id).two_factor_required
