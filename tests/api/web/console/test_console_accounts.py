"""The console's frame: signing in to it, the accounts tree, an account's page, Settings."""

from __future__ import annotations

import re
from collections.abc import Callable

from tenantry.domain.accounts import AccountKind
from tenantry.services.context import ServiceContext

from browsing import Browser, Host, text_of
from console_support import console_user
from factories import make_account


def test_the_console_needs_a_signed_in_person(browser: Browser) -> None:
    for path in ("/hub/", "/hub", "/hub/settings", "/hub/accounts/aaaaaaaa"):
        answer = browser.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/auth/login?next=/hub"), path


def test_the_accounts_tree_shows_what_the_person_reaches(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.account)
    home = browser.get("/hub/")
    assert home.status_code == 200
    text = text_of(home)
    assert host.account.name in text
    assert host.tenant.name in text  # a child, under its partner
    assert f'href="/hub/accounts/{host.tenant.id}"' in home.text

    found = browser.get("/hub/", params={"q": "acme"})
    assert "Acme Advertiser" in text_of(found)
    nothing = browser.get("/hub/", params={"q": "no such account"})
    assert "No account you can reach matches." in text_of(nothing)


def test_an_advertisers_member_sees_only_that_advertiser(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant, role="manage")
    text = text_of(browser.get("/hub/"))
    assert host.tenant.name in text
    assert f'href="/hub/accounts/{host.account.id}"' not in browser.get("/hub/").text
    refused = browser.get(f"/hub/accounts/{host.account.id}")
    assert refused.status_code == 403
    assert "Not allowed" in text_of(refused)
    missing = browser.get("/hub/accounts/zzzzzzzz")
    assert missing.status_code == 404


def test_an_accounts_children_are_searched_and_paged(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    for number in range(55):
        make_account(
            ctx, parent=host.account, kind=AccountKind.ADVERTISER, name=f"Brand {number:02}"
        )
    console_user(ctx, browser, host.account)
    first = browser.get(f"/hub/accounts/{host.account.id}")
    assert first.status_code == 200
    shown = re.findall(r'href="/hub/accounts/(\w{8})"', first.text)
    next_link = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert next_link is not None
    second = browser.get(next_link.group(1).replace("&amp;", "&"))
    more = re.findall(r'href="/hub/accounts/(\w{8})"', second.text)
    children = set(shown + more) - {host.account.id}
    assert len(children) == 56  # 55 brands and the host's advertiser, none twice
    one = browser.get(f"/hub/accounts/{host.account.id}", params={"q": "Brand 07"})
    assert "Brand 07" in text_of(one)
    assert "Brand 08" not in text_of(one)


def test_settings_link_to_every_api_reference(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.account)
    page = browser.get("/hub/settings")
    assert "API reference" in text_of(page)
    links = re.findall(r'<a href="(http://testserver/[^"]+)"', page.text)
    assert len(links) >= 5
    for link in links:
        answer = browser.get(link)
        # Each reference answers; the SCIM and token ones want credentials, not a browser.
        assert answer.status_code in (200, 401, 405), (link, answer.status_code)


def test_settings_show_the_deployments_operators_the_mail_waiting(
    host: Host, browser: Browser, new_browser: Callable[..., Browser], ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.account)
    status = text_of(browser.get("/hub/settings"))
    assert "Mail delivery" in status
    assert re.search(r"0 waiting to go out, 0 given up on, [1-9]\d* sent\.", status), status
    # A member of an advertiser sees nothing of the deployment's mail.
    other = new_browser()
    console_user(ctx, other, host.tenant, role="admin")
    assert "Mail delivery" not in text_of(other.get("/hub/settings"))
