"""Single sign-on in the console: an account's admins set, change and remove its identity
provider; the secret is never shown, and others don't get the page."""

from __future__ import annotations

import re

import pytest
from pydantic import SecretStr

from tenantry.services import sso_config
from tenantry.services.context import ServiceContext

from browsing import Browser, Host, audit, text_of
from console_support import console_user
from factories import OPERATOR

SECRET = "client-secret-shown-nowhere"


@pytest.fixture(autouse=True)
def secret_key(ctx: ServiceContext) -> None:
    ctx.settings.secret_key = SecretStr("k" * 40)


def sso_url(host: Host, *parts: str) -> str:
    return "/".join((f"/hub/accounts/{host.tenant.id}/sso", *parts))


def test_an_admin_sets_changes_and_removes_the_provider(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant)
    overview = browser.get(f"/hub/accounts/{host.tenant.id}")
    assert f'href="{sso_url(host)}"' in overview.text
    page = browser.get(sso_url(host))
    assert page.status_code == 200
    assert "No identity provider yet" in text_of(page)
    assert "http://testserver/auth/sso/callback" in text_of(page)
    answer = browser.submit(
        page,
        sso_url(host),
        issuer="https://idp.example.com",
        client_id="tenantry",
        client_secret=SECRET,
        domains="acme.example, acme.test",
        jit_role="view",
        require_verified_email="",  # unticked (the test's form reader sends every input)
    )
    assert answer.status_code == 303, text_of(answer)
    shown = browser.follow(answer)
    assert "The identity provider was saved." in text_of(shown)
    assert "Signing in through https://idp.example.com for acme.example, acme.test" in text_of(
        shown
    )
    assert SECRET not in shown.text
    view = sso_config.identity_provider(ctx, OPERATOR, host.tenant.id)
    assert view is not None
    assert (view.jit_role_key, view.require_verified_email) == ("view", False)

    # Changed without a secret: the saved one is kept.
    changed = browser.submit(shown, sso_url(host), client_secret="", require_verified_email="yes")
    assert changed.status_code == 303, text_of(changed)
    view = sso_config.identity_provider(ctx, OPERATOR, host.tenant.id)
    assert view is not None
    assert view.require_verified_email
    assert len(audit(ctx, "account.sso_set")) == 2

    page = browser.get(sso_url(host))
    asked = browser.submit(page, sso_url(host, "remove"))
    assert asked.status_code == 200
    done = browser.submit(asked, sso_url(host, "remove"))
    assert done.status_code == 303
    assert sso_config.identity_provider(ctx, OPERATOR, host.tenant.id) is None


def test_a_refused_setting_is_shown_next_to_its_field_and_nothing_saved(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant)
    page = browser.get(sso_url(host))
    answer = browser.submit(
        page,
        sso_url(host),
        issuer="http://idp.example.com",
        client_id="tenantry",
        client_secret=SECRET,
        domains="acme.example",
    )
    assert answer.status_code == 400
    assert re.search(r'id="issuer-error">The issuer must be an https URL', answer.text)
    assert 'value="acme.example"' in answer.text
    assert SECRET not in answer.text  # not even sent back into the form
    assert sso_config.identity_provider(ctx, OPERATOR, host.tenant.id) is None


def test_a_manager_gets_no_page(host: Host, browser: Browser, ctx: ServiceContext) -> None:
    console_user(ctx, browser, host.tenant, role="manage")
    assert browser.get(sso_url(host)).status_code == 403
    overview = browser.get(f"/hub/accounts/{host.tenant.id}")
    assert sso_url(host) not in overview.text
