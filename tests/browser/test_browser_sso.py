"""Single sign-on in real Chromium: the admin sets the account's identity provider on its
console page; a newcomer types their address, signs in at the provider (a real OpenID Connect
provider on 127.0.0.1) and lands in the console, a member with the role for newcomers."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from oidcprovider import Provider, provider_on_loopback
from tenantry.domain.memberships import MembershipStatus

from conftest import LiveServer
from factories import set_policy


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[Provider]:
    with provider_on_loopback(monkeypatch) as running:
        yield running


def quiet_provider_pages(context: BrowserContext) -> None:
    # The provider's own pages ask a CDN for a stylesheet: refused quietly (nothing leaves
    # the machine either way), as none of tenantry's pages may ask anything of another host.
    context.route(re.compile(r"^https://cdn\.jsdelivr\.net/.*"), lambda route: route.abort())


def test_a_newcomer_signs_in_through_the_accounts_identity_provider(
    admin_page: Page,
    new_context: Callable[..., BrowserContext],
    live_server: LiveServer,
    provider: Provider,
) -> None:
    tenant = live_server.tenant_id
    admin_page.goto(f"/hub/accounts/{tenant}")
    admin_page.get_by_role("link", name="Single sign-on").click()
    expect(admin_page.locator("#sso-status")).to_contain_text("No identity provider yet")
    admin_page.get_by_label("Issuer URL").fill(provider.issuer)
    admin_page.get_by_label("Client id").fill("tenantry-console")
    admin_page.get_by_label("Client secret").fill("console-client-secret")
    admin_page.get_by_label("E-mail domains").fill("sso-browser.example")
    admin_page.get_by_label("Role for people who arrive for the first time").select_option("view")
    admin_page.get_by_role("button", name="Save").click()
    expect(admin_page.get_by_text("The identity provider was saved.")).to_be_visible()
    expect(admin_page.locator("#sso-status")).to_contain_text(provider.issuer)
    # Single sign-on on for the account (its security policy).
    set_policy(live_server.ctx, tenant, sso_enabled=True)
    provider.set_user("kim", email="kim@sso-browser.example", email_verified=True)

    context = new_context()
    quiet_provider_pages(context)
    page = context.new_page()
    page.goto("/auth/login")
    page.get_by_label("E-mail address").fill("kim@sso-browser.example")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(provider.issuer)}/oauth2/authorize\?"))
    page.get_by_placeholder("sub").fill("kim")
    page.get_by_role("button", name="Authorize").click()
    expect(page).to_have_url(f"{live_server.url}/hub/")
    expect(page.get_by_text("Signed in as kim@sso-browser.example")).to_be_visible()

    with live_server.ctx.uow(readonly=True) as uow:
        user = uow.users.find_by_email("kim@sso-browser.example")
        assert user is not None
        membership = uow.memberships.find(user.id, tenant)
    assert user.is_verified
    assert membership is not None
    assert (membership.role_key, membership.status) == ("view", MembershipStatus.ACTIVE)
