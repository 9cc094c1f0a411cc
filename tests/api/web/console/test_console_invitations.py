"""Invitations: the list, resending (mailed, or the link shown when nothing is mailed) and
revoking, over the invitations services."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import httpx

from tenantry.domain.accounts import Account
from tenantry.services.context import ServiceContext

from browsing import Browser, Host, accept, audit, mailed_link, text_of
from console_support import console_user, csrf_of
from factories import make_member
from mailserver import Inbox

ALREADY_ACCEPTED = "This user has already accepted the invitation."
USER_NOT_FOUND = "The user doesn't exist."


def invitations_url(account: Account, *parts: str) -> str:
    return "/".join((f"/hub/accounts/{account.id}/invitations", *parts))


def invite(browser: Browser, account: Account, email: str, role: str = "member") -> httpx.Response:
    """The users page's invite form, filled in and sent."""
    page = browser.get(f"/hub/accounts/{account.id}/users")
    return browser.submit(page, f"/hub/accounts/{account.id}/users/invite", email=email, role=role)


def rows_of(page: httpx.Response, email: str) -> list[str]:
    """The rows of the invitations table for `email`, as text, newest first."""
    assert page.status_code == 200, text_of(page)
    body = re.search(r"<tbody>(.*?)</tbody>", page.text, re.S)
    assert body is not None, text_of(page)
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    texts = [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in rows]
    return [text for text in texts if text.startswith(email + " ")]


def test_the_list_shows_who_was_invited_as_what_and_whether_it_was_mailed(
    host: Host, browser: Browser, ctx: ServiceContext, inbox: Inbox
) -> None:
    me = console_user(ctx, browser, host.tenant)
    assert invite(browser, host.tenant, "ann@example.com", "member").status_code == 303
    assert invite(browser, host.tenant, "bob@example.com", "view").status_code == 303
    page = browser.get(invitations_url(host.tenant))
    assert "<h1>Invitations</h1>" in page.text
    for header in ("E-mail", "Role", "Status", "Invited by", "Expires", "Delivered"):
        assert f'<th scope="col">{header}</th>' in page.text, header
    (bob,) = rows_of(page, "bob@example.com")
    (ann,) = rows_of(page, "ann@example.com")
    assert bob.startswith("bob@example.com View only Pending")
    assert ann.startswith("ann@example.com Contributor Pending")
    assert me.email in ann
    assert "Yes" in ann
    assert "Resend" in ann
    assert "Revoke" in ann


def test_resending_mails_a_new_link_and_the_old_one_stops_working(
    host: Host,
    browser: Browser,
    new_browser: Callable[..., Browser],
    ctx: ServiceContext,
    inbox: Inbox,
) -> None:
    console_user(ctx, browser, host.tenant)
    invite(browser, host.tenant, "cat@example.com")
    first = mailed_link(inbox, "cat@example.com")
    page = browser.get(invitations_url(host.tenant))
    answer = browser.submit(page, invitations_url(host.tenant, "resend"), email="cat@example.com")
    assert answer.status_code == 303, text_of(answer)
    assert answer.headers["location"] == invitations_url(host.tenant)
    shown = browser.follow(answer)
    assert "Invitation sent to cat@example.com." in text_of(shown)
    second = mailed_link(inbox, "cat@example.com")
    assert second != first
    assert len(audit(ctx, "invitation.renew")) == 1
    newest, older = rows_of(shown, "cat@example.com")
    assert "Pending" in newest
    assert "Revoked" in older
    assert "Resend" not in older  # resending the newest is the one way to a new link

    person = new_browser()
    assert person.get(first).status_code == 410
    assert accept(person, second).status_code == 303


def test_the_user_page_resends_a_pending_members_invitation(
    host: Host, browser: Browser, ctx: ServiceContext, inbox: Inbox
) -> None:
    pending = make_member(ctx, host.tenant, role="view", email="dan@example.com", active=False)
    console_user(ctx, browser, host.tenant)
    page = browser.get(f"/hub/accounts/{host.tenant.id}/users/{pending.id}")
    assert "Pending" in text_of(page)
    answer = browser.submit(page, invitations_url(host.tenant, "resend"))
    assert answer.status_code == 303, text_of(answer)
    assert mailed_link(inbox, "dan@example.com")


def test_without_mail_resending_shows_the_new_link(
    host: Host, browser: Browser, new_browser: Callable[..., Browser], ctx: ServiceContext
) -> None:
    ctx.mailer = None
    console_user(ctx, browser, host.tenant)
    made = invite(browser, host.tenant, "eve@example.com")
    assert made.status_code == 200
    page = browser.get(invitations_url(host.tenant))
    assert "Not mailed" in rows_of(page, "eve@example.com")[0]
    again = browser.submit(page, invitations_url(host.tenant, "resend"), email="eve@example.com")
    assert again.status_code == 200, text_of(again)
    assert "<h1>Invitation created</h1>" in again.text
    found = re.search(r'id="invitation-link" type="text" readonly value="([^"]+)"', again.text)
    assert found is not None
    link = html.unescape(found.group(1))
    assert link.startswith("http://testserver/auth/verify/?token=")
    assert accept(new_browser(), link).status_code == 303


def test_revoking_asks_first_then_the_link_stops_working(
    host: Host,
    browser: Browser,
    new_browser: Callable[..., Browser],
    ctx: ServiceContext,
    inbox: Inbox,
) -> None:
    console_user(ctx, browser, host.tenant)
    invite(browser, host.tenant, "fay@example.com")
    link = mailed_link(inbox, "fay@example.com")
    page = browser.get(invitations_url(host.tenant))
    asked = browser.submit(page, invitations_url(host.tenant, "revoke"), email="fay@example.com")
    assert asked.status_code == 200
    assert "<h1>Revoke invitation</h1>" in asked.text
    assert audit(ctx, "invitation.revoke") == []
    assert "Pending" in rows_of(browser.get(invitations_url(host.tenant)), "fay@example.com")[0]
    confirm = browser.form(asked, invitations_url(host.tenant, "revoke"))
    assert confirm.fields["email"] == "fay@example.com"
    assert confirm.fields["confirmed"] == "yes"
    done = browser.submit(asked, invitations_url(host.tenant, "revoke"))
    assert done.status_code == 303
    shown = browser.follow(done)
    assert "The invitation to fay@example.com was revoked." in text_of(shown)
    (row,) = rows_of(shown, "fay@example.com")
    assert "Revoked" in row
    assert "Revoke" not in row.replace("Revoked", "")
    assert "Resend" in row  # they are still a pending member, who can get a new link
    assert len(audit(ctx, "invitation.revoke")) == 1
    assert new_browser().get(link).status_code == 410


def test_refusals_show_the_cores_words_on_the_page(
    host: Host, browser: Browser, new_browser: Callable[..., Browser], ctx: ServiceContext
) -> None:
    ctx.mailer = None
    console_user(ctx, browser, host.tenant)
    made = invite(browser, host.tenant, "gil@example.com")
    found = re.search(r'id="invitation-link" type="text" readonly value="([^"]+)"', made.text)
    assert found is not None
    assert accept(new_browser(), html.unescape(found.group(1))).status_code == 303
    page = browser.get(invitations_url(host.tenant))
    (row,) = rows_of(page, "gil@example.com")
    assert "Accepted" in row
    assert "Resend" not in row
    csrf = csrf_of(browser)
    accepted = browser.post(
        invitations_url(host.tenant, "resend"),
        data={"csrf_token": csrf, "email": "gil@example.com"},
    )
    assert accepted.status_code == 400
    assert ALREADY_ACCEPTED in text_of(accepted)
    assert "<h1>Invitations</h1>" in accepted.text
    stranger = browser.post(
        invitations_url(host.tenant, "revoke"),
        data={"csrf_token": csrf, "email": "nobody@example.com", "confirmed": "yes"},
    )
    assert stranger.status_code == 404
    assert USER_NOT_FOUND in text_of(stranger)
    assert audit(ctx, "invitation.renew") == []


def test_a_viewer_may_not_see_or_touch_invitations(
    host: Host, browser: Browser, new_browser: Callable[..., Browser], ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant)
    invite(browser, host.tenant, "hal@example.com")
    viewer = new_browser()
    console_user(ctx, viewer, host.tenant, role="view")
    users = viewer.get(f"/hub/accounts/{host.tenant.id}/users")
    assert f'href="{invitations_url(host.tenant)}"' not in users.text
    assert viewer.get(invitations_url(host.tenant)).status_code == 403
    csrf = csrf_of(viewer)
    for action in ("resend", "revoke"):
        answer = viewer.post(
            invitations_url(host.tenant, action),
            data={"csrf_token": csrf, "email": "hal@example.com", "confirmed": "yes"},
        )
        assert answer.status_code == 403, action
    assert "Pending" in rows_of(browser.get(invitations_url(host.tenant)), "hal@example.com")[0]
    assert audit(ctx, "invitation.renew") == []
    assert audit(ctx, "invitation.revoke") == []


def test_resend_and_revoke_need_the_csrf_token(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant)
    invite(browser, host.tenant, "ivy@example.com")
    for action in ("resend", "revoke"):
        answer = browser.post(
            invitations_url(host.tenant, action),
            data={"email": "ivy@example.com", "confirmed": "yes"},
        )
        assert answer.status_code == 403, action
    assert "Pending" in rows_of(browser.get(invitations_url(host.tenant)), "ivy@example.com")[0]
    assert audit(ctx, "invitation.revoke") == []
