"""A member's Access page (what they may do in the account, and what grants each right, as the
core's policy explains it) and handing the account's ownership to them from their page."""

from __future__ import annotations

import re

import httpx

from tenantry.domain.accounts import Account
from tenantry.domain.users import User
from tenantry.services import access, accounts, members
from tenantry.services.context import ServiceContext

from browsing import Browser, Host, audit, person, text_of
from console_support import console_user, csrf_of
from factories import OPERATOR, make_member

ONLY_THE_OWNER = "Only the account owner can hand ownership over."
TO_AN_ACTIVE_ADMIN = "Ownership goes to an active admin of the account."


def user_url(account: Account, user_id: str, *parts: str) -> str:
    return "/".join((f"/hub/accounts/{account.id}/users/{user_id}", *parts))


def user_of(ctx: ServiceContext, email: str) -> User:
    with ctx.uow(readonly=True) as uow:
        found = uow.users.find_by_email(email)
    assert found is not None
    return found


def owner_of(ctx: ServiceContext, account: Account) -> str | None:
    return accounts.get_account(ctx, OPERATOR, account.id).owner_user_id


def rights(page: httpx.Response) -> dict[str, list[str]]:
    """The Rights table: action → [capability, level, granted by]."""
    assert page.status_code == 200, text_of(page)[:500]
    body = re.search(r"<tbody>(.*?)</tbody>", page.text, re.S)
    assert body is not None
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S):
        cells = [text_of(httpx.Response(200, text=cell)) for cell in re.split(r"</t[hd]>", row)]
        action, _, capability = cells[0].rpartition(" ")
        rows[action] = [capability, *cells[1:3]]
    return rows


# -- the Access page ---------------------------------------------------------------------------


def test_the_access_page_lists_each_right_with_what_grants_it(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant, role="view")  # readers may ask about members
    manager = user_of(ctx, person(ctx, host.tenant, role="manage"))
    profile = browser.get(user_url(host.tenant, manager.id))
    link = user_url(host.tenant, manager.id, "access")
    assert f'<a href="{link}">What {manager.email} may do in Acme Advertiser, and why</a>' in (
        profile.text
    )

    page = browser.get(link)
    grant = f"membership in Acme Advertiser [{host.tenant.id}] as Team manager (manage)"
    shown = rights(page)
    assert shown["add, change and remove members"] == ["user_management.users", "all", grant]
    assert shown["read the audit log"] == ["security.audit_log", "read", grant]
    assert "create API accounts and API tokens" not in shown
    # Straight from the core: the same rights, in the same order, and its notes.
    explained = access.explain_access(ctx, OPERATOR, host.tenant.id, user_id=manager.id)
    assert list(shown) == [p.action for p in explained.permissions]
    text = text_of(page)
    assert "Role here Team manager manage" in text
    for note in explained.notes:
        assert note in text
    assert '<caption class="visually-hidden">' in page.text


def test_a_pending_member_is_granted_nothing_and_the_notes_say_why(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant)
    pending = make_member(ctx, host.tenant, role="admin", active=False)
    page = browser.get(user_url(host.tenant, pending.id, "access"))
    assert page.status_code == 200
    text = text_of(page)
    assert f"Nothing is granted to {pending.email} here." in text
    assert "Role here None" in text
    assert "their membership here is pending until they accept the invitation" in text
    assert "<tbody>" not in page.text


def test_the_access_page_of_someone_outside_the_account_is_not_found(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant)
    outsider = user_of(ctx, person(ctx, host.account, role="view"))
    answer = browser.get(user_url(host.tenant, outsider.id, "access"))
    assert answer.status_code == 404
    assert "The user doesn't exist." in text_of(answer)


# -- handing ownership over --------------------------------------------------------------------


def test_the_owner_makes_an_active_admin_the_owner_after_confirming(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    me = user_of(ctx, console_user(ctx, browser, host.tenant).email)
    accounts.transfer_ownership(ctx, OPERATOR, host.tenant.id, me.id)
    heir = user_of(ctx, person(ctx, host.tenant, role="admin"))
    viewer = user_of(ctx, person(ctx, host.tenant, role="view"))
    assert "/owner" not in browser.get(user_url(host.tenant, viewer.id)).text  # not an admin

    action = user_url(host.tenant, heir.id, "owner")
    page = browser.get(user_url(host.tenant, heir.id))
    assert "Make owner" in text_of(page)
    asked = browser.submit(page, action)
    assert asked.status_code == 200
    assert f"Make {heir.email} the owner of Acme Advertiser?" in text_of(asked)
    assert owner_of(ctx, host.tenant) == me.id  # nothing yet
    assert browser.form(asked, action).fields["confirmed"] == "yes"

    done = browser.submit(asked, action)
    assert done.status_code == 303
    assert done.headers["location"] == user_url(host.tenant, heir.id)
    followed = browser.follow(done)
    assert f"{heir.email} now owns Acme Advertiser." in text_of(followed)
    assert "Make owner" not in text_of(followed)  # they own it now
    assert '<span class="badge">owner</span>' in followed.text
    assert owner_of(ctx, host.tenant) == heir.id
    (event,) = audit(ctx, "account.transfer_ownership", face="console")
    assert (event.face, event.actor_id, event.after) == (
        "console",
        me.id,
        {"owner_user_id": heir.id},
    )
    # The former owner is an admin like any other now: no "Make owner" on anyone's page.
    other = user_of(ctx, person(ctx, host.tenant, role="admin"))
    assert "/owner" not in browser.get(user_url(host.tenant, other.id)).text


def test_a_refusal_of_the_core_is_shown_on_the_member_s_page(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    me = user_of(ctx, console_user(ctx, browser, host.tenant).email)
    accounts.transfer_ownership(ctx, OPERATOR, host.tenant.id, me.id)
    heir = user_of(ctx, person(ctx, host.tenant, role="admin"))
    action = user_url(host.tenant, heir.id, "owner")
    asked = browser.submit(browser.get(user_url(host.tenant, heir.id)), action)
    # Meanwhile someone else deactivates the heir; the confirmation arrives too late.
    members.set_user_active(ctx, OPERATOR, host.tenant.id, heir.id, False)
    refused = browser.submit(asked, action)
    assert refused.status_code == 409
    assert re.search(rf'role="alert"><p>{TO_AN_ACTIVE_ADMIN}</p>', refused.text)
    assert owner_of(ctx, host.tenant) == me.id
    assert audit(ctx, "account.transfer_ownership", face="console") == []


def test_an_admin_who_is_not_the_owner_gets_no_make_owner_and_a_forged_post_is_refused(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    owner = make_member(ctx, host.tenant, role="admin")
    accounts.transfer_ownership(ctx, OPERATOR, host.tenant.id, owner.id)
    me = user_of(ctx, console_user(ctx, browser, host.tenant).email)
    other = user_of(ctx, person(ctx, host.tenant, role="admin"))
    page = browser.get(user_url(host.tenant, other.id))
    assert page.status_code == 200
    assert "Make owner" not in text_of(page)
    assert "/owner" not in page.text

    csrf = csrf_of(browser)
    for target in (other, me):
        forged = browser.post(
            user_url(host.tenant, target.id, "owner"),
            data={"csrf_token": csrf, "confirmed": "yes"},
        )
        assert forged.status_code == 403, target.email
        assert ONLY_THE_OWNER in text_of(forged)
    without_csrf = browser.post(user_url(host.tenant, other.id, "owner"), data={"confirmed": "yes"})
    assert without_csrf.status_code == 403
    assert owner_of(ctx, host.tenant) == owner.id
    assert audit(ctx, "account.transfer_ownership", face="console") == []
