"""Passkeys in the console over HTTP: the account page adds, lists and removes them, the
second-factor step takes one, an account that requires two-factor sign-in is satisfied by
one on the way in; the page's script is ours, served under a CSP that allows nothing else.
The answers come from a software authenticator with real keys and signatures."""

from __future__ import annotations

import html
import re

import httpx

from tenantry.services.context import ServiceContext

from browsing import Browser, Clock, Host, audit, person, sign_in, sign_out, text_of
from passkey_authenticator import SoftwareAuthenticator

SITE = "http://testserver"


def _options(page: httpx.Response, action: str) -> str:
    found = re.search(
        rf'<form method="post" action="{action}"[^>]*data-options="([^"]+)"', page.text
    )
    assert found, text_of(page)
    return html.unescape(found.group(1))


def _add(browser: Browser, device: SoftwareAuthenticator, name: str) -> httpx.Response:
    page = browser.get("/auth/passkeys/new")
    assert page.status_code == 200, text_of(page)
    answer = device.create(_options(page, "/auth/passkeys"), SITE)
    return browser.submit(page, "/auth/passkeys", name=name, credential=answer)


def test_a_passkey_is_added_on_the_account_page_and_used_after_the_password(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    email = person(ctx, host.tenant)
    sign_in(browser, email)
    account = browser.get("/auth/account")
    assert "None yet" in text_of(account)
    assert 'href="/auth/passkeys/new"' in account.text
    device = SoftwareAuthenticator()
    added = _add(browser, device, "Work laptop")
    assert added.status_code == 303
    assert added.headers["location"] == "/auth/account"
    account = browser.follow(added)
    assert "Passkey “Work laptop” added." in text_of(account)
    assert "Work laptop added" in text_of(account)
    assert "not used yet" in text_of(account)
    sign_out(browser)

    password_ok = sign_in(browser, email)
    assert password_ok.headers["location"] == "/auth/2fa?next=/hub/"
    challenge = browser.follow(password_ok)
    assert "Use a passkey" in text_of(challenge)
    assert 'action="/auth/2fa"' not in challenge.text  # no app: no code to type
    script = re.search(
        r'<script src="(/static/web/passkeys\.js\?v=[0-9a-f]{12})" defer>', challenge.text
    )
    assert script, challenge.text
    assert "script-src 'self'" in challenge.headers["content-security-policy"]
    assert "unsafe-inline" not in challenge.headers["content-security-policy"]
    served = browser.get(script.group(1))
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("text/javascript")
    assert "navigator.credentials.get" in served.text

    answer = device.get(_options(challenge, "/auth/2fa/passkey"), SITE)
    passed = browser.submit(challenge, "/auth/2fa/passkey", credential=answer)
    assert passed.status_code == 303
    assert passed.headers["location"] == "/hub/"
    assert "last used" in text_of(browser.get("/auth/account"))
    methods = [e.after["method"] for e in audit(ctx, "auth.sign_in") if e.after]
    assert methods[0] == "passkey"
    [event] = audit(ctx, "auth.passkey_add")
    assert event.after == {"passkeys": 1, "passkey": "Work laptop", "passkey_id": 1}


def test_a_replayed_or_foreign_answer_is_refused_and_counted(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    email = person(ctx, host.tenant)
    sign_in(browser, email)
    device = SoftwareAuthenticator()
    assert _add(browser, device, "Key").status_code == 303
    sign_out(browser)

    challenge = browser.follow(sign_in(browser, email))
    options = _options(challenge, "/auth/2fa/passkey")
    foreign = device.get(options, "http://evil.example")
    refused = browser.submit(challenge, "/auth/2fa/passkey", credential=foreign)
    assert refused.status_code == 401
    assert "That passkey could not be checked" in text_of(refused)
    # The page came back with a fresh challenge; the spent one does not pass again.
    stale = device.get(options, SITE)
    assert browser.submit(refused, "/auth/2fa/passkey", credential=stale).status_code == 401
    no_answer = browser.submit(refused, "/auth/2fa/passkey")
    assert no_answer.status_code == 401
    fresh = device.get(_options(no_answer, "/auth/2fa/passkey"), SITE)
    assert browser.submit(no_answer, "/auth/2fa/passkey", credential=fresh).status_code == 303
    failures = [e.after["reason"] for e in audit(ctx, "auth.sign_in_failed") if e.after]
    assert failures == ["wrong_passkey"] * 3
    # Without the session's CSRF token, nothing is looked at.
    assert browser.post("/auth/2fa/passkey", data={"credential": fresh}).status_code == 403


def test_a_required_second_factor_can_be_a_passkey_and_the_last_one_stays(
    host: Host, browser: Browser, ctx: ServiceContext, clock: Clock
) -> None:
    host.require_two_factor()
    email = person(ctx, host.tenant)
    first = sign_in(browser, email)
    assert first.headers["location"].startswith("/auth/2fa/setup")
    setup = browser.follow(first)
    assert 'href="/auth/passkeys/new?next=/hub/"' in setup.text
    page = browser.get("/auth/passkeys/new?next=/hub/")
    assert "requires two-factor sign-in" in text_of(page)
    device = SoftwareAuthenticator()
    answer = device.create(_options(page, "/auth/passkeys"), SITE)
    done = browser.submit(page, "/auth/passkeys", name="Phone", credential=answer)
    assert done.status_code == 303
    assert done.headers["location"] == "/hub/"
    assert "tenantry_session" in done.headers.get("set-cookie", "")
    account = browser.get("/auth/account")
    assert account.status_code == 200
    assert "your only passkey stays" in text_of(account)
    assert "/remove" not in account.text
    # Asked for anyway (an old page, a script), the last one is refused.
    removal = browser.post(
        "/auth/passkeys/1/remove", data={"csrf_token": _csrf(account), "confirmed": "yes"}
    )
    assert "add another passkey or an authenticator app" in text_of(browser.follow(removal))

    second = SoftwareAuthenticator()
    assert _add(browser, second, "Security key").status_code == 303
    account = browser.get("/auth/account")
    assert account.text.count("/remove") == 2
    # Removing asks first, naming the passkey; until then nothing changes.
    asked = browser.submit(account, "/auth/passkeys/1/remove")
    assert asked.status_code == 200
    assert "Remove the passkey “Phone”?" in text_of(asked)
    assert browser.get("/auth/account").text.count("/remove") == 2
    removed = browser.submit(asked, "/auth/passkeys/1/remove")
    assert "Passkey “Phone” removed." in text_of(browser.follow(removed))
    [event] = audit(ctx, "auth.passkey_remove")
    assert event.after == {"passkeys": 1, "passkey": "Phone", "passkey_id": 1}
    # Nobody removes a passkey that is not theirs, whatever number they send.
    # No number names a passkey that is not theirs; the one left is their last factor.
    for number in ("999", "x", "99999999999999999999"):
        for confirmed in ("", "yes"):
            answer = browser.post(
                f"/auth/passkeys/{number}/remove",
                data={"csrf_token": _csrf(account), "confirmed": confirmed},
            )
            assert answer.status_code == 303
            assert "no such passkey" in text_of(browser.follow(answer))
    last = browser.post(
        "/auth/passkeys/2/remove", data={"csrf_token": _csrf(account), "confirmed": "yes"}
    )
    assert "add another passkey" in text_of(browser.follow(last))
    assert "Security key" in text_of(browser.get("/auth/account"))


def test_bad_registrations_are_explained_and_change_nothing(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    sign_in(browser, person(ctx, host.tenant))
    page = browser.get("/auth/passkeys/new")
    device = SoftwareAuthenticator()
    answer = device.create(_options(page, "/auth/passkeys"), SITE)
    unnamed = browser.submit(page, "/auth/passkeys", name="  ", credential=answer)
    assert unnamed.status_code == 400
    assert "Give the passkey a name" in text_of(unnamed)
    nothing = browser.submit(unnamed, "/auth/passkeys", name="Laptop", credential="")
    assert nothing.status_code == 400
    assert "did not check out" in text_of(nothing)
    assert "None yet" in text_of(browser.get("/auth/account"))
    assert (
        browser.post("/auth/passkeys", data={"name": "x", "credential": answer}).status_code == 403
    )


def test_pages_need_a_session(browser: Browser) -> None:
    assert browser.get("/auth/passkeys/new").headers["location"].startswith("/auth/login")
    assert browser.post("/auth/2fa/passkey", data={}).headers["location"].startswith("/auth/login")


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    return found.group(1)
