"""Roles: what each role allows and who holds it; custom roles created and deleted."""

from __future__ import annotations

import re

import httpx
import pytest

from tenantry.domain.accounts import Account
from tenantry.domain.roles import AccessLevel
from tenantry.services import members, roles
from tenantry.services.context import ServiceContext
from tenantry.services.members import NewMember

from browsing import Browser, Host, audit, forms_of, text_of
from console_support import console_user, csrf_of
from factories import OPERATOR, make_member, unique_email

KEY_TAKEN = "A role with this key exists already."


def roles_url(account: Account, *parts: str) -> str:
    return "/".join((f"/hub/accounts/{account.id}/roles", *parts))


def create_role(
    browser: Browser, page: httpx.Response, account: Account, fields: dict[str, str]
) -> httpx.Response:
    """Fill in the page's "Create a role" form (capability selects are named `cap:...`)."""
    form = browser.form(page, roles_url(account))
    return browser.post(form.action, data={**form.fields, **fields})


def custom_keys(ctx: ServiceContext, account: Account) -> set[str]:
    held = roles.list_roles(ctx, OPERATOR, account.id)
    return {r.role.key for r in held if r.role.is_custom}


def test_every_role_shows_its_capabilities_and_users(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    me = console_user(ctx, browser, host.tenant)
    viewer = make_member(ctx, host.tenant, role="view")
    page = browser.get(roles_url(host.tenant))
    assert page.status_code == 200
    text = text_of(page)
    admin = text[text.index("Admin predefined") : text.index("Team manager predefined")]
    assert "must be unrestricted" in admin
    assert me.email in admin
    assert "User management Users all" in admin
    view = text[text.index("View only predefined") :]
    assert viewer.email in view
    assert "may be limited" in view.split("predefined")[1]
    assert 'aria-current="page">Roles<' in page.text


def test_a_role_held_by_many_lists_the_first_and_links_to_them_all(
    host: Host, browser: Browser, ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(roles, "HOLDERS_LISTED", 1)
    console_user(ctx, browser, host.tenant)
    # Made in the same second, holders are listed by address.
    now = ctx.now()
    monkeypatch.setattr(ctx, "clock", lambda: now)
    second = make_member(ctx, host.tenant, role="view", email=unique_email("holder-b"))
    first = make_member(ctx, host.tenant, role="view", email=unique_email("holder-a"))
    text = text_of(browser.get(roles_url(host.tenant)))
    view = text[text.index("View only predefined") :]
    assert "Users with the role View only (2)" in view
    assert first.email in view
    assert second.email not in view
    page = browser.get(roles_url(host.tenant))
    assert f"/hub/accounts/{host.tenant.id}/users?role=view" in page.text


def test_a_custom_role_is_created_and_can_be_given(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant)
    page = browser.get(roles_url(host.tenant))
    assert "Create role" in page.text
    answer = create_role(
        browser,
        page,
        host.tenant,
        {
            "key": "analyst",
            "display_name": "Analyst",
            "cap:data:reports": "all",
            "cap:user_management:users": "read",
        },
    )
    assert answer.status_code == 303, text_of(answer)
    shown = browser.follow(answer)
    assert "The role Analyst was created." in text_of(shown)
    assert "Analyst custom" in text_of(shown)

    created = next(
        r.role for r in roles.list_roles(ctx, OPERATOR, host.tenant.id) if r.role.is_custom
    )
    assert created.key == "analyst"
    assert created.level("data", "reports") is AccessLevel.ALL
    assert created.level("user_management", "users") is AccessLevel.READ
    assert created.level("account", "settings") is AccessLevel.BLOCKED
    assert [e.target_id for e in audit(ctx, "role.create")] == ["analyst"]

    given = members.add_member(
        ctx, OPERATOR, host.tenant.id, NewMember(email="ana@example.com", role_key="analyst")
    )
    assert given.role.key == "analyst"
    again = text_of(browser.get(roles_url(host.tenant)))
    assert "ana@example.com" in again[again.index("Analyst custom") :]


def test_a_taken_key_is_refused_next_to_the_field_and_the_form_kept(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant)
    page = browser.get(roles_url(host.tenant))
    for key, message in (
        ("admin", KEY_TAKEN),
        ("Not A Key", "A role key is 2 to 40 lower-case letters, digits or underscores"),
    ):
        answer = create_role(
            browser,
            page,
            host.tenant,
            {"key": key, "display_name": "Helper", "cap:data:pixels": "read"},
        )
        assert answer.status_code in (400, 409)
        assert re.search(rf'id="key-error">{message}', answer.text), text_of(answer)
        assert f'value="{key}"' in answer.text
        assert 'value="Helper"' in answer.text
        pixels = re.search(r'<select id="cap-data-pixels".*?</select>', answer.text, re.S)
        assert pixels is not None
        assert '<option value="read" selected>' in pixels.group(0)
    assert custom_keys(ctx, host.tenant) == set()


def test_deleting_a_custom_role_asks_first_and_refuses_while_held(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    for key in ("helper", "keeper"):
        roles.create_custom_role(
            ctx,
            OPERATOR,
            host.tenant.id,
            key=key,
            display_name=key.title(),
            capabilities={"data": {"reports": "read"}},
        )
    make_member(ctx, host.tenant, role="keeper")
    console_user(ctx, browser, host.tenant)
    page = browser.get(roles_url(host.tenant))
    asked = browser.submit(page, roles_url(host.tenant, "helper", "delete"))
    assert asked.status_code == 200
    assert "Delete role" in text_of(asked)
    assert custom_keys(ctx, host.tenant) == {"helper", "keeper"}

    deleted = browser.submit(asked, roles_url(host.tenant, "helper", "delete"))
    assert deleted.status_code == 303
    assert "The role helper was deleted." in text_of(browser.follow(deleted))
    assert custom_keys(ctx, host.tenant) == {"keeper"}
    assert [e.target_id for e in audit(ctx, "role.delete")] == ["helper"]

    asked = browser.submit(page, roles_url(host.tenant, "keeper", "delete"))
    refused = browser.submit(asked, roles_url(host.tenant, "keeper", "delete"))
    assert refused.status_code == 409
    assert "Users still hold this role." in text_of(refused)
    assert custom_keys(ctx, host.tenant) == {"keeper"}


def test_a_viewer_sees_no_role_forms_and_may_not_post(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    roles.create_custom_role(
        ctx, OPERATOR, host.tenant.id, key="helper", display_name="Helper", capabilities={}
    )
    console_user(ctx, browser, host.tenant, role="view")
    page = browser.get(roles_url(host.tenant))
    assert page.status_code == 200
    assert [f.action for f in forms_of(page) if f.method == "post"] == ["/auth/logout"]
    token = csrf_of(browser)
    created = browser.post(
        roles_url(host.tenant), data={"csrf_token": token, "key": "sneaky", "display_name": "S"}
    )
    assert created.status_code == 403
    deleted = browser.post(
        roles_url(host.tenant, "helper", "delete"), data={"csrf_token": token, "confirmed": "yes"}
    )
    assert deleted.status_code == 403
    assert custom_keys(ctx, host.tenant) == {"helper"}


def test_role_forms_need_their_csrf_token(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant)
    answer = browser.post(roles_url(host.tenant), data={"key": "forged", "display_name": "F"})
    assert answer.status_code == 403
    assert custom_keys(ctx, host.tenant) == set()
