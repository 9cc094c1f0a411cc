"""Settings → Webhooks in the console: an endpoint added (its secret shown once), a role changed
in the console arriving at a real receiver once, the delivery log with "Send again", switching
off, a new secret, removing; and the pages refused to those who do not manage the account."""

from __future__ import annotations

from tenantry.services import webhooks
from tenantry.services.context import ServiceContext

from browsing import Browser, Host, audit, text_of
from console_support import console_user, shown_secret
from factories import OPERATOR, make_account, make_member
from webhook_receiver import Receiver, allow_private, receiver, send_all

__all__ = ["allow_private", "receiver"]  # fixtures, used by name


def hooks_url(host: Host, *parts: str) -> str:
    return "/".join((f"/hub/accounts/{host.tenant.id}/webhooks", *parts))


def test_settings_lead_to_an_endpoint_that_hears_a_console_role_change(
    host: Host, browser: Browser, allow_private: ServiceContext, receiver: Receiver
) -> None:
    ctx = allow_private
    admin = console_user(ctx, browser, host.tenant)
    target = make_member(ctx, host.tenant, role="member")
    settings = browser.get("/hub/settings")
    assert 'href="/hub/settings/webhooks"' in settings.text
    overview = browser.get("/hub/settings/webhooks")
    assert overview.status_code == 200
    assert f'href="{hooks_url(host)}"' in overview.text
    assert "0 endpoints" in text_of(overview)

    page = browser.get(hooks_url(host))
    assert "No webhook endpoints yet." in text_of(page)
    added = browser.submit(
        page,
        hooks_url(host),
        url=receiver.url,
        description="roles to our product",
        **{"event:membership.updated": "yes"},
    )
    assert added.status_code == 200, text_of(added)
    assert added.headers["cache-control"] == "no-store"
    secret = shown_secret(added)
    assert secret.startswith("whsec_")
    listing = browser.get(hooks_url(host))
    assert receiver.url in listing.text
    assert "membership.updated" in text_of(listing)
    assert secret not in listing.text
    [endpoint] = webhooks.list_endpoints(ctx, OPERATOR, host.tenant.id)
    (created,) = audit(ctx, "webhook_endpoint.create", target_id=endpoint.id)
    assert (created.face, created.actor_label) == ("console", admin.email)
    assert secret not in repr(created)

    user_page = browser.get(f"/hub/accounts/{host.tenant.id}/users/{target.id}")
    changed = browser.submit(
        user_page, f"/hub/accounts/{host.tenant.id}/users/{target.id}/role", role="manage"
    )
    assert changed.status_code == 303, text_of(changed)
    send_all(ctx)
    [event] = receiver.events(secret)
    assert event["type"] == "membership.updated"
    data = event["data"]
    assert (data["face"], data["actor"]["label"], data["account_id"]) == (
        "console",
        admin.email,
        host.tenant.id,
    )
    assert (data["before"]["role"], data["after"]["role"]) == ("member", "manage")
    assert data["request_id"]

    log = browser.get(hooks_url(host, endpoint.id))
    assert log.status_code == 200
    assert "membership.updated" in text_of(log)
    assert "HTTP 204" in text_of(log)
    [delivery] = webhooks.list_deliveries(ctx, OPERATOR, endpoint.id)
    resend = hooks_url(host, endpoint.id, "deliveries", str(delivery.id), "resend")
    again = browser.submit(log, resend)
    assert again.status_code == 303
    assert "sent again" in text_of(browser.follow(again))
    send_all(ctx)
    assert [a.headers["webhook-id"] for a in receiver.arrivals] == [data["id"]] * 2


def test_switching_off_rotating_and_removing(
    host: Host, browser: Browser, allow_private: ServiceContext, receiver: Receiver
) -> None:
    ctx = allow_private
    console_user(ctx, browser, host.tenant)
    endpoint, secret = webhooks.create_endpoint(ctx, OPERATOR, host.tenant.id, receiver.url)
    page = browser.get(hooks_url(host, endpoint.id))
    off = browser.submit(page, hooks_url(host, endpoint.id, "switch"))
    assert off.status_code == 303
    page = browser.follow(off)
    assert "switched off" in text_of(page)
    assert not webhooks.get_endpoint(ctx, OPERATOR, endpoint.id).enabled

    asked = browser.submit(page, hooks_url(host, endpoint.id, "rotate"))
    assert "Make a new signing secret?" in text_of(asked)
    rotated = browser.submit(asked, hooks_url(host, endpoint.id, "rotate"))
    new_secret = shown_secret(rotated)
    assert new_secret.startswith("whsec_")
    assert new_secret != secret

    page = browser.get(hooks_url(host, endpoint.id))
    asked = browser.submit(page, hooks_url(host, endpoint.id, "remove"))
    assert "Remove this webhook endpoint?" in text_of(asked)
    assert webhooks.list_endpoints(ctx, OPERATOR, host.tenant.id)  # nothing changed yet
    done = browser.submit(asked, hooks_url(host, endpoint.id, "remove"))
    assert done.status_code == 303
    assert done.headers["location"] == hooks_url(host)
    assert webhooks.list_endpoints(ctx, OPERATOR, host.tenant.id) == []


def test_a_refused_url_is_shown_next_to_its_field(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant)
    page = browser.get(hooks_url(host))
    answer = browser.submit(page, hooks_url(host), url="http://127.0.0.1:9/hooks")
    assert answer.status_code == 400
    assert 'id="url-error"' in answer.text
    assert "TENANTRY_WEBHOOKS_ALLOW_PRIVATE" in text_of(answer)
    assert webhooks.list_endpoints(ctx, OPERATOR, host.tenant.id) == []


def test_only_those_who_manage_the_account_get_its_webhooks(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    endpoint, _ = webhooks.create_endpoint(
        ctx, OPERATOR, host.tenant.id, "https://receiver.invalid/hooks"
    )
    other = make_account(ctx, parent=host.account)
    console_user(ctx, browser, other)  # another account's admin
    for url in (hooks_url(host), hooks_url(host, endpoint.id)):
        assert browser.get(url).status_code == 403
    overview = browser.get("/hub/settings/webhooks")
    assert host.tenant.id not in overview.text
    assert other.id in overview.text


def test_a_manage_member_is_refused(host: Host, browser: Browser, ctx: ServiceContext) -> None:
    console_user(ctx, browser, host.tenant, role="manage")
    assert browser.get(hooks_url(host)).status_code == 403
    assert "You manage the webhooks of none" in text_of(browser.get("/hub/settings/webhooks"))
