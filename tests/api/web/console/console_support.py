"""Signing people into the console, and reading what its pages show once, for the console's
tests."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import httpx

from tenantry.domain.accounts import Account
from tenantry.services.context import ServiceContext

from browsing import Browser, person, sign_in, text_of


@dataclass
class SignedInPerson:
    email: str
    browser: Browser


def console_user(
    ctx: ServiceContext, browser: Browser, account: Account, *, role: str = "admin"
) -> SignedInPerson:
    """A member of `account` with `role`, signed in to the console in `browser`."""
    email = person(ctx, account, role=role)
    answer = sign_in(browser, email)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/hub/"
    return SignedInPerson(email, browser)


def csrf_of(browser: Browser) -> str:
    """The session's CSRF token, as every console form carries it."""
    page = browser.get("/hub/settings")
    return browser.form(page, "/auth/logout").fields["csrf_token"]


def shown_secret(page: httpx.Response) -> str:
    """The secret on the page that shows a new API account's or token's secret, once."""
    found = re.search(r'<input id="new-secret"[^>]*\bvalue="([^"]+)"', page.text)
    assert found, text_of(page)[:500]
    return html.unescape(found.group(1))
