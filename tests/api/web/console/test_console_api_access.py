"""API access in the console: API accounts and API tokens, their secrets shown once, and
revoking them (after a confirmation) so they stop working."""

from __future__ import annotations

import html
import re

import httpx

from tenantry.services import credentials, roles
from tenantry.services.context import ServiceContext

from browsing import Browser, Host, audit, person, text_of
from console_support import console_user, csrf_of, shown_secret
from factories import OPERATOR

USERS_API = "/api/user-management/v1.0/users"


def api_access(host: Host) -> str:
    return f"/hub/accounts/{host.tenant.id}/api-access"


def access_token(browser: Browser, client_id: str, secret: str) -> httpx.Response:
    return browser.post(
        "/clients/token",
        data={
            "client_id": client_id,
            "client_secret": secret,
            "grant_type": "client_credentials",
        },
    )


def test_an_api_account_shows_its_secret_once_and_revoking_it_stops_it(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    admin = console_user(ctx, browser, host.tenant)
    page = browser.get(api_access(host))
    assert page.status_code == 200
    assert "No API accounts yet." in text_of(page)

    created = browser.submit(page, f"{api_access(host)}/accounts", client_id="reports1")
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    assert "will not be shown again" in text_of(created)
    secret = shown_secret(created)
    token = access_token(browser, "reports1", secret)
    assert token.status_code == 200, token.text

    listing = browser.get(api_access(host))
    assert "reports1" in text_of(listing)
    assert secret not in listing.text
    assert "new-secret" not in listing.text
    (event,) = audit(ctx, "api_account.create", target_id="reports1")
    assert (event.account_id, event.face, event.actor_label) == (
        host.tenant.id,
        "console",
        admin.email,
    )

    revoke = f"{api_access(host)}/accounts/reports1/revoke"
    asked = browser.submit(listing, revoke)
    assert asked.status_code == 200
    assert "Revoke the API account reports1?" in text_of(asked)
    assert access_token(browser, "reports1", secret).status_code == 200  # nothing changed yet
    assert audit(ctx, "api_account.revoke") == []

    done = browser.submit(asked, revoke)
    assert done.status_code == 303
    assert done.headers["location"] == api_access(host)
    assert "The API account reports1 was revoked." in text_of(browser.follow(done))
    assert access_token(browser, "reports1", secret).status_code == 401
    assert len(audit(ctx, "api_account.revoke", target_id="reports1")) == 1
    after = browser.get(api_access(host))
    assert browser.form(after, f"{api_access(host)}/accounts") is not None
    assert not [f for f in re.findall(r'action="([^"]+)"', after.text) if f == revoke]


def test_a_refused_api_account_keeps_what_was_typed(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    credentials.create_api_account(ctx, OPERATOR, host.tenant.id, "taken1")
    console_user(ctx, browser, host.tenant)
    page = browser.get(api_access(host))
    action = f"{api_access(host)}/accounts"

    bad = browser.submit(page, action, client_id="has space")
    assert bad.status_code == 400
    assert re.search(
        r'id="client_id-error">An API account name has only letters and digits', bad.text
    )
    assert 'value="has space"' in bad.text

    taken = browser.submit(page, action, client_id="taken1")
    assert taken.status_code == 409
    assert 'id="client_id-error">This API account name is taken.</p>' in taken.text
    assert browser.form(taken, action).fields["client_id"] == "taken1"
    assert "new-secret" not in taken.text
    assert [a.client_id for a in credentials.list_api_accounts(ctx, OPERATOR, host.tenant.id)] == [
        "taken1"
    ]


def test_an_api_token_acts_as_its_user_until_revoked(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant)
    member = person(ctx, host.tenant, role="admin")
    page = browser.get(api_access(host))
    created = browser.submit(
        page,
        f"{api_access(host)}/tokens",
        name="Nightly sync",
        user_email=member,
        expires_days="30",
    )
    assert created.status_code == 200, text_of(created)
    token = shown_secret(created)
    assert member in text_of(created)
    bearer = {"Authorization": f"Bearer {token}"}
    assert browser.get(USERS_API, headers=bearer).status_code == 200

    listing = browser.get(api_access(host))
    text = text_of(listing)
    assert "Nightly sync" in text
    assert member in text  # the user's address, not an id
    assert token not in listing.text
    (listed,) = credentials.list_api_tokens(ctx, OPERATOR, host.tenant.id)
    assert listed.expires_at is not None
    assert (listed.expires_at - listed.created_at).days == 30
    assert len(audit(ctx, "api_token.create", target_id=listed.key)) == 1

    revoke = f"{api_access(host)}/tokens/{listed.key}/revoke"
    asked = browser.submit(listing, revoke)
    assert asked.status_code == 200
    assert f"acting as {member}" in text_of(asked)
    assert browser.get(USERS_API, headers=bearer).status_code == 200
    done = browser.submit(asked, revoke)
    assert done.status_code == 303
    assert browser.get(USERS_API, headers=bearer).status_code == 401
    assert len(audit(ctx, "api_token.revoke", target_id=listed.key)) == 1


def test_a_token_without_a_user_acts_as_the_first_admin_and_never_expires(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    admin = console_user(ctx, browser, host.tenant)
    page = browser.get(api_access(host))
    created = browser.submit(page, f"{api_access(host)}/tokens")
    assert created.status_code == 200
    assert admin.email in text_of(created)
    listing = text_of(browser.get(api_access(host)))
    assert f"token for {admin.email}" in listing
    assert "Never" in listing  # neither used nor expiring


def test_a_refused_token_keeps_what_was_typed(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant)
    page = browser.get(api_access(host))
    action = f"{api_access(host)}/tokens"

    unknown = browser.submit(
        page, action, name="Mine", user_email="nobody@example.com", expires_days="7"
    )
    assert unknown.status_code == 404
    assert 'id="user_email-error">The user doesn\'t exist.</p>' in html.unescape(unknown.text)
    kept = browser.form(unknown, action).fields
    assert (kept["name"], kept["user_email"], kept["expires_days"]) == (
        "Mine",
        "nobody@example.com",
        "7",
    )

    outsider = person(ctx, host.account, role="view")
    not_member = browser.submit(page, action, user_email=outsider)
    assert not_member.status_code == 400
    assert 'id="user_email-error">A token acts as an active member' in not_member.text

    bad_days = browser.submit(page, action, name="Mine", expires_days="soon")
    assert bad_days.status_code == 400
    assert 'id="expires_days-error">Enter a whole number of days' in bad_days.text
    assert credentials.list_api_tokens(ctx, OPERATOR, host.tenant.id) == []
    assert audit(ctx, "api_token.create") == []


def test_forms_need_the_csrf_token(host: Host, browser: Browser, ctx: ServiceContext) -> None:
    console_user(ctx, browser, host.tenant)
    for path, data in (
        ("accounts", {"client_id": "sneaky"}),
        ("tokens", {"name": "sneaky"}),
    ):
        answer = browser.post(f"{api_access(host)}/{path}", data=data)
        assert answer.status_code == 403
    assert credentials.list_api_accounts(ctx, OPERATOR, host.tenant.id) == []
    assert credentials.list_api_tokens(ctx, OPERATOR, host.tenant.id) == []


def test_a_viewer_gets_no_api_access(host: Host, browser: Browser, ctx: ServiceContext) -> None:
    credentials.create_api_account(ctx, OPERATOR, host.tenant.id, "theirs1")
    console_user(ctx, browser, host.tenant, role="view")
    overview = browser.get(f"/hub/accounts/{host.tenant.id}")
    assert overview.status_code == 200
    assert "/api-access" not in overview.text
    assert browser.get(api_access(host)).status_code == 403
    # The token from another page's form: the service refuses all the same.
    csrf = browser.form(overview, "/auth/logout").fields["csrf_token"]
    for path, data in (
        ("accounts", {"client_id": "mine1"}),
        ("tokens", {"name": "mine"}),
        ("accounts/theirs1/revoke", {}),
        ("accounts/theirs1/revoke", {"confirmed": "yes"}),
    ):
        answer = browser.post(f"{api_access(host)}/{path}", data={"csrf_token": csrf, **data})
        assert answer.status_code == 403, path
        assert "Not allowed" in text_of(answer)
    (kept,) = credentials.list_api_accounts(ctx, OPERATOR, host.tenant.id)
    assert kept.revoked_at is None
    assert credentials.list_api_tokens(ctx, OPERATOR, host.tenant.id) == []


# -- the role a credential acts with -----------------------------------------------------------


def select_options(page: httpx.Response, select_id: str) -> list[tuple[str, str, bool]]:
    """A select's options as (value, text, selected)."""
    found = re.search(rf'<select id="{select_id}" name="role"[^>]*>(.*?)</select>', page.text, re.S)
    assert found, select_id
    return [
        (html.unescape(value), html.unescape(text), bool(selected))
        for value, selected, text in re.findall(
            r'<option value="([^"]*)"( selected)?>([^<]*)</option>', found.group(1)
        )
    ]


def test_credentials_act_with_the_role_chosen_and_the_listings_show_it(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant)
    member = person(ctx, host.tenant, role="admin")
    page = browser.get(api_access(host))
    for select_id, default in (
        ("account-role", "Your own role (Admin)"),
        ("token-role", "The member's own role"),
    ):
        assert f'<label for="{select_id}">Role</label>' in page.text
        options = select_options(page, select_id)
        assert options[0] == ("", default, True)
        assert {"admin", "manage", "view"} <= {value for value, _, _ in options}

    created = browser.submit(page, f"{api_access(host)}/accounts", client_id="reader1", role="view")
    assert created.status_code == 200, text_of(created)
    assert "Role view" in text_of(created)
    browser.submit(page, f"{api_access(host)}/accounts", client_id="plain1")  # the default

    # The bulk user API takes an admin's rights: the member's own token has them, the same
    # member's token made to act as a manager has not.
    tokens = f"{api_access(host)}/tokens"
    managing = browser.submit(page, tokens, name="Managing", user_email=member, role="manage")
    assert managing.status_code == 200, text_of(managing)
    assert "Role manage" in text_of(managing)
    own = browser.submit(page, tokens, name="Own", user_email=member)
    for made, status in ((managing, 401), (own, 200)):
        bearer = {"Authorization": f"Bearer {shown_secret(made)}"}
        assert browser.get(USERS_API, headers=bearer).status_code == status

    assert {
        a.client_id: a.role_key
        for a in credentials.list_api_accounts(ctx, OPERATOR, host.tenant.id)
    } == {"reader1": "view", "plain1": "admin"}
    assert {
        t.name: t.role_key for t in credentials.list_api_tokens(ctx, OPERATOR, host.tenant.id)
    } == {"Managing": "manage", "Own": "admin"}
    listing = text_of(browser.get(api_access(host)))
    assert "reader1 View only view" in listing
    assert "plain1 Admin admin" in listing
    assert f"{member} Team manager manage" in listing
    assert f"{member} Admin admin" in listing


def test_no_credential_gets_a_role_above_its_maker_s(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    roles.create_custom_role(
        ctx,
        OPERATOR,
        host.tenant.id,
        key="integrator",
        display_name="Integrator",
        capabilities={"user_management": {"users": "read"}, "account": {"api_access": "all"}},
    )
    maker = console_user(ctx, browser, host.tenant, role="integrator")
    page = browser.get(api_access(host))
    offered = {value for value, _, _ in select_options(page, "account-role")}
    assert offered == {"", "integrator"}  # nothing that gives more than the maker has

    above = browser.submit(page, f"{api_access(host)}/accounts", client_id="sneaky1", role="admin")
    assert above.status_code == 403
    assert (
        '<p class="field__error" id="account-role-error">A credential can\'t have a role with '
        "more rights than your own.</p>"
    ) in html.unescape(above.text)
    assert browser.form(above, f"{api_access(host)}/accounts").fields["client_id"] == "sneaky1"
    token = browser.submit(
        page, f"{api_access(host)}/tokens", name="sneaky", user_email=maker.email, role="admin"
    )
    assert token.status_code == 403, text_of(token)
    assert 'id="token-role-error">A credential can\'t have a role' in html.unescape(token.text)
    assert browser.form(token, f"{api_access(host)}/tokens").fields["name"] == "sneaky"
    assert "new-secret" not in above.text + token.text
    mine = browser.submit(page, f"{api_access(host)}/accounts", client_id="mine1")
    assert mine.status_code == 200
    assert {
        a.client_id: a.role_key
        for a in credentials.list_api_accounts(ctx, OPERATOR, host.tenant.id)
    } == {"mine1": "integrator"}
    assert credentials.list_api_tokens(ctx, OPERATOR, host.tenant.id) == []


def test_a_manager_creates_no_api_account_whatever_the_role(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant, role="manage")
    csrf = csrf_of(browser)
    for role in ("admin", "manage", ""):
        answer = browser.post(
            f"{api_access(host)}/accounts",
            data={"csrf_token": csrf, "client_id": "managed1", "role": role},
        )
        assert answer.status_code == 403, role
        assert "Not allowed" in text_of(answer)
    assert credentials.list_api_accounts(ctx, OPERATOR, host.tenant.id) == []
