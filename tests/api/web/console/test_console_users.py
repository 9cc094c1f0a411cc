"""Users: the list (search, filters, sorting, pages), inviting, and each user's page (role,
deactivation, removal), over the members services."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import timedelta

import httpx

from tenantry.domain.accounts import Account
from tenantry.domain.memberships import Membership, MembershipStatus
from tenantry.domain.users import User, UserStatus
from tenantry.services import accounts, members
from tenantry.services.context import ServiceContext

from browsing import Browser, Host, accept, audit, forms_of, mailed_link, text_of
from console_support import console_user, csrf_of
from factories import OPERATOR, make_account, make_member, set_policy
from mailserver import Inbox

LAST_ADMIN = "The last admin of an account can't be removed or demoted."
INVALID_EMAIL = "Invalid email address."
CROWD = re.compile(r"p\d{3}@crowd\.example\.com")


def users_url(account: Account, *parts: str) -> str:
    return "/".join((f"/hub/accounts/{account.id}/users", *parts))


def crowd(ctx: ServiceContext, account: Account, count: int = 120) -> list[User]:
    """`count` members written in one transaction: every fourth pending, every tenth
    deactivated, "view" and "member" roles in turn; number n joined n minutes in."""
    start = ctx.now() - timedelta(days=3)
    people = [
        User(
            id=f"00000000-0000-4000-8000-{n:012d}",
            email=f"p{n:03d}@crowd.example.com",
            name=f"Person {n:03d}",
            status=UserStatus.DEACTIVATED
            if n % 10 == 9
            else UserStatus.PENDING
            if n % 4 == 3
            else UserStatus.ACTIVATED,
            last_login_at=None if n % 2 else start,
            created_at=start,
        )
        for n in range(count)
    ]
    with ctx.uow() as uow:
        uow.users.add_many(people)
        uow.memberships.add_many(
            [
                Membership(
                    user_id=user.id,
                    account_id=account.id,
                    role_key=("view", "member")[n % 2],
                    status=MembershipStatus.PENDING if n % 4 == 3 else MembershipStatus.ACTIVE,
                    created_at=start + timedelta(minutes=n),
                )
                for n, user in enumerate(people)
            ]
        )
    return people


def listed(page: httpx.Response) -> list[str]:
    """The crowd's addresses in the order the table lists them."""
    assert page.status_code == 200, text_of(page)
    body = re.search(r"<tbody>(.*?)</tbody>", page.text, re.S)
    return CROWD.findall(body.group(1)) if body else []


def next_link(page: httpx.Response) -> str | None:
    found = re.search(r'href="([^"]+)" rel="next"', page.text)
    return found.group(1).replace("&amp;", "&") if found else None


def membership(ctx: ServiceContext, account: Account, user_id: str) -> Membership | None:
    with ctx.uow(readonly=True) as uow:
        return uow.memberships.find(user_id, account.id)


def user_of(ctx: ServiceContext, email: str) -> User:
    with ctx.uow(readonly=True) as uow:
        found = uow.users.find_by_email(email)
    assert found is not None
    return found


# -- the list ----------------------------------------------------------------------------------


def test_the_list_pages_by_50_and_sorts_by_email_both_ways(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    crowd(ctx, host.tenant)
    console_user(ctx, browser, host.tenant)
    first = browser.get(users_url(host.tenant))
    assert "Showing 1\u201350 of 121 users (page 1 of 3)." in text_of(first)
    filters = [
        f for f in forms_of(first) if f.method == "get" and f.action == users_url(host.tenant)
    ]
    assert len(filters) == 1
    for name in ("q", "role", "status", "sort", "dir"):
        assert re.search(rf'<label for="filter-{name}">', first.text), name
        assert f'id="filter-{name}" name="{name}"' in first.text, name

    ascending: list[str] = []
    url: str | None = users_url(host.tenant) + "?sort=email"
    while url is not None:
        page = browser.get(url)
        ascending += listed(page)
        url = next_link(page)
    assert len(ascending) == 120
    assert ascending == sorted(ascending)

    descending: list[str] = []
    url = users_url(host.tenant) + "?sort=email&dir=desc"
    pages = 0
    while url is not None:
        page = browser.get(url)
        descending += listed(page)
        url = next_link(page)
        pages += 1
    assert pages == 3
    assert descending == ascending[::-1]
    last = browser.get(users_url(host.tenant) + "?sort=email&dir=desc&page=3")
    assert "Showing 101\u2013121 of 121 users (page 3 of 3)." in text_of(last)
    assert 'rel="prev"' in last.text


def test_the_list_filters_by_status_role_and_search(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    crowd(ctx, host.tenant)
    console_user(ctx, browser, host.tenant)
    url = users_url(host.tenant)
    deactivated = browser.get(url, params={"status": "deactivated"})
    assert listed(deactivated) == [f"p{n:03d}@crowd.example.com" for n in range(9, 120, 10)]
    assert "Deactivated" in text_of(deactivated)
    pending = listed(browser.get(url, params={"status": "pending", "sort": "email"}))
    assert pending == [f"p{n:03d}@crowd.example.com" for n in range(3, 120, 4) if n % 10 != 9]
    active = browser.get(url, params={"status": "active"})
    assert "of 85 users" in text_of(active)  # 120 - 12 deactivated - 24 pending, and the admin
    members_only = browser.get(url, params={"role": "member", "status": "active", "sort": "email"})
    assert all(int(e[1:4]) % 2 == 1 for e in listed(members_only))
    assert listed(browser.get(url, params={"q": "P042"})) == ["p042@crowd.example.com"]
    assert listed(browser.get(url, params={"q": "person 01", "role": "view"})) == [
        f"p{n:03d}@crowd.example.com" for n in range(10, 20, 2)
    ]
    nothing = browser.get(url, params={"q": "nobody at all"})
    assert "No users match." in text_of(nothing)
    # Nonsense in the query string shows the plain list, not an error.
    odd = browser.get(url, params={"status": "sleepy", "sort": "shoe", "page": "-3"})
    assert "Showing 1\u201350 of 121 users" in text_of(odd)


def test_a_row_shows_role_scope_status_and_last_login(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    accounts.add_app(ctx, OPERATOR, host.tenant.id, "com.acme.app", "Acme")
    make_member(
        ctx,
        host.tenant,
        role="marketing",
        email="scoped@example.com",
        app_ids=["com.acme.app"],
        all_future_apps=False,
        geos=["US", "gb"],
    )
    make_member(ctx, host.tenant, role="view", email="waiting@example.com", active=False)
    console_user(ctx, browser, host.tenant)
    page = browser.get(users_url(host.tenant), params={"sort": "email"})
    rows = re.findall(r"<tr>(.*?)</tr>", page.text, re.S)
    cells = {
        email: " ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split())
        for row in rows
        for email in re.findall(r"[\w.]+@example\.com", row)[:1]
    }
    assert "Marketing" in cells["scoped@example.com"]
    assert "Apps: com.acme.app" in cells["scoped@example.com"]
    assert "Geos: US, GB" in cells["scoped@example.com"]
    assert "Media sources: All" in cells["scoped@example.com"]
    assert "Active" in cells["scoped@example.com"]
    assert "Never" in cells["scoped@example.com"]
    assert "Apps: All & future" in cells["waiting@example.com"]
    assert "Pending" in cells["waiting@example.com"]
    for header in ("User", "Role", "Scope", "Status", "Last login"):
        assert re.search(rf"<th scope=\"col\"[^>]*>\s*(<a [^>]+>)?{header}", page.text), header


# -- inviting ----------------------------------------------------------------------------------


def test_an_invitation_is_mailed_and_accepting_it_makes_the_user_active(
    host: Host,
    browser: Browser,
    new_browser: Callable[..., Browser],
    ctx: ServiceContext,
    inbox: Inbox,
) -> None:
    console_user(ctx, browser, host.tenant)
    page = browser.get(users_url(host.tenant))
    assert '<h2 id="invite-heading">Invite a user</h2>' in page.text
    assert "Send invitation" in page.text
    answer = browser.submit(
        page,
        users_url(host.tenant, "invite"),
        email="Nora.New@Example.com",
        role="member",
        first_name="Nora",
        last_name="New",
        department="Growth",
    )
    assert answer.status_code == 303, text_of(answer)
    assert answer.headers["location"] == f"/hub/accounts/{host.tenant.id}/invitations"
    assert "Invitation sent to nora.new@example.com." in text_of(browser.follow(answer))
    nora = user_of(ctx, "nora.new@example.com")
    assert (nora.first_name, nora.last_name, nora.department) == ("Nora", "New", "Growth")
    assert nora.id in {e.target_id for e in audit(ctx, "membership.create")}
    listed_page = browser.get(users_url(host.tenant), params={"q": "nora"})
    assert "Pending" in text_of(listed_page)

    other = new_browser()
    accepted = accept(other, mailed_link(inbox, "nora.new@example.com"))
    assert accepted.status_code == 303, text_of(accepted)
    after = text_of(browser.get(users_url(host.tenant), params={"q": "nora"}))
    assert "Active" in after
    assert "Pending" not in after.split("Invite a user")[0].split("Showing")[1]


def test_without_mail_the_page_shows_the_link_to_pass_on(
    host: Host,
    browser: Browser,
    new_browser: Callable[..., Browser],
    ctx: ServiceContext,
    inbox: Inbox,
) -> None:
    ctx.mailer = None
    console_user(ctx, browser, host.tenant)
    page = browser.get(users_url(host.tenant))
    answer = browser.submit(
        page, users_url(host.tenant, "invite"), email="lee@example.com", role="view"
    )
    assert answer.status_code == 200, text_of(answer)
    assert "<h1>Invitation created</h1>" in answer.text
    link = re.search(
        r'<input id="invitation-link" type="text" readonly value="([^"]+)"', answer.text
    )
    assert link is not None
    assert link.group(1).startswith("http://testserver/auth/verify/?token=")
    assert inbox.messages == []
    other = new_browser()
    assert accept(other, link.group(1).replace("&amp;", "&")).status_code == 303
    lee = user_of(ctx, "lee@example.com")
    found = membership(ctx, host.tenant, lee.id)
    assert found is not None
    assert found.status is MembershipStatus.ACTIVE


def test_a_person_with_a_user_elsewhere_is_invited_not_added(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    # Consent: an existing identity joins only when its owner accepts this account's invitation.
    other = make_account(ctx, parent=host.account, name="Other brand")
    for account in (other, host.tenant):
        set_policy(ctx, account.id, multi_account_users=True)
    known = make_member(ctx, other, role="view", email="known@example.com")
    console_user(ctx, browser, host.tenant)
    answer = browser.submit(
        browser.get(users_url(host.tenant)),
        users_url(host.tenant, "invite"),
        email="known@example.com",
        role="view",
    )
    assert answer.status_code == 303, text_of(answer)
    assert answer.headers["location"] == f"/hub/accounts/{host.tenant.id}/invitations"
    assert "Invitation sent to known@example.com." in text_of(browser.follow(answer))
    member = members.get_member(ctx, OPERATOR, host.tenant.id, known.id)
    assert member.membership.status is MembershipStatus.PENDING


def test_a_refused_invitation_shows_the_cores_words_and_keeps_what_was_typed(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    make_member(ctx, host.tenant, role="view", email="already@example.com")
    console_user(ctx, browser, host.tenant)
    page = browser.get(users_url(host.tenant))
    bad = browser.submit(
        page,
        users_url(host.tenant, "invite"),
        email="not-an-address",
        role="member",
        first_name="Kim",
        department="Sales",
    )
    assert bad.status_code == 400
    assert re.search(r'<p class="field__error" id="invite-email-error">' + INVALID_EMAIL, bad.text)
    kept = browser.form(bad, users_url(host.tenant, "invite")).fields
    assert (kept["email"], kept["first_name"], kept["department"]) == (
        "not-an-address",
        "Kim",
        "Sales",
    )
    assert '<option value="member" selected>' in bad.text

    unknown = browser.submit(
        page, users_url(host.tenant, "invite"), email="kim@example.com", role="wizard"
    )
    assert unknown.status_code == 400
    assert 'id="invite-role-error"' in unknown.text
    twice = browser.submit(
        page, users_url(host.tenant, "invite"), email="already@example.com", role="view"
    )
    assert twice.status_code == 409
    assert "This user already exists in this account." in text_of(twice)
    with ctx.uow(readonly=True) as uow:
        assert uow.users.find_by_email("kim@example.com") is None


def test_a_viewer_sees_the_list_but_no_invite_form_and_is_refused(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    target = make_member(ctx, host.tenant, role="member", email="target@example.com")
    console_user(ctx, browser, host.tenant, role="view")
    page = browser.get(users_url(host.tenant))
    assert page.status_code == 200
    assert "target@example.com" in text_of(page)
    assert "Invite a user" not in page.text
    assert "/invite" not in page.text
    user_page = browser.get(users_url(host.tenant, target.id))
    assert user_page.status_code == 200
    for button in ("Change role", "Deactivate", "Remove from account"):
        assert button not in user_page.text
    csrf = csrf_of(browser)
    refused = browser.post(
        users_url(host.tenant, "invite"),
        data={"csrf_token": csrf, "email": "sneaky@example.com", "role": "view"},
    )
    assert refused.status_code == 403
    assert "Not allowed" in text_of(refused)
    for action, fields in (("role", {"role": "view"}), ("active", {"active": "0"}), ("remove", {})):
        answer = browser.post(
            users_url(host.tenant, target.id, action),
            data={"csrf_token": csrf, "confirmed": "yes", **fields},
        )
        assert answer.status_code == 403, action
    found = membership(ctx, host.tenant, target.id)
    assert found is not None
    assert found.role_key == "member"
    assert user_of(ctx, "target@example.com").status is UserStatus.ACTIVATED
    with ctx.uow(readonly=True) as uow:
        assert uow.users.find_by_email("sneaky@example.com") is None


def test_forms_need_the_csrf_token(host: Host, browser: Browser, ctx: ServiceContext) -> None:
    target = make_member(ctx, host.tenant, role="member")
    console_user(ctx, browser, host.tenant)
    invite = browser.post(
        users_url(host.tenant, "invite"), data={"email": "x@example.com", "role": "view"}
    )
    assert invite.status_code == 403
    role = browser.post(
        users_url(host.tenant, target.id, "role"), data={"role": "view", "csrf_token": "nope"}
    )
    assert role.status_code == 403
    found = membership(ctx, host.tenant, target.id)
    assert found is not None
    assert found.role_key == "member"


# -- a user's page -----------------------------------------------------------------------------


def test_changing_a_role_is_audited(host: Host, browser: Browser, ctx: ServiceContext) -> None:
    target = make_member(ctx, host.tenant, role="member", email="ray@example.com")
    console_user(ctx, browser, host.tenant)
    page = browser.get(users_url(host.tenant, target.id))
    assert page.status_code == 200
    assert "<h1>ray@example.com</h1>" in page.text or "ray@example.com" in text_of(page)
    assert '<option value="member" selected>' in page.text
    answer = browser.submit(page, users_url(host.tenant, target.id, "role"), role="manage")
    assert answer.status_code == 303, text_of(answer)
    assert answer.headers["location"] == users_url(host.tenant, target.id)
    assert "ray@example.com now has the role" in text_of(browser.follow(answer))
    found = membership(ctx, host.tenant, target.id)
    assert found is not None
    assert found.role_key == "manage"
    (event,) = audit(ctx, "membership.change_role", target_id=target.id)
    assert event.before is not None
    assert event.before["role"] == "member"
    assert event.after is not None
    assert event.after["role"] == "manage"


def test_the_last_admin_cannot_be_demoted(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    only = make_member(ctx, host.tenant, role="admin", email="only.admin@example.com")
    console_user(ctx, browser, host.account)  # the partner's admin, who manages the advertiser
    page = browser.get(users_url(host.tenant, only.id))
    answer = browser.submit(page, users_url(host.tenant, only.id, "role"), role="view")
    assert answer.status_code == 409
    assert re.search(
        r'id="change-role-error">' + re.escape(LAST_ADMIN.replace("'", "&#39;")), answer.text
    )
    assert '<option value="view" selected>' in answer.text  # what was chosen stays chosen
    found = membership(ctx, host.tenant, only.id)
    assert found is not None
    assert found.role_key == "admin"
    assert audit(ctx, "membership.change_role") == []


def test_deactivating_asks_first_and_reactivating_undoes_it(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    target = make_member(ctx, host.tenant, role="member", email="dee@example.com")
    console_user(ctx, browser, host.tenant)
    page = browser.get(users_url(host.tenant, target.id))
    asked = browser.submit(page, users_url(host.tenant, target.id, "active"), active="0")
    assert asked.status_code == 200
    assert user_of(ctx, "dee@example.com").status is UserStatus.ACTIVATED
    confirm = browser.form(asked, users_url(host.tenant, target.id, "active"))
    assert confirm.fields["confirmed"] == "yes"
    assert confirm.fields["active"] == "0"
    assert "Deactivate" in text_of(asked)
    done = browser.submit(asked, users_url(host.tenant, target.id, "active"))
    assert done.status_code == 303
    shown = browser.follow(done)
    assert "dee@example.com was deactivated." in text_of(shown)
    assert user_of(ctx, "dee@example.com").status is UserStatus.DEACTIVATED
    assert len(audit(ctx, "user.deactivate", target_id=target.id)) == 1
    assert "Reactivate" in shown.text
    again = browser.submit(shown, users_url(host.tenant, target.id, "active"), active="1")
    assert again.status_code == 303  # reactivating asks nothing
    assert user_of(ctx, "dee@example.com").status is UserStatus.ACTIVATED


def test_removing_asks_first_and_refusals_are_shown_on_the_page(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    target = make_member(ctx, host.tenant, role="member", email="rem@example.com")
    me = console_user(ctx, browser, host.tenant)
    page = browser.get(users_url(host.tenant, target.id))
    asked = browser.submit(page, users_url(host.tenant, target.id, "remove"))
    assert asked.status_code == 200
    assert "<h1>Remove user</h1>" in asked.text
    assert membership(ctx, host.tenant, target.id) is not None
    done = browser.submit(asked, users_url(host.tenant, target.id, "remove"))
    assert done.status_code == 303
    assert done.headers["location"] == users_url(host.tenant)
    assert "rem@example.com was removed" in text_of(browser.follow(done))
    assert membership(ctx, host.tenant, target.id) is None
    assert len(audit(ctx, "membership.delete", target_id=target.id)) == 1
    assert browser.get(users_url(host.tenant, target.id)).status_code == 404

    myself = user_of(ctx, me.email)
    mine = browser.get(users_url(host.tenant, myself.id))
    asked = browser.submit(mine, users_url(host.tenant, myself.id, "remove"))
    refused = browser.submit(asked, users_url(host.tenant, myself.id, "remove"))
    assert refused.status_code == 409
    assert "Remove from account" in refused.text
    assert membership(ctx, host.tenant, myself.id) is not None
    assert "Can\u2019t delete your own user" in text_of(refused)


def test_the_bulk_page_is_not_taken_for_a_user(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant)
    assert browser.get(users_url(host.tenant, "bulk")).status_code == 200
    missing = browser.get(users_url(host.tenant, "00000000-0000-4000-8000-000000000000"))
    assert missing.status_code == 404
