"""Sign-in failures are counted in the database per address typed and per network address;
past the limit attempts are refused unchecked until the window has passed."""

from __future__ import annotations

from tenantry.services.context import ServiceContext

from browsing import Browser, Clock, Host, audit, person, sign_in, sign_out, text_of


def test_an_account_is_locked_after_repeated_failures(
    host: Host, browser: Browser, ctx: ServiceContext, clock: Clock
) -> None:
    email = person(ctx, host.tenant)
    other = person(ctx, host.tenant)
    for _ in range(ctx.settings.sign_in_failures_per_account):
        assert sign_in(browser, email, "Wrong-Password-123").status_code == 401
    locked = sign_in(browser, email)  # even the right password
    assert locked.status_code == 429
    assert "Too many attempts. Try again later." in text_of(locked)
    assert "tenantry_session" not in locked.headers.get("set-cookie", "")
    reasons = [e.after["reason"] for e in audit(ctx, "auth.sign_in_failed") if e.after]
    assert reasons.count("throttled") == 1
    assert reasons.count("wrong_password") == ctx.settings.sign_in_failures_per_account

    # Someone else signing in from the same address is not locked out by it.
    assert sign_in(browser, other).status_code == 303
    sign_out(browser)

    clock.advance(seconds=ctx.settings.sign_in_failure_window_seconds)
    assert sign_in(browser, email).status_code == 303


def test_an_address_trying_many_accounts_is_locked(
    host: Host, browser: Browser, ctx: ServiceContext, clock: Clock
) -> None:
    email = person(ctx, host.tenant)
    for number in range(ctx.settings.sign_in_failures_per_address):
        answer = sign_in(browser, f"guess{number}@example.com", "Wrong-Password-123")
        assert answer.status_code == 401
    assert sign_in(browser, email).status_code == 429
    clock.advance(seconds=ctx.settings.sign_in_failure_window_seconds)
    assert sign_in(browser, email).status_code == 303
