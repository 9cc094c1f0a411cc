"""Steps the browser tests share."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/auth/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/hub/$"))
