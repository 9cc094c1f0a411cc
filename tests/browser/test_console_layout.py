"""Every main page of the console in Chromium: it loads, its form controls have labels, it
fits a phone's width, and a screenshot of it at laptop and at phone width is kept. The skip
link is the first thing the keyboard reaches and takes focus to the content."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

if TYPE_CHECKING:
    from conftest import LiveServer

# (screenshot name, path; {host}, {tenant} and {member} stand for ids)
MAIN_PAGES = [
    ("accounts", "/hub/"),
    ("account-overview", "/hub/accounts/{host}"),
    ("users", "/hub/accounts/{host}/users"),
    ("user", "/hub/accounts/{host}/users/{member}"),
    ("user-access", "/hub/accounts/{host}/users/{member}/access"),
    ("invitations", "/hub/accounts/{host}/invitations"),
    ("bulk", "/hub/accounts/{host}/users/bulk"),
    ("roles", "/hub/accounts/{host}/roles"),
    ("apps", "/hub/accounts/{host}/apps"),
    ("api-access", "/hub/accounts/{host}/api-access"),
    ("usage", "/hub/accounts/{host}/usage"),
    ("usage-chart", "/hub/accounts/{tenant}/usage"),
    ("audit", "/hub/accounts/{host}/audit"),
    ("settings", "/hub/settings"),
    ("webhooks-overview", "/hub/settings/webhooks"),
    ("webhooks", "/hub/accounts/{host}/webhooks"),
    ("account-settings", "/hub/accounts/{host}/settings"),
]


def url_of(path: str, live: LiveServer) -> str:
    return path.format(host=live.host_id, tenant=live.tenant_id, member=live.member_id)


@pytest.mark.parametrize(("name", "path"), MAIN_PAGES, ids=[name for name, _ in MAIN_PAGES])
def test_a_main_page_loads_fits_a_phone_and_labels_its_fields(
    admin_page: Page,
    live_server: LiveServer,
    check_page: Callable[[Page, str], None],
    name: str,
    path: str,
) -> None:
    response = admin_page.goto(url_of(path, live_server))
    assert response is not None
    assert response.status == 200, f"{path} answered {response.status}"
    expect(admin_page.locator("h1")).to_have_count(1)
    expect(admin_page.locator("h1")).to_be_visible()
    check_page(admin_page, name)


def test_the_sign_in_page_fits_a_phone_and_labels_its_fields(
    page: Page, check_page: Callable[[Page, str], None]
) -> None:
    page.goto("/auth/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    check_page(page, "sign-in")


@pytest.mark.parametrize("path", ["/hub/", "/hub/accounts/{host}", "/hub/accounts/{host}/users"])
def test_the_skip_link_is_the_first_tab_stop_and_moves_focus_to_the_content(
    admin_page: Page, live_server: LiveServer, path: str
) -> None:
    admin_page.goto(url_of(path, live_server))
    admin_page.keyboard.press("Tab")
    skip = admin_page.get_by_role("link", name="Skip to the content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()  # shown once focused, though hidden until then
    admin_page.keyboard.press("Enter")
    expect(admin_page).to_have_url(re.compile(r"#main$"))
    expect(admin_page.locator("main#main")).to_be_focused()


def test_the_usage_chart_is_an_image_with_a_name_and_its_numbers_are_in_a_table(
    admin_page: Page, live_server: LiveServer
) -> None:
    admin_page.goto(url_of("/hub/accounts/{tenant}/usage", live_server))
    chart = admin_page.locator("svg[role=img]")
    expect(chart).to_have_count(1)
    named_by = (chart.get_attribute("aria-labelledby") or "").split()
    assert named_by, "the chart has no aria-labelledby"
    for element_id in named_by:
        expect(admin_page.locator(f"[id='{element_id}']")).not_to_have_text("")
    expect(chart.locator("rect").first).to_be_attached()
    table = admin_page.locator("table").filter(has_text="1,234")
    if not table.is_visible():  # the numbers may sit in a <details> one click away
        admin_page.locator("summary").filter(has_text="table").click()
    expect(table).to_be_visible()
