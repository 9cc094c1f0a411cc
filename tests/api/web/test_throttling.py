"""Sign-in failures are counted in the database per address typed from one network address,
per network address, and per address typed from everywhere; past a limit an address is
refused unchecked until the window has passed, but never because others failed."""

from __future__ import annotations

from collections.abc import Callable

from tenantry.services.context import ServiceContext

from browsing import Browser, Clock, Host, audit, person, sign_in, sign_out, text_of

WRONG = "Wrong-Password-123"


def test_an_address_is_locked_out_of_an_account_after_repeated_failures(
    host: Host, browser: Browser, ctx: ServiceContext, clock: Clock
) -> None:
    email = person(ctx, host.tenant)
    other = person(ctx, host.tenant)
    limit = ctx.settings.sign_in_failures_per_account_and_address
    for _ in range(limit):
        assert sign_in(browser, email, WRONG).status_code == 401
    locked = sign_in(browser, email)  # even the right password, from this address
    assert locked.status_code == 429
    assert "Too many attempts. Try again later." in text_of(locked)
    assert "tenantry_session" not in locked.headers.get("set-cookie", "")
    reasons = [e.after["reason"] for e in audit(ctx, "auth.sign_in_failed") if e.after]
    assert reasons.count("throttled") == 1
    assert reasons.count("wrong_password") == limit

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
        answer = sign_in(browser, f"guess{number}@example.com", WRONG)
        assert answer.status_code == 401
    assert sign_in(browser, email).status_code == 429
    clock.advance(seconds=ctx.settings.sign_in_failure_window_seconds)
    assert sign_in(browser, email).status_code == 303


def test_failures_from_elsewhere_do_not_lock_the_owner_out(
    host: Host, ctx: ServiceContext, new_browser: Callable[..., Browser]
) -> None:
    email = person(ctx, host.tenant)
    stranger = new_browser(address="198.51.100.7")
    owner = new_browser(address="203.0.113.9")
    limit = ctx.settings.sign_in_failures_per_account_and_address
    answers = [sign_in(stranger, email, WRONG).status_code for _ in range(limit + 2)]
    assert answers == [401] * limit + [429] * 2
    assert sign_in(stranger, email).status_code == 429  # the stranger's address stays refused

    assert sign_in(owner, email).status_code == 303
    assert f"Signed in as {email}" in text_of(owner.open("/auth/account"))


def test_past_the_ceiling_each_new_address_is_heard_once(
    host: Host, ctx: ServiceContext, new_browser: Callable[..., Browser]
) -> None:
    email = person(ctx, host.tenant)
    settings = ctx.settings
    per_address = settings.sign_in_failures_per_account_and_address
    # As many failures as the ceiling, each address failing as often as it may.
    ceiling = settings.sign_in_failure_ceiling_per_account
    for first in range(0, ceiling, per_address):
        guesser = new_browser(address=f"198.51.100.{first // per_address + 1}")
        for _ in range(min(per_address, ceiling - first)):
            assert sign_in(guesser, email, WRONG).status_code == 401

    # A new address is heard once; having failed, it is refused like the others.
    newcomer = new_browser(address="192.0.2.77")
    assert sign_in(newcomer, email, WRONG).status_code == 401
    assert sign_in(newcomer, email, WRONG).status_code == 429
    assert sign_in(newcomer, email).status_code == 429
    # The owner, on an address that has not failed, still signs in.
    assert sign_in(new_browser(address="203.0.113.9"), email).status_code == 303
