"""Every form carries a CSRF token: the session's own, or before sign-in a signed double-submit
token. A form without the right one gets 403 and changes nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tenantry.domain.memberships import MembershipStatus
from tenantry.services.context import ServiceContext

from browsing import (
    STRONG_PASSWORD,
    Browser,
    Host,
    audit,
    mailed_link,
    person,
    set_cookies,
    sign_in,
    text_of,
)
from mailserver import Inbox


@pytest.mark.parametrize("token", [None, "", "forged", "0" * 64])
def test_sign_in_without_the_right_token(
    host: Host, browser: Browser, ctx: ServiceContext, token: str | None
) -> None:
    email = person(ctx, host.tenant)
    page = browser.get("/auth/login")
    data = {"email": email, "password": STRONG_PASSWORD}
    if token is not None:
        data["csrf_token"] = token
    answer = browser.post("/auth/login", data=data)
    assert answer.status_code == 403
    assert "This form has expired" in text_of(answer)
    assert "tenantry_session" not in set_cookies(answer)
    assert audit(ctx, "auth.sign_in") == []
    assert audit(ctx, "auth.sign_in_failed") == []
    assert page.status_code == 200


def test_a_token_only_works_with_its_own_cookie(
    host: Host, browser: Browser, ctx: ServiceContext, new_browser: Callable[..., Browser]
) -> None:
    """A token lifted from someone else's page does not pair with this browser's cookie."""
    email = person(ctx, host.tenant)
    theirs = new_browser().get("/auth/login")
    browser.get("/auth/login")  # this browser has a nonce cookie of its own
    answer = browser.submit(theirs, "/auth/login", email=email, password=STRONG_PASSWORD)
    assert answer.status_code == 403
    fresh = new_browser()  # and one without any cookie at all
    answer = fresh.submit(theirs, "/auth/login", email=email, password=STRONG_PASSWORD)
    assert answer.status_code == 403


def test_a_form_posted_from_another_site(host: Host, browser: Browser, ctx: ServiceContext) -> None:
    email = person(ctx, host.tenant)
    page = browser.get("/auth/login")
    for headers in (
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "null"},  # a hidden origin, without the browser saying it is this site
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
    ):
        answer = browser.submit(
            page, "/auth/login", headers=headers, email=email, password=STRONG_PASSWORD
        )
        assert answer.status_code == 403, headers
    same_site = browser.submit(
        page,
        "/auth/login",
        headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
        email=email,
        password=STRONG_PASSWORD,
    )
    assert same_site.status_code == 303


def test_a_browser_that_hides_the_origin_of_this_sites_forms(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    """Chromium sends `Origin: null` when a referrer policy hides the referrer; it still sends
    `Sec-Fetch-Site`, and that is enough to sign in."""
    email = person(ctx, host.tenant)
    answer = browser.submit(
        browser.get("/auth/login"),
        "/auth/login",
        headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"},
        email=email,
        password=STRONG_PASSWORD,
    )
    assert answer.status_code == 303


def test_accepting_an_invitation_needs_the_token(
    host: Host, inbox: Inbox, browser: Browser, ctx: ServiceContext
) -> None:
    host.invite("guarded@example.com")
    page = browser.get(mailed_link(inbox, "guarded@example.com"))
    for token in ("", "wrong"):
        answer = browser.submit(page, "/auth/verify/", csrf_token=token, password=STRONG_PASSWORD)
        assert answer.status_code == 403
    with ctx.uow(readonly=True) as uow:
        user = uow.users.find_by_email("guarded@example.com")
        assert user is not None
        assert user.password_hash is None
        membership = uow.memberships.find(user.id, host.tenant.id)
        assert membership is not None
        assert membership.status is MembershipStatus.PENDING
    assert browser.submit(page, "/auth/verify/", password=STRONG_PASSWORD).status_code == 303


def test_session_forms_need_the_sessions_token(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    email = person(ctx, host.tenant)
    sign_in(browser, email)
    account = browser.get("/auth/account")
    # The pre-sign-in token is not the session's: it does not sign anyone out.
    login_token = browser.form(browser.get("/auth/reset"), "/auth/reset").fields["csrf_token"]
    for token in ("", "wrong", login_token):
        answer = browser.submit(account, "/auth/logout", csrf_token=token)
        assert answer.status_code == 403
    assert browser.get("/auth/account").status_code == 200
    assert audit(ctx, "auth.sign_out") == []
    assert browser.submit(account, "/auth/logout").status_code == 303


def test_asking_for_a_reset_needs_the_token(
    host: Host, inbox: Inbox, browser: Browser, ctx: ServiceContext
) -> None:
    email = person(ctx, host.tenant)
    page = browser.get("/auth/reset")
    answer = browser.submit(page, "/auth/reset", csrf_token="", email=email)
    assert answer.status_code == 403
    assert [m["Subject"] for m in inbox.messages if m["To"] == email] == [
        "You are invited to Acme Advertiser"  # when they were added; no reset mail
    ]
    assert audit(ctx, "auth.password_reset_request") == []
