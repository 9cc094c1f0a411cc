"""Apps: the account's app catalogue, added to and removed from."""

from __future__ import annotations

import re

from tenantry.domain.accounts import Account
from tenantry.services import accounts
from tenantry.services.context import ServiceContext

from browsing import Browser, Host, audit, forms_of, text_of
from console_support import console_user, csrf_of
from factories import OPERATOR


def apps_url(account: Account, *parts: str) -> str:
    return "/".join((f"/hub/accounts/{account.id}/apps", *parts))


def apps_of(ctx: ServiceContext, account: Account) -> dict[str, str]:
    return accounts.list_apps(ctx, OPERATOR, account.id)


def test_an_app_is_added(host: Host, browser: Browser, ctx: ServiceContext) -> None:
    console_user(ctx, browser, host.tenant)
    page = browser.get(apps_url(host.tenant))
    assert page.status_code == 200
    assert "No apps yet." in text_of(page)
    answer = browser.submit(page, apps_url(host.tenant), app_id="com.acme.shop", name="Shop")
    assert answer.status_code == 303, text_of(answer)
    shown = browser.follow(answer)
    assert "The app com.acme.shop was added." in text_of(shown)
    assert "com.acme.shop Shop" in text_of(shown)
    assert apps_of(ctx, host.tenant) == {"com.acme.shop": "Shop"}
    assert [e.target_id for e in audit(ctx, "app.add")] == ["com.acme.shop"]


def test_a_refused_app_id_is_shown_next_to_the_field_and_kept(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    accounts.add_app(ctx, OPERATOR, host.tenant.id, "com.acme.shop", "Shop")
    console_user(ctx, browser, host.tenant)
    page = browser.get(apps_url(host.tenant))
    for app_id, status, message in (
        ("com.acme.shop", 409, "This identifier is already in use."),
        ("has space", 400, "An app id is 1 to 200 characters without spaces or commas."),
    ):
        answer = browser.submit(page, apps_url(host.tenant), app_id=app_id, name="Second")
        assert answer.status_code == status
        assert re.search(rf'id="app_id-error">{message}<', answer.text), text_of(answer)
        assert f'value="{app_id}"' in answer.text
        assert 'value="Second"' in answer.text
    assert apps_of(ctx, host.tenant) == {"com.acme.shop": "Shop"}


def test_removing_an_app_asks_first(host: Host, browser: Browser, ctx: ServiceContext) -> None:
    accounts.add_app(ctx, OPERATOR, host.tenant.id, "com.acme/shop", "Shop")
    console_user(ctx, browser, host.tenant)
    page = browser.get(apps_url(host.tenant))
    remove = apps_url(host.tenant, "com.acme/shop", "remove")
    asked = browser.submit(page, remove)
    assert asked.status_code == 200
    assert "Remove app" in text_of(asked)
    assert apps_of(ctx, host.tenant) == {"com.acme/shop": "Shop"}

    removed = browser.submit(asked, remove)
    assert removed.status_code == 303
    assert "The app com.acme/shop was removed." in text_of(browser.follow(removed))
    assert apps_of(ctx, host.tenant) == {}
    assert [e.target_id for e in audit(ctx, "app.remove")] == ["com.acme/shop"]

    again = browser.submit(asked, remove)  # the same confirmation, posted twice
    assert again.status_code == 400
    assert "One or more app IDs were either misspelled or don\u2019t exist" in text_of(again)


def test_a_viewer_sees_no_app_forms_and_may_not_post(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    accounts.add_app(ctx, OPERATOR, host.tenant.id, "com.acme.shop", "Shop")
    console_user(ctx, browser, host.tenant, role="view")
    page = browser.get(apps_url(host.tenant))
    assert "com.acme.shop" in text_of(page)
    assert [f.action for f in forms_of(page) if f.method == "post"] == ["/auth/logout"]
    token = csrf_of(browser)
    added = browser.post(apps_url(host.tenant), data={"csrf_token": token, "app_id": "x.y"})
    assert added.status_code == 403
    removed = browser.post(
        apps_url(host.tenant, "com.acme.shop", "remove"),
        data={"csrf_token": token, "confirmed": "yes"},
    )
    assert removed.status_code == 403
    assert apps_of(ctx, host.tenant) == {"com.acme.shop": "Shop"}


def test_app_forms_need_their_csrf_token(host: Host, browser: Browser, ctx: ServiceContext) -> None:
    console_user(ctx, browser, host.tenant)
    answer = browser.post(apps_url(host.tenant), data={"app_id": "forged.app"})
    assert answer.status_code == 403
    assert apps_of(ctx, host.tenant) == {}
