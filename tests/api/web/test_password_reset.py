"""Password reset by e-mail: the same answer whatever the address, the link by mail, one use,
an hour, a new password that meets the rules, and every old session ended."""

from __future__ import annotations

from collections.abc import Callable

from tenantry.domain.auth import PASSWORD_RESET_LIFETIME
from tenantry.services import members
from tenantry.services.context import ServiceContext
from tenantry.services.members import NewMember

from browsing import (
    STRONG_PASSWORD,
    Browser,
    Clock,
    Host,
    audit,
    mailed_link,
    person,
    sign_in,
    text_of,
)
from factories import OPERATOR
from mailserver import Inbox

NEW_PASSWORD = "Another-Good-Passw0rd"


def _ask(browser: Browser, email: str) -> str:
    page = browser.get("/auth/reset")
    answer = browser.submit(page, "/auth/reset", email=email)
    assert answer.status_code == 200
    return text_of(answer).replace(email, "<address>")


def _resets(inbox: Inbox, email: str) -> list[str]:
    return [m["Subject"] for m in inbox.messages if m["To"] == email and "Reset" in m["Subject"]]


def test_a_password_reset_end_to_end(
    host: Host,
    inbox: Inbox,
    browser: Browser,
    ctx: ServiceContext,
    new_browser: Callable[..., Browser],
) -> None:
    email = person(ctx, host.tenant)
    elsewhere = new_browser()
    assert sign_in(elsewhere, email).status_code == 303  # signed in on another device

    known = _ask(browser, email)
    unknown = _ask(browser, "nobody@example.com")
    assert known == unknown
    assert "a link to choose a new password is on its way" in known
    assert _resets(inbox, email) == ["Reset your password"]
    assert _resets(inbox, "nobody@example.com") == []

    link = mailed_link(inbox, email)
    assert "/auth/reset/" in link
    page = browser.get(link)
    assert page.status_code == 200
    assert email in text_of(page)
    assert "At least 12 characters" in text_of(page)

    weak = browser.submit(page, link.replace("http://testserver", ""), password="weakling")
    assert weak.status_code == 400
    assert "The password needs at least 12 characters" in text_of(weak)

    done = browser.submit(weak, link.replace("http://testserver", ""), password=NEW_PASSWORD)
    assert done.status_code == 303
    assert done.headers["location"] == "/auth/login"
    assert "Your password is changed" in text_of(browser.follow(done))

    assert sign_in(browser, email, STRONG_PASSWORD).status_code == 401
    assert sign_in(browser, email, NEW_PASSWORD).status_code == 303
    # The other device's session ended with the old password.
    assert elsewhere.get("/auth/account").status_code == 303

    used = browser.get(link)
    assert used.status_code == 400
    assert "not valid any more" in text_of(used)

    with ctx.uow(readonly=True) as uow:
        user = uow.users.find_by_email(email)
    assert user is not None
    [asked] = audit(ctx, "auth.password_reset_request")
    [reset] = audit(ctx, "auth.password_reset")
    assert asked.target_id == reset.target_id == user.id
    assert reset.after is not None
    assert reset.after["sessions_ended"] == 1


def test_a_reset_link_works_for_an_hour_and_only_the_newest(
    host: Host, inbox: Inbox, browser: Browser, ctx: ServiceContext, clock: Clock
) -> None:
    email = person(ctx, host.tenant)
    _ask(browser, email)
    first = mailed_link(inbox, email)
    _ask(browser, email)
    second = mailed_link(inbox, email)
    assert first != second
    assert browser.get(first).status_code == 400
    assert browser.get(second).status_code == 200
    page = browser.get(second)
    clock.advance(seconds=PASSWORD_RESET_LIFETIME.total_seconds())
    assert browser.get(second).status_code == 400
    late = browser.submit(page, second.replace("http://testserver", ""), password=NEW_PASSWORD)
    assert late.status_code == 400
    assert sign_in(browser, email).status_code == 303  # the old password still works
    tampered = browser.get(second[:-2] + "xx")
    assert tampered.status_code == 400


def test_asking_too_often_sends_no_more_mail(
    host: Host, inbox: Inbox, browser: Browser, ctx: ServiceContext
) -> None:
    email = person(ctx, host.tenant)
    limit = ctx.settings.reset_requests_per_account_and_address
    answers = {_ask(browser, email) for _ in range(limit + 2)}
    assert len(answers) == 1
    assert len(_resets(inbox, email)) == limit


def test_a_stranger_asking_often_does_not_stop_the_owners_own_request(
    host: Host, inbox: Inbox, ctx: ServiceContext, new_browser: Callable[..., Browser]
) -> None:
    email = person(ctx, host.tenant)
    stranger = new_browser(address="198.51.100.7")
    owner = new_browser(address="203.0.113.9")
    limit = ctx.settings.reset_requests_per_account_and_address
    for _ in range(limit + 2):
        _ask(stranger, email)
    assert len(_resets(inbox, email)) == limit

    _ask(owner, email)
    assert len(_resets(inbox, email)) == limit + 1
    link = mailed_link(inbox, email)
    page = owner.get(link)
    assert page.status_code == 200
    done = owner.submit(page, link.replace("http://testserver", ""), password=NEW_PASSWORD)
    assert done.status_code == 303, text_of(done)


def test_network_managed_users_get_no_reset_link(
    host: Host, inbox: Inbox, browser: Browser, ctx: ServiceContext
) -> None:
    members.add_member(
        ctx,
        OPERATOR,
        host.tenant.id,
        NewMember(
            email="sso2@example.com", role_key="member", network_managed=True, id_from_network="x"
        ),
    )
    _ask(browser, "sso2@example.com")
    assert _resets(inbox, "sso2@example.com") == []
