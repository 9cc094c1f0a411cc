"""What people do in the console, end to end in Chromium: sign in, invite someone who then
accepts in their own browser, change a role, bulk add from a CSV, create and revoke an API
token, add and remove apps and roles. Each change is then found in the account's audit log,
and every destructive action asks first (Cancel changes nothing)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from playwright.sync_api import BrowserContext, FilePayload, Locator, Page, expect

from tenantry.domain.errors import MESSAGES, ErrorCode

from browser_support import sign_in

if TYPE_CHECKING:
    from conftest import LiveServer

STRONG_PASSWORD = "Correct-Horse-42-battery"


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def at(live: LiveServer, *parts: str, **query: str) -> str:
    path = "/".join(("/hub/accounts", live.host_id, *parts))
    return f"{path}?{urlencode(query)}" if query else path


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def form_with(page: Page, button: str) -> Locator:
    """The form whose submit button is `button`."""
    return page.locator("form").filter(has=page.get_by_role("button", name=button, exact=True))


def submit(page: Page, button: str, fields: dict[str, str]) -> None:
    """Fill the form of `button` (field name → value; a <select> gets that option) and send it."""
    form = form_with(page, button)
    for name, value in fields.items():
        field = form.locator(f"[name='{name}']")
        if field.evaluate("element => element.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    form.get_by_role("button", name=button, exact=True).click()


def cell(row: Locator, column: str) -> Locator:
    """The cell of `row` under the column headed `column`."""
    headers = row.locator("xpath=ancestor::table[1]/thead//th").all_inner_texts()
    index = [header.strip() for header in headers].index(column)
    return row.locator("xpath=./th|./td").nth(index)


def row_of(page: Page, text: str) -> Locator:
    return page.locator("tbody tr").filter(has_text=text)


def expect_confirmation(page: Page, button: str) -> None:
    """A confirmation page: the action's button and a Cancel link, nothing done yet."""
    expect(page.get_by_role("button", name=button, exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Cancel", exact=True)).to_be_visible()


def cancel_then_confirm(page: Page, item: Callable[[], Locator], button: str, confirm: str) -> None:
    """`button` of `item` asks first: Cancel leaves the item in place; asked again, `confirm`
    carries the action out."""
    item().get_by_role("button", name=button, exact=True).click()
    expect_confirmation(page, confirm)
    page.get_by_role("link", name="Cancel", exact=True).click()
    expect(item()).to_be_visible()
    item().get_by_role("button", name=button, exact=True).click()
    page.get_by_role("button", name=confirm, exact=True).click()
    expect(page.locator(".notice--success")).to_be_visible()


def expect_audited(page: Page, live: LiveServer, action: str, text: str) -> None:
    """The account's audit log, filtered by `action`, has an event mentioning `text`."""
    page.goto(at(live, "audit", action=action))
    expect(heading(page)).to_have_text("Audit log")
    event = row_of(page, text)
    expect(event.first).to_be_visible()
    expect(event.first).to_contain_text(action)


def expect_not_audited(page: Page, live: LiveServer, action: str, text: str) -> None:
    page.goto(at(live, "audit", action=action))
    expect(heading(page)).to_have_text("Audit log")
    expect(row_of(page, text)).to_have_count(0)


def invite(page: Page, live: LiveServer, email: str, role: str = "member") -> str:
    """Invite `email` from the users page; the invitation link the page shows."""
    page.goto(at(live, "users"))
    expect(page.get_by_role("heading", name="Invite a user", level=2)).to_be_visible()
    form = form_with(page, "Send invitation")
    form.locator("[name=email]").fill(email)
    form.get_by_label("Role", exact=True).select_option(role)
    form.locator("[name=first_name]").fill("Jordan")
    form.locator("[name=last_name]").fill("Invited")
    form.get_by_role("button", name="Send invitation").click()
    expect(heading(page)).to_have_text("Invitation created")
    link = page.locator("#invitation-link")
    expect(link).to_have_value(re.compile("^" + re.escape(f"{live.url}/auth/verify")))
    return link.input_value()


def accept(context: BrowserContext, link: str) -> Page:
    """Open the invitation link in `context` (another person's browser), choose a password;
    the invited person's page, signed in."""
    guest = context.new_page()
    guest.goto(link)
    expect(heading(guest)).to_have_text("Accept your invitation")
    guest.get_by_label("Choose a password").fill(STRONG_PASSWORD)
    guest.get_by_role("button", name="Accept the invitation").click()
    expect(guest).to_have_url(re.compile(r"/hub/$"))
    return guest


def user_id_of(page: Page, live: LiveServer, email: str) -> str:
    """The user's id, from the link to their page in the users table."""
    page.goto(at(live, "users", q=email))
    link = row_of(page, email).locator(f"a[href^='{at(live, 'users')}/']")
    expect(link).to_have_count(1)
    href = link.get_attribute("href") or ""
    found = re.fullmatch(re.escape(at(live, "users")) + r"/([^/?#]+)", href)
    assert found, f"the user's link is {href!r}"
    return found.group(1)


# -- signing in ---------------------------------------------------------------------------


def test_the_admin_signs_in_and_lands_on_the_accounts(
    page: Page, live_server: LiveServer, check_page: Callable[[Page, str], None]
) -> None:
    page.goto("/auth/login")
    expect(page.get_by_label("Password", exact=True)).to_have_count(0)  # the address first
    page.get_by_label("E-mail address").fill(live_server.admin_email)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_label("E-mail address")).to_have_value(live_server.admin_email)
    check_page(page, "sign-in-refused")

    page.get_by_label("Password", exact=True).fill(live_server.admin_password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/hub/")
    expect(heading(page)).to_have_text("Accounts")
    expect(page.get_by_text(f"Signed in as {live_server.admin_email}")).to_be_visible()
    expect(page.get_by_role("link", name="Host", exact=True)).to_be_visible()


def test_a_page_asked_for_before_signing_in_opens_after_it(
    page: Page, live_server: LiveServer
) -> None:
    page.goto(at(live_server))
    expect(page).to_have_url(re.compile(r"/auth/login\?next="))
    page.get_by_label("E-mail address").fill(live_server.admin_email)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password", exact=True).fill(live_server.admin_password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}{at(live_server)}")
    expect(heading(page)).to_have_text("Overview")


def test_a_read_only_member_sees_the_account_but_no_way_to_change_it(
    page: Page, live_server: LiveServer
) -> None:
    sign_in(page, live_server.viewer_email, live_server.viewer_password)
    page.get_by_role("link", name="Host", exact=True).click()
    tabs = page.get_by_role("navigation", name="Account")
    expect(tabs.get_by_role("link", name="Users", exact=True)).to_be_visible()
    for hidden in ("Invitations", "Bulk add", "API access", "Audit log"):
        expect(tabs.get_by_role("link", name=hidden, exact=True)).to_have_count(0)

    page.goto(at(live_server, "users"))
    expect(row_of(page, live_server.admin_email)).to_have_count(1)
    expect(page.get_by_role("heading", name="Invite a user")).to_have_count(0)
    expect(page.get_by_role("button", name="Send invitation")).to_have_count(0)

    response = page.goto(at(live_server, "api-access"))
    assert response is not None
    assert response.status == 403
    expect(heading(page)).not_to_have_text("API access")


# -- users --------------------------------------------------------------------------------


def test_an_invited_person_accepts_in_their_own_browser_and_sees_the_account(
    admin_page: Page,
    live_server: LiveServer,
    new_context: Callable[[], BrowserContext],
    check_page: Callable[[Page, str], None],
) -> None:
    email = f"{unique('jordan.')}@example.com"
    link = invite(admin_page, live_server, email)
    check_page(admin_page, "invitation-created")

    guest = accept(new_context(), link)
    expect(guest.get_by_text("Welcome! Your invitation is accepted.")).to_be_visible()
    expect(guest.get_by_text(f"Signed in as {email}")).to_be_visible()
    guest.get_by_role("link", name="Host", exact=True).click()
    expect(heading(guest)).to_have_text("Overview")

    user_id = user_id_of(admin_page, live_server, email)
    expect(cell(row_of(admin_page, email), "Status")).to_contain_text(
        re.compile("active", re.IGNORECASE)
    )
    expect_audited(admin_page, live_server, "membership.create", user_id)
    expect_audited(admin_page, live_server, "invitation.accept", user_id)


def test_the_admin_changes_a_users_role_on_the_user_page(
    admin_page: Page, live_server: LiveServer
) -> None:
    email = f"{unique('riley.')}@example.com"
    invite(admin_page, live_server, email, role="member")
    user_id = user_id_of(admin_page, live_server, email)
    expect(cell(row_of(admin_page, email), "Role")).to_contain_text("Contributor")

    admin_page.goto(at(live_server, "users", user_id))
    form = form_with(admin_page, "Change role")
    form.get_by_label("Role", exact=True).select_option("manage")
    form.get_by_role("button", name="Change role").click()
    expect(admin_page.locator(".notice--success")).to_be_visible()

    admin_page.goto(at(live_server, "users", q=email))
    expect(cell(row_of(admin_page, email), "Role")).to_contain_text("Team manager")
    expect_audited(admin_page, live_server, "membership.change_role", user_id)


def test_removing_a_user_asks_first_and_cancel_changes_nothing(
    admin_page: Page,
    live_server: LiveServer,
    new_context: Callable[[], BrowserContext],
    check_page: Callable[[Page, str], None],
) -> None:
    email = f"{unique('morgan.')}@example.com"
    accept(new_context(), invite(admin_page, live_server, email))
    user_id = user_id_of(admin_page, live_server, email)
    user_page = at(live_server, "users", user_id)

    admin_page.goto(user_page)
    admin_page.get_by_role("button", name="Deactivate", exact=True).click()
    expect_confirmation(admin_page, "Deactivate")
    check_page(admin_page, "confirm-deactivate")
    admin_page.get_by_role("link", name="Cancel", exact=True).click()
    expect(admin_page).to_have_url(re.compile(re.escape(user_page)))
    expect(admin_page.get_by_role("button", name="Deactivate", exact=True)).to_be_visible()

    admin_page.get_by_role("button", name="Remove from account", exact=True).click()
    expect_confirmation(admin_page, "Remove")
    admin_page.get_by_role("link", name="Cancel", exact=True).click()
    admin_page.goto(at(live_server, "users", q=email))
    expect(row_of(admin_page, email)).to_have_count(1)
    expect_not_audited(admin_page, live_server, "user.deactivate", user_id)
    expect_not_audited(admin_page, live_server, "membership.delete", user_id)

    admin_page.goto(user_page)
    admin_page.get_by_role("button", name="Remove from account", exact=True).click()
    admin_page.get_by_role("button", name="Remove", exact=True).click()
    expect(admin_page.locator(".notice--success")).to_be_visible()
    admin_page.goto(at(live_server, "users", q=email))
    expect(row_of(admin_page, email)).to_have_count(0)
    expect_audited(admin_page, live_server, "membership.delete", user_id)


def test_revoking_an_invitation_asks_first(admin_page: Page, live_server: LiveServer) -> None:
    email = f"{unique('quinn.')}@example.com"
    invite(admin_page, live_server, email)
    user_id = user_id_of(admin_page, live_server, email)
    admin_page.goto(at(live_server, "invitations"))
    invitation = row_of(admin_page, email)
    expect(invitation).to_have_count(1)
    before = invitation.inner_text()
    invitation.get_by_role("button", name="Revoke", exact=True).click()
    expect_confirmation(admin_page, "Revoke")
    admin_page.get_by_role("link", name="Cancel", exact=True).click()
    expect(heading(admin_page)).to_have_text("Invitations")
    assert row_of(admin_page, email).inner_text() == before

    row_of(admin_page, email).get_by_role("button", name="Revoke", exact=True).click()
    admin_page.get_by_role("button", name="Revoke", exact=True).click()
    expect(admin_page.locator(".notice--success")).to_be_visible()
    admin_page.goto(at(live_server, "invitations"))
    expect(row_of(admin_page, email).get_by_role("button", name="Revoke")).to_have_count(0)
    expect_audited(admin_page, live_server, "invitation.revoke", user_id)


# -- bulk add -----------------------------------------------------------------------------


def test_bulk_add_from_pasted_csv_and_from_an_uploaded_file_shows_each_row(
    admin_page: Page, live_server: LiveServer, check_page: Callable[[Page, str], None]
) -> None:
    pasted = f"{unique('pat.')}@example.com"
    uploaded = f"{unique('uma.')}@example.com"
    admin_page.goto(at(live_server, "users", "bulk"))
    admin_page.locator("textarea[name=csv]").fill(
        "email,role,username,department,app_ids,media_sources,geos\n"
        f"{pasted},member,Pat Bulk,Growth,,,\n"
        f"{unique('bad.')}@example.com,no_such_role,,,,,\n"
    )
    admin_page.get_by_role("button", name="Add users", exact=True).click()
    results = admin_page.locator("table").filter(
        has=admin_page.get_by_role("columnheader", name="Result")
    )
    expect(results.locator("tbody tr")).to_have_count(2)
    expect(cell(row_of(admin_page, pasted), "Result")).to_have_text(
        re.compile(r"^\s*(Added|Invited)\s*$")
    )
    refused = cell(row_of(admin_page, "bad."), "Result")
    expect(refused).to_have_text(MESSAGES[ErrorCode.UNKNOWN_ROLE])  # the core's, word for word
    check_page(admin_page, "bulk-result")

    admin_page.goto(at(live_server, "users", "bulk"))
    people: FilePayload = {
        "name": "people.csv",
        "mimeType": "text/csv",
        "buffer": f"email,role\n{uploaded},view\n".encode(),
    }
    admin_page.locator("input[type=file][name=csv_file]").set_input_files(files=[people])
    admin_page.get_by_role("button", name="Add users", exact=True).click()
    expect(results.locator("tbody tr")).to_have_count(1)
    expect(cell(row_of(admin_page, uploaded), "Result")).to_have_text(
        re.compile(r"^\s*(Added|Invited)\s*$")
    )

    for email in (pasted, uploaded):
        user_id = user_id_of(admin_page, live_server, email)
        expect_audited(admin_page, live_server, "membership.create", user_id)


# -- roles and apps -----------------------------------------------------------------------


def test_a_custom_role_is_created_and_deleted_after_confirming(
    admin_page: Page, live_server: LiveServer
) -> None:
    key = unique("auditor_")
    admin_page.goto(at(live_server, "roles"))
    submit(
        admin_page,
        "Create role",
        {"key": key, "display_name": f"Auditor {key}", "cap:security:audit_log": "read"},
    )
    expect(admin_page.locator(f"#role-{key}")).to_contain_text("custom")

    cancel_then_confirm(
        admin_page, lambda: admin_page.locator(f"#role-{key}"), "Delete role", "Delete role"
    )
    admin_page.goto(at(live_server, "roles"))
    expect(admin_page.locator(f"#role-{key}")).to_have_count(0)
    expect_audited(admin_page, live_server, "role.create", key)
    expect_audited(admin_page, live_server, "role.delete", key)


def test_an_app_is_added_and_removed_after_confirming(
    admin_page: Page, live_server: LiveServer
) -> None:
    app_id = unique("com.example.")
    admin_page.goto(at(live_server, "apps"))
    submit(admin_page, "Add app", {"app_id": app_id, "name": "Example app"})
    expect(row_of(admin_page, app_id)).to_have_count(1)

    cancel_then_confirm(admin_page, lambda: row_of(admin_page, app_id), "Remove", "Remove")
    expect(row_of(admin_page, app_id)).to_have_count(0)
    expect_audited(admin_page, live_server, "app.add", app_id)
    expect_audited(admin_page, live_server, "app.remove", app_id)


# -- API access ---------------------------------------------------------------------------


def test_an_api_token_is_shown_once_and_revoked_after_confirming(
    admin_page: Page, live_server: LiveServer, check_page: Callable[[Page, str], None]
) -> None:
    name = unique("ci-token-")
    admin_page.goto(at(live_server, "api-access"))
    submit(admin_page, "Create token", {"name": name})
    secret_box = admin_page.locator("#new-secret")
    expect(secret_box).to_have_value(re.compile(r"\S{16,}"))
    secret = secret_box.input_value()
    check_page(admin_page, "api-secret")

    admin_page.goto(at(live_server, "api-access"))
    token = row_of(admin_page, name)
    expect(token).to_have_count(1)
    assert secret not in admin_page.content()
    expect(cell(token, "Revoked")).to_have_text("No")

    token.get_by_role("button", name="Revoke", exact=True).click()
    expect_confirmation(admin_page, "Revoke")
    check_page(admin_page, "confirm-revoke")
    admin_page.get_by_role("link", name="Cancel", exact=True).click()
    expect(cell(row_of(admin_page, name), "Revoked")).to_have_text("No")

    row_of(admin_page, name).get_by_role("button", name="Revoke", exact=True).click()
    admin_page.get_by_role("button", name="Revoke", exact=True).click()
    expect(admin_page.locator(".notice--success")).to_be_visible()
    admin_page.goto(at(live_server, "api-access"))
    revoked = row_of(admin_page, name)
    expect(cell(revoked, "Revoked").locator("time")).to_have_count(1)
    expect(revoked.get_by_role("button", name="Revoke")).to_have_count(0)
    expect_audited(admin_page, live_server, "api_token.create", name)
    expect_audited(admin_page, live_server, "api_token.revoke", name)


def test_an_admin_changes_an_accounts_security_policy(
    admin_page: Page, live_server: LiveServer
) -> None:
    page = admin_page
    settings = "/".join(("/hub/accounts", live_server.tenant_id, "settings"))
    page.goto(settings)
    expect(heading(page)).to_have_text("Settings")
    save = "Save the security policy"
    submit(page, save, {"two_factor_required": "yes", "invitation_days": "30"})
    expect(page.get_by_role("status")).to_contain_text("The security policy was saved.")
    expect(page.get_by_label("Two-factor sign-in")).to_have_value("yes")
    expect(page.get_by_label("Invitation lifetime (days)")).to_have_value("30")
    submit(page, save, {"allowed_email_domains": "not a domain"})  # refused by its field, kept
    expect(page.locator("#allowed_email_domains-error")).to_contain_text("is not an e-mail domain")
    expect(page.get_by_label("Allowed e-mail domains")).to_have_value("not a domain")
    submit(
        page,
        save,
        {"two_factor_required": "no", "invitation_days": "", "allowed_email_domains": ""},
    )
    expect(page.get_by_role("status")).to_contain_text("The security policy was saved.")
