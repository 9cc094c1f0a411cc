"""Signing people into the console, for the console's tests."""

from __future__ import annotations

from dataclasses import dataclass

from tenantry.domain.accounts import Account
from tenantry.services.context import ServiceContext

from browsing import Browser, person, sign_in


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
