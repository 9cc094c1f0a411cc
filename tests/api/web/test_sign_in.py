"""Password sign-in: sessions in HttpOnly SameSite cookies (Secure behind TLS), idle and
absolute expiry, where to go next, and the audit trail of every attempt."""

from __future__ import annotations

from collections.abc import Callable

from tenantry.app import Composition
from tenantry.domain.auth import SESSION_IDLE_TIMEOUT, SESSION_LIFETIME
from tenantry.entrypoints.server import create_http_app
from tenantry.services import members
from tenantry.services.context import ServiceContext

from browsing import (
    STRONG_PASSWORD,
    Browser,
    Clock,
    Host,
    audit,
    cookie_value,
    forms_of,
    person,
    set_cookies,
    sign_in,
    text_of,
)
from factories import OPERATOR
from httpclient import http_client


def test_sign_in_and_out(host: Host, browser: Browser, ctx: ServiceContext, clock: Clock) -> None:
    email = person(ctx, host.tenant)
    page = browser.get("/auth/login")
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert '<label for="email">' in page.text
    assert '<label for="password">' not in page.text  # the address comes alone, first
    step = browser.submit(page, "/auth/login", email=email.upper())
    assert step.status_code == 200
    assert '<label for="password">' in step.text
    assert f'value="{email.upper()}"' in step.text

    clock.advance(minutes=5)
    signed_in = browser.submit(step, "/auth/login", password=STRONG_PASSWORD)
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/hub/"
    cookie = set_cookies(signed_in)["tenantry_session"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    key, secret = cookie_value(cookie).split(".")
    with ctx.uow(readonly=True) as uow:
        session = uow.auth.find_session(key)
        user = uow.users.find_by_email(email)
    assert session is not None
    assert user is not None
    assert secret not in session.secret_hash  # only a digest is kept
    assert session.user_id == user.id
    assert user.last_login_at == clock.now
    account = browser.follow(signed_in)
    assert f"Signed in as {email}" in text_of(account)
    assert "Acme Advertiser" in text_of(account)

    [event] = audit(ctx, "auth.sign_in")
    assert (event.actor_id, event.face, event.target_id) == (user.id, "console", user.id)
    assert event.request_id is not None

    browser.submit(account, "/auth/logout")
    with ctx.uow(readonly=True) as uow:
        ended = uow.auth.find_session(key)
    assert ended is not None
    assert ended.revoked_at == clock.now
    assert browser.get("/auth/account").status_code == 303


def test_wrong_passwords_and_unknown_addresses_get_the_same_answer(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    email = person(ctx, host.tenant)
    wrong = sign_in(browser, email, "Wrong-Password-123")
    unknown = sign_in(browser, "nobody@example.com", "Wrong-Password-123")
    for answer in (wrong, unknown):
        assert answer.status_code == 401
        assert "The e-mail address or the password is not right." in text_of(answer)
        assert "tenantry_session" not in set_cookies(answer)
    assert 'value="nobody@example.com"' in unknown.text  # the address is kept in the form
    reasons = sorted(
        (e.target_id, e.after["reason"]) for e in audit(ctx, "auth.sign_in_failed") if e.after
    )
    with ctx.uow(readonly=True) as uow:
        user = uow.users.find_by_email(email)
    assert user is not None
    assert reasons == sorted([(user.id, "wrong_password"), ("nobody@example.com", "unknown_user")])


def test_pending_and_deactivated_users_cannot_sign_in(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    email = person(ctx, host.tenant)
    with ctx.uow(readonly=True) as uow:
        user = uow.users.find_by_email(email)
    assert user is not None
    members.set_user_active(ctx, OPERATOR, host.tenant.id, user.id, False)
    answer = sign_in(browser, email)
    assert answer.status_code == 401
    [event] = audit(ctx, "auth.sign_in_failed")
    assert event.after is not None
    assert event.after["reason"] == "not_allowed"


def test_a_deactivated_users_session_ends(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    email = person(ctx, host.tenant)
    browser.follow(sign_in(browser, email))
    assert browser.get("/auth/account").status_code == 200
    with ctx.uow(readonly=True) as uow:
        user = uow.users.find_by_email(email)
    assert user is not None
    members.set_user_active(ctx, OPERATOR, host.tenant.id, user.id, False)
    assert browser.get("/auth/account").status_code == 303


def test_sessions_end_when_idle_and_after_their_lifetime(
    host: Host, browser: Browser, ctx: ServiceContext, clock: Clock
) -> None:
    email = person(ctx, host.tenant)
    sign_in(browser, email)
    clock.advance(seconds=SESSION_IDLE_TIMEOUT.total_seconds() - 60)
    assert browser.get("/auth/account").status_code == 200  # and this use counts as activity
    clock.advance(seconds=SESSION_IDLE_TIMEOUT.total_seconds() - 60)
    assert browser.get("/auth/account").status_code == 200
    clock.advance(seconds=SESSION_IDLE_TIMEOUT.total_seconds() + 1)
    idle = browser.get("/auth/account")
    assert idle.status_code == 303
    assert idle.headers["location"] == "/auth/login?next=/auth/account"

    sign_in(browser, email)
    steps = int(SESSION_LIFETIME / (SESSION_IDLE_TIMEOUT / 2)) + 1
    statuses = []
    for _ in range(steps):
        clock.advance(seconds=SESSION_IDLE_TIMEOUT.total_seconds() / 2)
        statuses.append(browser.get("/auth/account").status_code)
    assert statuses[0] == 200
    assert statuses[-1] == 303  # however active, a session ends after its lifetime


def test_cookies_are_secure_over_tls(
    host: Host, ctx: ServiceContext, new_browser: Callable[..., Browser]
) -> None:
    email = person(ctx, host.tenant)
    browser = new_browser("https://testserver")
    page = browser.get("/auth/login")
    assert "Secure" in set_cookies(page)["tenantry_csrf"]
    signed_in = browser.submit(page, "/auth/login", email=email, password=STRONG_PASSWORD)
    assert signed_in.status_code == 303
    assert "Secure" in set_cookies(signed_in)["tenantry_session"]


def test_where_to_go_after_signing_in(host: Host, browser: Browser, ctx: ServiceContext) -> None:
    email = person(ctx, host.tenant)
    for asked, expected in [
        ("/auth/account?tab=2fa", "/auth/account?tab=2fa"),
        ("//evil.example/steal", "/hub/"),
        ("https://evil.example/", "/hub/"),
        ("/\\evil.example", "/hub/"),
    ]:
        browser_page = browser.get("/auth/login", params={"next": asked})
        [first] = forms_of(browser_page)  # the address alone; `next` rides in its action
        assert sorted(first.fields) == ["csrf_token", "email"]
        step = browser.post(first.action, data={**first.fields, "email": email})
        answer = browser.submit(step, "/auth/login", password=STRONG_PASSWORD)
        assert answer.headers["location"] == expected, asked
        browser.submit(browser.get("/auth/account"), "/auth/logout")


def test_pages_that_need_a_session_send_people_to_sign_in(browser: Browser) -> None:
    for path in ("/auth/account", "/auth/2fa", "/auth/2fa/setup", "/auth/", "/auth"):
        answer = browser.open(path)
        assert answer.url.path == "/auth/login", path
    css = browser.get("/static/web/base.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert ":focus-visible" in css.text


def test_any_text_typed_gets_a_clean_answer(host: Host, browser: Browser) -> None:
    """Whatever is typed (very long text, other scripts, nothing) is a wrong address, never an
    error; a NUL, which PostgreSQL refuses, gets a page saying no field takes it."""
    for typed in ("x" * 5000, "ünïcode@exämple.com", ""):
        assert sign_in(browser, typed, "Wrong-Password-123").status_code == 401, typed[:20]
        page = browser.get("/auth/reset")
        assert browser.submit(page, "/auth/reset", email=typed).status_code == 200
    typed = "nul\x00@example.com"
    page = browser.get("/auth/reset")
    login = browser.get("/auth/login")
    for answer in (
        browser.submit(login, "/auth/login", email=typed),  # the address step
        browser.submit(login, "/auth/login", email=typed, password="Wrong-Password-123"),
        browser.submit(page, "/auth/reset", email=typed),
    ):
        assert answer.status_code == 400
        assert "(U+0000)" in answer.text


def test_pages_ask_for_https_only_when_the_deployment_is_https(
    composition: Composition, browser: Browser
) -> None:
    assert "strict-transport-security" not in browser.get("/auth/login").headers
    ctx = composition.context
    ctx.settings = ctx.settings.model_copy(update={"base_url": "https://tenantry.example"})
    app = create_http_app(ctx, readiness=composition.check_database)
    with http_client(app, base_url="https://tenantry.example") as client:
        page = client.get("/auth/login")
    assert page.status_code == 200
    assert page.headers["strict-transport-security"] == "max-age=31536000"
