"""The audit log in the console: what was done in the account, by whom and through which face,
narrowed by action, face, actor and dates, 50 events a page."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import httpx

from tenantry.services import accounts, credentials
from tenantry.services.context import Actor, ServiceContext

from browsing import Browser, Clock, Host, audit, person, text_of
from console_support import console_user, shown_secret
from factories import OPERATOR

CLI = Actor.system(face="cli", label="ops script")


def audit_url(host: Host) -> str:
    return f"/hub/accounts/{host.tenant.id}/audit"


def actions_on(page: httpx.Response) -> list[str]:
    """The action codes of the listed events, top to bottom."""
    assert page.status_code == 200, text_of(page)[:500]
    body = re.search(r"<tbody>(.*?)</tbody>", page.text, re.S)
    return re.findall(r"<br><code>([a-z_.]+)</code></th>", body.group(1)) if body else []


def link(page: httpx.Response, text: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)"[^>]*>{text}</a>', page.text)
    return html.unescape(found.group(1)) if found else None


def test_console_changes_are_listed_with_who_face_and_details(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    admin = console_user(ctx, browser, host.tenant)
    access = f"/hub/accounts/{host.tenant.id}/api-access"
    browser.submit(browser.get(access), f"{access}/accounts", client_id="auditme1")
    browser.submit(browser.get(access), f"{access}/tokens", name="Audited")
    revoke = f"{access}/accounts/auditme1/revoke"
    asked = browser.submit(browser.get(access), revoke)
    assert browser.submit(asked, revoke).status_code == 303

    page = browser.get(audit_url(host))
    assert actions_on(page)[:3] == ["api_account.revoke", "api_token.create", "api_account.create"]
    text = text_of(page)
    assert "API account revoked api_account.revoke" in text
    assert admin.email in text
    assert "Console" in text
    assert "api account auditme1" in text
    assert "<details>" in page.text
    assert '"revoked_at": null' in html.unescape(page.text)  # the state before, as JSON
    assert "Request id" in text


def test_filters_narrow_the_events(
    host: Host, browser: Browser, ctx: ServiceContext, clock: Clock
) -> None:
    clock.advance(days=-2)
    accounts.add_app(ctx, CLI, host.tenant.id, "old-app")
    clock.advance(days=2)
    admin = console_user(ctx, browser, host.tenant)
    credentials.create_api_account(ctx, OPERATOR, host.tenant.id, "viatest1")
    access = f"/hub/accounts/{host.tenant.id}/api-access"
    browser.submit(browser.get(access), f"{access}/accounts", client_id="viaconsole1")

    everything = actions_on(browser.get(audit_url(host)))
    assert {"app.add", "api_account.create", "membership.create"} <= set(everything)

    by_action = browser.get(audit_url(host), params={"action": "api_account.create"})
    assert actions_on(by_action) == ["api_account.create", "api_account.create"]
    assert '<option value="api_account.create" selected>' in by_action.text
    assert "membership.create" not in text_of(by_action)  # codes show only on listed events

    by_face = browser.get(
        audit_url(host), params={"action": "api_account.create", "face": "console"}
    )
    assert actions_on(by_face) == ["api_account.create"]
    assert "viaconsole1" in text_of(by_face)
    assert "viatest1" not in text_of(by_face)
    assert actions_on(browser.get(audit_url(host), params={"face": "cli"})) == ["app.add"]

    mine = link(by_face, re.escape(admin.email))
    assert mine is not None
    assert "actor=" in mine
    assert set(actions_on(browser.get(mine))) == {"api_account.create"}

    yesterday = (clock.now - timedelta(days=1)).date().isoformat()
    two_days_ago = (clock.now - timedelta(days=2)).date().isoformat()
    recent = actions_on(browser.get(audit_url(host), params={"since": yesterday}))
    assert "app.add" not in recent
    assert "api_account.create" in recent
    old = actions_on(browser.get(audit_url(host), params={"until": two_days_ago}))
    assert "app.add" in old
    assert "api_account.create" not in old
    none = browser.get(audit_url(host), params={"action": "no.such_action"})
    assert actions_on(none) == []
    assert "No event matches these filters." in text_of(none)


def test_bad_dates_are_named_next_to_their_field(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant)
    for params, field in (
        ({"since": "2024-13-40"}, "since"),
        ({"until": "yesterday"}, "until"),
        ({"since": "99999-01-01"}, "since"),
        ({"since": "0001-01-01"}, "since"),
        ({"since": "2024-05-02", "until": "2024-05-01"}, "until"),
    ):
        page = browser.get(audit_url(host), params={**params, "action": "app.add"})
        assert page.status_code == 400, params
        assert f'id="{field}-error"' in page.text, params
        value = params[field]
        assert f'name="{field}" type="date" value="{value}"' in page.text
        assert '<option value="app.add" selected>' in page.text  # the other filters kept
        assert "<tbody>" not in page.text
    odd = browser.get(audit_url(host), params={"before": "not-a-number", "face": "x" * 500})
    assert odd.status_code == 200


def test_sixty_events_take_two_pages(host: Host, browser: Browser, ctx: ServiceContext) -> None:
    for number in range(60):
        accounts.add_app(ctx, OPERATOR, host.tenant.id, f"app-{number:02}")
    console_user(ctx, browser, host.tenant)
    first = browser.get(audit_url(host), params={"action": "app.add"})
    assert actions_on(first) == ["app.add"] * 50
    assert "app-59" in text_of(first)
    assert link(first, "Newest") is None
    older = link(first, "Older")
    assert older is not None
    assert "action=app.add" in older

    second = browser.get(older)
    assert actions_on(second) == ["app.add"] * 10
    assert link(second, "Older") is None
    assert link(second, "Newest") == f"{audit_url(host)}?action=app.add"
    shown = re.findall(r"app-\d\d", text_of(first) + text_of(second))
    assert sorted(set(shown)) == [f"app-{n:02}" for n in range(60)]

    unfiltered = browser.get(audit_url(host))
    assert len(actions_on(unfiltered)) == 50
    rest = browser.get(link(unfiltered, "Older") or "")
    assert 0 < len(actions_on(rest)) <= 50


def test_who_may_read_the_audit_log(host: Host, browser: Browser, ctx: ServiceContext) -> None:
    console_user(ctx, browser, host.tenant, role="manage")
    overview = browser.get(f"/hub/accounts/{host.tenant.id}")
    assert f'href="{audit_url(host)}"' in overview.text
    assert browser.get(audit_url(host)).status_code == 200


def test_a_viewer_gets_no_audit_log(host: Host, browser: Browser, ctx: ServiceContext) -> None:
    console_user(ctx, browser, host.tenant, role="view")
    overview = browser.get(f"/hub/accounts/{host.tenant.id}")
    assert "/audit" not in overview.text
    refused = browser.get(audit_url(host))
    assert refused.status_code == 403
    assert "Not allowed" in text_of(refused)


def who_cell(page: httpx.Response, action: str) -> str:
    """The text of the "Who" cell of the newest listed event with `action`."""
    for row in re.findall(r"<tr>(.*?)</tr>", page.text, re.S):
        if f"<br><code>{action}</code></th>" in row:
            cell = re.search(r'<td data-label="Who">(.*?)</td>', row, re.S)
            assert cell is not None
            return cell.group(1)
    raise AssertionError(f"no {action} event listed")


def test_changes_made_with_a_credential_say_whom_it_acts_as_and_who_minted_it(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    admin = console_user(ctx, browser, host.tenant)
    member = person(ctx, host.tenant, role="admin")
    access = f"/hub/accounts/{host.tenant.id}/api-access"
    made = browser.submit(browser.get(access), f"{access}/tokens", name="Sync", user_email=member)
    bearer = {"Authorization": f"Bearer {shown_secret(made)}"}
    added = browser.post(
        "/api/user-management/v1.0/users",
        json=[
            {
                "email": "via-token@example.com",
                "username": "Demi Smith",
                "department": "MC Marketing",
                "role": "marketing",
                "allow_access_to_all_future_apps": True,
                "media_sources": [],
                "geos": [],
            }
        ],
        headers=bearer,
    )
    assert added.status_code == 200, added.text
    (event,) = [
        e
        for e in audit(ctx, "membership.create")
        if (e.account_id, e.actor_kind) == (host.tenant.id, "api_token")
    ]
    member_id = event.actor_user_id
    assert member_id is not None
    assert event.actor_minted_by == admin.email

    page = browser.get(audit_url(host))
    cell = who_cell(page, "membership.create")
    assert text_of(httpx.Response(200, text=cell)) == (
        f"{member} API token acting as {member} via token minted by {admin.email}"
    )
    assert f'<a href="/hub/accounts/{host.tenant.id}/users/{member_id}">{member}</a>' in cell

    # An API account acts as nobody; its line names who made it.
    host.invite("via-account@example.com")
    cell = who_cell(browser.get(audit_url(host)), "membership.create")
    (by_account,) = [
        e
        for e in audit(ctx, "membership.create")
        if (e.account_id, e.actor_kind) == (host.tenant.id, "api_account")
    ]
    assert by_account.actor_minted_by
    text = text_of(httpx.Response(200, text=cell))
    assert text.endswith(f"API account via API account minted by {by_account.actor_minted_by}")
    assert "acting as" not in text
    # A person's own change names neither.
    own = who_cell(page, "api_token.create")
    assert "minted by" not in own
    assert "acting as" not in own
