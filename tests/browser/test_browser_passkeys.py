"""Passkeys in real Chromium, with its virtual authenticator (CDP `WebAuthn`, a CTAP2 platform
authenticator that verifies the user): add a passkey on the account page, sign out, sign in
with the password and answer the second-factor step with the passkey, then remove it.

Browsers refuse an IP address as a passkey's site, so this test serves tenantry at
`http://localhost:PORT` (a secure context, like https) on a server of its own, with its own
SQLite file; the relying party is then `localhost`.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, Route, expect

from tenantry.app import Composition
from tenantry.services import setup
from tenantry.services.passwords import Argon2Hasher
from tenantry.settings import Settings

LOOPBACK = {"localhost", "127.0.0.1"}


@dataclass(frozen=True)
class LocalhostServer:
    url: str
    admin_email: str
    admin_password: str


@pytest.fixture(scope="module")
def localhost_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalhostServer]:
    folder = tmp_path_factory.mktemp("passkeys")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    url = f"http://localhost:{sock.getsockname()[1]}"
    settings = Settings(
        database_url=f"sqlite:///{folder / 'tenantry.db'}",
        base_url=url,
        secret_key="passkey-tests-" + "k" * 32,
        smtp_host=None,
        log_json=False,
        log_level="WARNING",
    )
    composition = Composition(settings)
    composition.upgrade_database()
    composition.context.passwords = Argon2Hasher(time_cost=1, memory_cost=1024)
    init = setup.initialize(composition.context)
    assert init.admin_password is not None
    config = uvicorn.Config(
        composition.asgi_app(), log_config=None, access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "the server stopped while starting"
        assert time.monotonic() < deadline, "the server did not start in 20 s"
        time.sleep(0.02)
    try:
        yield LocalhostServer(url, init.admin_email, init.admin_password)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        composition.dispose()


@pytest.fixture
def page(chromium: Browser, localhost_server: LocalhostServer) -> Iterator[Page]:
    """A page on the localhost server that may ask for nothing beyond this machine."""
    context = chromium.new_context(base_url=localhost_server.url)
    context.set_default_timeout(10_000)
    elsewhere: list[str] = []

    def guard(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route(re.compile(r".*"), guard)
    try:
        yield context.new_page()
    finally:
        context.close()
    assert not elsewhere, f"pages asked for other addresses: {elsewhere}"


def _password_step(page: Page, email: str, password: str) -> None:
    """The sign-in page, up to the password (the e-mail may be asked on a step of its own)."""
    page.goto("/auth/login")
    page.get_by_label("E-mail address").fill(email)
    password_field = page.get_by_label("Password", exact=True)
    if not password_field.is_visible():
        page.get_by_role("button").filter(has_text=re.compile("Continue|Next")).first.click()
    password_field.fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_passkey_added_on_the_account_page_answers_the_second_factor(
    page: Page, localhost_server: LocalhostServer, check_page: Callable[[Page, str], None]
) -> None:
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    authenticator = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )["authenticatorId"]
    server = localhost_server

    _password_step(page, server.admin_email, server.admin_password)
    expect(page).to_have_url(f"{server.url}/hub/")
    page.goto("/auth/account")
    expect(page.get_by_text("None yet.")).to_be_visible()
    page.get_by_role("link", name="Add a passkey").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a passkey")
    # Without a name, the page says so before it asks the authenticator anything.
    page.get_by_role("button", name="Create the passkey").click()
    expect(page.get_by_role("alert")).to_have_text("Give the passkey a name first.")
    check_page(page, "passkey-new")
    page.get_by_label("Name of the passkey").fill("Work laptop")
    page.get_by_role("button", name="Create the passkey").click()
    expect(page).to_have_url(f"{server.url}/auth/account")
    expect(page.get_by_text("Passkey “Work laptop” added.")).to_be_visible()
    listed = page.locator(".passkeys__item")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text("Work laptop")
    expect(listed).to_contain_text("not used yet")
    check_page(page, "passkeys-account")
    [credential] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})[
        "credentials"
    ]
    assert credential["rpId"] == "localhost"

    page.get_by_role("button", name="Sign out").first.click()
    expect(page).to_have_url(re.compile(r"/auth/login"))
    _password_step(page, server.admin_email, server.admin_password)
    expect(page).to_have_url(re.compile(r"/auth/2fa\?next="))
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it's you")
    check_page(page, "passkey-second-factor")
    page.get_by_role("button", name="Use a passkey").click()
    expect(page).to_have_url(f"{server.url}/hub/")

    page.goto("/auth/account")
    expect(page.locator(".passkeys__item")).to_contain_text("last used")
    [used] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert used["signCount"] > credential["signCount"]

    # Removing asks first; Cancel keeps it, confirming removes it.
    page.get_by_role("button", name="Remove the passkey Work laptop").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Remove the passkey “Work laptop”?")
    check_page(page, "passkey-remove")
    page.get_by_role("link", name="Cancel").click()
    expect(page.locator(".passkeys__item")).to_have_count(1)
    page.get_by_role("button", name="Remove the passkey Work laptop").click()
    page.get_by_role("button", name="Remove the passkey").click()
    expect(page.get_by_text("Passkey “Work laptop” removed.")).to_be_visible()
    expect(page.get_by_text("None yet.")).to_be_visible()
    assert not refused, refused
