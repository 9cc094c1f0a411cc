"""TOTP two-factor sign-in: required where an account asks for it (enrolment with a QR code
and recovery codes, on the way in), a code after the password, each code and recovery code
working once, wrong codes throttled like wrong passwords."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx

from tenantry.domain.auth import RECOVERY_CODE_COUNT
from tenantry.services.context import ServiceContext

from browsing import (
    STRONG_PASSWORD,
    Browser,
    Clock,
    Host,
    accept,
    audit,
    cookie_value,
    current_code,
    mailed_link,
    person,
    set_cookies,
    sign_in,
    sign_out,
    text_of,
)
from mailserver import Inbox


def _secret(page: httpx.Response) -> str:
    found = re.search(r'<code class="secret" id="secret">([A-Z2-7 ]+)</code>', page.text)
    assert found, text_of(page)
    return found.group(1)


def _codes(page: httpx.Response) -> list[str]:
    return re.findall(r"<li><code>([a-z0-9-]+)</code></li>", page.text)


def _ten_seconds_before_a_window_turns(clock: Clock, window: int) -> None:
    """Where a window counted whole (as the throttles once were) would forget its failures."""
    ahead = window - clock.now.timestamp() % window - 10
    clock.advance(seconds=ahead if ahead >= 0 else ahead + window)


def _enrol(browser: Browser, page: httpx.Response, clock: Clock) -> tuple[str, list[str]]:
    """Scan (read) the secret on the set-up page, confirm with a code: (secret, recovery codes)."""
    secret = _secret(page)
    done = browser.submit(page, "/auth/2fa/setup", code=current_code(secret, clock))
    assert done.status_code == 200, text_of(done)
    return secret, _codes(done)


def test_an_account_that_requires_it_enrols_the_invited_person_on_the_way_in(
    host: Host, inbox: Inbox, browser: Browser, ctx: ServiceContext, clock: Clock
) -> None:
    host.require_two_factor()
    host.invite("guarded@example.com")
    accepted = accept(browser, mailed_link(inbox, "guarded@example.com"))
    assert accepted.status_code == 303
    assert accepted.headers["location"].startswith("/auth/2fa/setup")
    waiting_cookie = cookie_value(set_cookies(accepted)["tenantry_session"])
    # Until the second factor is set up, the session opens nothing else.
    assert browser.get("/auth/account").headers["location"].startswith("/auth/2fa/setup")
    assert audit(ctx, "auth.sign_in") == []

    setup = browser.follow(accepted)
    assert setup.status_code == 200
    text = text_of(setup)
    assert "An account you belong to requires two-factor sign-in" in text
    assert re.search(
        r'<img class="qr" src="data:image/svg\+xml[^"]+"[^>]* alt="QR code', setup.text
    )
    secret = _secret(setup)

    wrong = browser.submit(setup, "/auth/2fa/setup", code="000000")
    assert wrong.status_code == 400
    assert "That code is not right" in text_of(wrong)
    assert _secret(wrong) == secret  # the same secret until it is confirmed

    done = browser.submit(wrong, "/auth/2fa/setup", code=current_code(secret, clock))
    assert done.status_code == 200
    codes = _codes(done)
    assert len(codes) == RECOVERY_CODE_COUNT == len(set(codes))
    assert "They are shown only now." in text_of(done)
    new_cookie = cookie_value(set_cookies(done)["tenantry_session"])
    assert new_cookie != waiting_cookie  # a new session, not the one from before the factor

    account = browser.get("/auth/account")
    assert account.status_code == 200
    assert f"You have {RECOVERY_CODE_COUNT} unused recovery codes" in text_of(account)
    assert "it stays on" in text_of(account)
    with ctx.uow(readonly=True) as uow:
        user = uow.users.find_by_email("guarded@example.com")
        assert user is not None
        factor = uow.auth.find_second_factor(user.id)
    assert factor is not None
    assert factor.confirmed_at == clock.now
    assert [e.target_id for e in audit(ctx, "auth.totp_enrol")] == [user.id]
    [event] = audit(ctx, "auth.sign_in")
    assert event.after is not None
    assert event.after["method"] == "totp_enrolment"
    assert user.last_login_at == clock.now

    # The cookie from before the second factor is dead.
    old = browser.get("/auth/account", headers={"Cookie": f"tenantry_session={waiting_cookie}"})
    assert old.status_code == 303


def test_signing_in_asks_for_a_code_that_works_once(
    host: Host, browser: Browser, ctx: ServiceContext, clock: Clock
) -> None:
    host.require_two_factor()
    email = person(ctx, host.tenant)
    first = sign_in(browser, email)
    assert first.headers["location"].startswith("/auth/2fa/setup")
    secret, _ = _enrol(browser, browser.follow(first), clock)
    sign_out(browser)

    password_ok = sign_in(browser, email)
    assert password_ok.status_code == 303
    assert password_ok.headers["location"] == "/auth/2fa?next=/hub/"
    challenge = browser.follow(password_ok)
    assert browser.get("/auth/account").status_code == 303
    # The code used to confirm the set-up was spent then: replaying it fails.
    replay = browser.submit(challenge, "/auth/2fa", code=current_code(secret, clock))
    assert replay.status_code == 401
    assert "That code is not right" in text_of(replay)

    clock.advance(seconds=30)
    passed = browser.submit(challenge, "/auth/2fa", code=current_code(secret, clock))
    assert passed.status_code == 303
    assert passed.headers["location"] == "/hub/"
    assert browser.get("/auth/account").status_code == 200
    methods = [e.after["method"] for e in audit(ctx, "auth.sign_in") if e.after]
    assert methods == ["totp", "totp_enrolment"]
    failures = [e.after["reason"] for e in audit(ctx, "auth.sign_in_failed") if e.after]
    assert failures == ["wrong_code"]


def test_recovery_codes_work_once(
    host: Host, browser: Browser, ctx: ServiceContext, clock: Clock
) -> None:
    email = person(ctx, host.tenant)
    sign_in(browser, email)
    _, codes = _enrol(browser, browser.get("/auth/2fa/setup"), clock)  # chosen, not required
    sign_out(browser)

    challenge = browser.follow(sign_in(browser, email))
    used = browser.submit(challenge, "/auth/2fa", code=codes[3].upper().replace("-", " "))
    assert used.status_code == 303
    account = browser.get("/auth/account")
    assert f"You have {RECOVERY_CODE_COUNT - 1} unused recovery codes" in text_of(account)
    sign_out(browser)

    challenge = browser.follow(sign_in(browser, email))
    again = browser.submit(challenge, "/auth/2fa", code=codes[3])
    assert again.status_code == 401
    assert browser.submit(challenge, "/auth/2fa", code=codes[4]).status_code == 303
    methods = [e.after["method"] for e in audit(ctx, "auth.sign_in") if e.after]
    assert methods[:2] == ["recovery_code", "recovery_code"]


def test_wrong_codes_are_throttled(
    host: Host, browser: Browser, ctx: ServiceContext, clock: Clock
) -> None:
    email = person(ctx, host.tenant)
    sign_in(browser, email)
    secret, _ = _enrol(browser, browser.get("/auth/2fa/setup"), clock)
    sign_out(browser)
    # The wrong codes come just before a window turns: the lock outlasts the turn.
    _ten_seconds_before_a_window_turns(clock, ctx.settings.sign_in_failure_window_seconds)
    challenge = browser.follow(sign_in(browser, email))
    for _ in range(ctx.settings.sign_in_failures_per_account_and_address):
        assert browser.submit(challenge, "/auth/2fa", code="123456").status_code == 401
    clock.advance(seconds=30)
    locked = browser.submit(challenge, "/auth/2fa", code=current_code(secret, clock))
    assert locked.status_code == 429
    assert "Too many attempts" in text_of(locked)
    assert browser.get("/auth/account").status_code == 303


def test_wrong_codes_from_elsewhere_do_not_lock_the_owner_out(
    host: Host,
    browser: Browser,
    ctx: ServiceContext,
    clock: Clock,
    new_browser: Callable[..., Browser],
) -> None:
    email = person(ctx, host.tenant)
    sign_in(browser, email)
    secret, _ = _enrol(browser, browser.get("/auth/2fa/setup"), clock)
    sign_out(browser)
    # Someone who has the password, but not the authenticator, tries codes from their address.
    stranger = new_browser(address="198.51.100.7")
    challenge = stranger.follow(sign_in(stranger, email))
    limit = ctx.settings.sign_in_failures_per_account_and_address
    answers = [
        stranger.submit(challenge, "/auth/2fa", code="123456").status_code for _ in range(limit + 1)
    ]
    assert answers == [401] * limit + [429]

    owner = new_browser(address="203.0.113.9")
    owners_challenge = owner.follow(sign_in(owner, email))
    clock.advance(seconds=30)
    code = current_code(secret, clock)
    assert owner.submit(owners_challenge, "/auth/2fa", code=code).status_code == 303


def test_new_recovery_codes_and_turning_it_off(
    host: Host, browser: Browser, ctx: ServiceContext, clock: Clock
) -> None:
    email = person(ctx, host.tenant)
    sign_in(browser, email)
    secret, old_codes = _enrol(browser, browser.get("/auth/2fa/setup"), clock)
    account = browser.get("/auth/account")

    wrong = browser.submit(account, "/auth/2fa/recovery-codes", code="000000")
    assert wrong.status_code == 400
    clock.advance(seconds=30)
    renewed = browser.submit(account, "/auth/2fa/recovery-codes", code=current_code(secret, clock))
    assert renewed.status_code == 200
    new_codes = _codes(renewed)
    assert len(new_codes) == RECOVERY_CODE_COUNT
    assert not set(new_codes) & set(old_codes)
    assert len(audit(ctx, "auth.recovery_codes_renew")) == 1

    clock.advance(seconds=30)
    off = browser.submit(account, "/auth/2fa/disable", code=current_code(secret, clock))
    assert off.status_code == 303
    assert "Two-factor sign-in is off." in text_of(browser.follow(off))
    assert len(audit(ctx, "auth.totp_disable")) == 1
    sign_out(browser)
    assert sign_in(browser, email).headers["location"] == "/hub/"


def test_it_cannot_be_turned_off_where_an_account_requires_it(
    host: Host, browser: Browser, ctx: ServiceContext, clock: Clock
) -> None:
    email = person(ctx, host.tenant)
    sign_in(browser, email)
    secret, _ = _enrol(browser, browser.get("/auth/2fa/setup"), clock)
    host.require_two_factor()
    account = browser.get("/auth/account")
    assert "/auth/2fa/disable" not in account.text
    clock.advance(seconds=30)
    refused = browser.post(
        "/auth/2fa/disable",
        data={
            "csrf_token": browser.form(account, "/auth/logout").fields["csrf_token"],
            "code": current_code(secret, clock),
        },
    )
    assert refused.status_code == 403
    assert "requires two-factor sign-in" in text_of(refused)
    assert audit(ctx, "auth.totp_disable") == []


def test_enrolment_needs_a_session(browser: Browser, host: Host, ctx: ServiceContext) -> None:
    email = person(ctx, host.tenant)
    assert browser.get("/auth/2fa/setup").status_code == 303
    sign_in(browser, email, STRONG_PASSWORD)
    assert browser.get("/auth/2fa").headers["location"] == "/hub/"
