"""The console in a real browser: tenantry served by uvicorn on 127.0.0.1, driven by Chromium
through Playwright.

One server per test session (under pytest-xdist, one per worker: its own port and its own
SQLite file), migrated and initialised as `tenantry init` does, with no SMTP server, so the
console shows invitation links on the page. Tests use their own e-mail addresses and names, so
they do not depend on each other or on their order.

Chromium is the system's: `TENANTRY_CHROMIUM` names the executable, else `chromium` on the
PATH. Playwright's own browser download is not used. A missing Chromium fails the tests (it
does not skip them), so a machine without it never looks green. The browser may reach
127.0.0.1 only.

Screenshots go to `test-output/screenshots/` at the repository root, or to the folder
`TENANTRY_TEST_SCREENSHOTS` names.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import uvicorn
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Route,
    StorageState,
    ViewportSize,
    expect,
    sync_playwright,
)

from tenantry.app import Composition
from tenantry.domain.accounts import Account
from tenantry.domain.pixels import TrafficReport
from tenantry.services import gateway_pixels, gateway_traffic, invitations, members, setup
from tenantry.services.context import ServiceContext
from tenantry.services.gateway_pixels import PixelSetup
from tenantry.services.members import NewMember
from tenantry.services.passwords import Argon2Hasher
from tenantry.settings import Settings

from browser_support import sign_in
from factories import OPERATOR, make_account

CHROMIUM_ENV = "TENANTRY_CHROMIUM"
SCREENSHOTS_ENV = "TENANTRY_TEST_SCREENSHOTS"
REPOSITORY = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Every host name but the loopback address (and `localhost`, which passkeys need: browsers
    # refuse an IP address as a passkey's site) fails to resolve: nothing leaves the machine.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
]
LAPTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
SEEDED_PASSWORD = "Correct-Horse-42-battery"
WIDTHS = {"laptop": LAPTOP, "phone": PHONE}
ACTION_TIMEOUT_MS = 10_000
EXPECT_TIMEOUT_MS = 5_000

expect.set_options(timeout=EXPECT_TIMEOUT_MS)


@dataclass(frozen=True)
class LiveServer:
    url: str
    host_id: str
    """The host partner account `tenantry init` made; the admin is its admin."""
    tenant_id: str
    """An advertiser under the host."""
    admin_email: str
    admin_password: str
    member_id: str
    """A seeded active member of the host account (for the user page)."""
    viewer_email: str
    """An active member of the host account with the read-only role `view`."""
    viewer_password: str
    ctx: ServiceContext
    """The server's own services, for a test to set up what no page sets up yet."""


def _seed(
    ctx: ServiceContext,
    account: Account,
    email: str,
    role: str,
    first_name: str,
    last_name: str | None,
    *,
    accept: bool = True,
) -> str:
    """A member of `account` invited as the console invites; `accept` takes the invitation
    as the link does. Their user id."""
    added = members.add_member(
        ctx,
        OPERATOR,
        account.id,
        NewMember(email=email, role_key=role, first_name=first_name, last_name=last_name),
    )
    if accept:
        assert added.invitation_token is not None
        invitations.accept_invitation(ctx, added.invitation_token, email, SEEDED_PASSWORD)
    return added.user.id


def _traffic(ctx: ServiceContext, account: Account) -> None:
    """Two pixels of `account` with traffic over the last day, for the usage chart."""
    for pixel_id in ("111", "222"):
        pixel = PixelSetup(pixel_id, "4242", "EAAB-secret", f"ext-{pixel_id}")
        gateway_pixels.setup_pixel(ctx, OPERATOR, account.id, pixel)
    now = ctx.now()
    gateway_traffic.report_traffic(
        ctx,
        OPERATOR,
        account.id,
        [
            TrafficReport("111", now - timedelta(minutes=5), 1234, 1200, 3),
            TrafficReport("222", now - timedelta(hours=3), 500, 500),
            TrafficReport("111", now - timedelta(hours=9), 880, 870, 10),
        ],
    )


def _serve(
    composition: Composition, sock: socket.socket
) -> tuple[uvicorn.Server, threading.Thread]:
    config = uvicorn.Config(
        composition.asgi_app(), log_config=None, access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="tenantry-live", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive():
            pytest.fail("the live server stopped while starting", pytrace=False)
        if time.monotonic() > deadline:
            pytest.fail("the live server did not start in 20 s", pytrace=False)
        time.sleep(0.02)
    return server, thread


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """tenantry on 127.0.0.1 and a free port, on a fresh, migrated SQLite file, with a ready
    admin (as `tenantry init` leaves it), an advertiser under the host and a few members."""
    folder = tmp_path_factory.mktemp("live")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = Settings(
        database_url=f"sqlite:///{folder / 'tenantry.db'}",
        base_url=url,
        secret_key="browser-tests-" + "k" * 32,
        smtp_host=None,
        log_json=False,
        log_level="WARNING",
    )
    composition = Composition(settings)
    composition.upgrade_database()
    ctx = composition.context
    # Argon2 at production cost would make the sign-ins slow; the algorithm is the same.
    ctx.passwords = Argon2Hasher(time_cost=1, memory_cost=1024)
    init = setup.initialize(ctx)
    assert init.admin_password is not None
    with ctx.uow(readonly=True) as uow:
        host = uow.accounts.get(init.account_id)
    tenant = make_account(ctx, parent=host, name="Acme Advertiser")
    member_id = _seed(ctx, host, "casey.morgan@example.com", "manage", "Casey", "Morgan")
    viewer_email = "robin.lee@example.com"
    _seed(ctx, host, viewer_email, "view", "Robin", "Lee")
    _seed(ctx, host, "sam.pending@example.com", "member", "Sam", None, accept=False)
    _seed(ctx, tenant, "alex.acme@example.com", "admin", "Alex", "Acme")
    _traffic(ctx, tenant)
    server, thread = _serve(composition, sock)
    try:
        yield LiveServer(
            url=url,
            host_id=host.id,
            tenant_id=tenant.id,
            admin_email=init.admin_email,
            admin_password=init.admin_password,
            member_id=member_id,
            viewer_email=viewer_email,
            viewer_password=SEEDED_PASSWORD,
            ctx=ctx,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        composition.dispose()


def chromium_path() -> str:
    chosen = os.environ.get(CHROMIUM_ENV)
    if chosen:
        found = shutil.which(chosen)
        if found is None:
            pytest.fail(f"{CHROMIUM_ENV}={chosen} is not an executable", pytrace=False)
        return found
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "Chromium is missing: the browser tests need it. Install it (Debian: "
            "apt-get install chromium) or set "
            f"{CHROMIUM_ENV} to the path of a Chromium executable.",
            pytrace=False,
        )
    return found


@pytest.fixture(scope="session")
def playwright_session() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def chromium(playwright_session: Playwright) -> Iterator[Browser]:
    browser = playwright_session.chromium.launch(
        executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """The folder the screenshots go to."""
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or REPOSITORY / "test-output" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def new_context(
    chromium: Browser, live_server: LiveServer
) -> Iterator[Callable[..., BrowserContext]]:
    """Opens browser contexts (each its own cookies: another person's browser) on the live
    server, laptop-sized; `storage_state=` starts one with the cookies of another. Fails the
    test if a page asked for anything but 127.0.0.1."""
    opened: list[BrowserContext] = []
    elsewhere: list[str] = []

    def guard(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    def open_context(storage_state: StorageState | None = None) -> BrowserContext:
        context = chromium.new_context(
            base_url=live_server.url,
            viewport=LAPTOP,
            service_workers="block",
            storage_state=storage_state,
        )
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.route(re.compile(r".*"), guard)
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        context.close()
    assert not elsewhere, f"pages asked for addresses other than 127.0.0.1: {elsewhere}"


@pytest.fixture
def page(new_context: Callable[..., BrowserContext]) -> Page:
    """A page in a fresh browser, signed in as nobody."""
    return new_context().new_page()


@pytest.fixture(scope="session")
def admin_cookies(chromium: Browser, live_server: LiveServer) -> StorageState:
    """The cookies of the admin's browser, signed in once for the session (no test signs
    this session out)."""
    context = chromium.new_context(base_url=live_server.url)
    try:
        page = context.new_page()
        page.set_default_timeout(ACTION_TIMEOUT_MS)
        sign_in(page, live_server.admin_email, live_server.admin_password)
        return context.storage_state()
    finally:
        context.close()


@pytest.fixture
def admin_page(new_context: Callable[..., BrowserContext], admin_cookies: StorageState) -> Page:
    """A page in the host account's admin's browser, signed in."""
    return new_context(storage_state=admin_cookies).new_page()


# Every visible form control without an accessible label: its <label>s, aria-labelledby or
# aria-label, each with some text.
UNLABELLED_CONTROLS = """
() => {
  const named = (el) => {
    const labels = Array.from(el.labels || []).some((l) => l.textContent.trim() !== "");
    const byIds = (el.getAttribute("aria-labelledby") || "").split(/\\s+/).filter(Boolean)
      .some((id) => (document.getElementById(id)?.textContent || "").trim() !== "");
    const aria = (el.getAttribute("aria-label") || "").trim() !== "";
    return labels || byIds || aria;
  };
  const visible = (el) => el.getClientRects().length > 0
    && getComputedStyle(el).visibility !== "hidden";
  return Array.from(document.querySelectorAll("input, select, textarea"))
    .filter((el) => !["hidden", "submit", "button", "reset", "image"].includes(el.type))
    .filter(visible)
    .filter((el) => !named(el))
    .map((el) => el.outerHTML.slice(0, 200));
}
"""

# The page's widths and, when it is wider than the window, the innermost elements that stick
# out on the right: outside a `.table-scroll` wrapper (which scrolls on its own), or positioned
# absolutely inside one (such an element escapes the wrapper unless it is positioned itself).
HORIZONTAL_OVERFLOW = """
() => {
  const root = document.documentElement;
  const limit = root.clientWidth + 1;
  const out = (el) => el.getBoundingClientRect().right > limit;
  const wide = new Set(Array.from(document.body.querySelectorAll("*"))
    .filter((el) => out(el) && (!el.parentElement?.closest(".table-scroll")
      || ["absolute", "fixed"].includes(getComputedStyle(el).position))));
  const culprits = Array.from(wide)
    .filter((el) => !Array.from(el.children).some((child) => wide.has(child)))
    .slice(0, 5)
    .map((el) => el.outerHTML.slice(0, 160));
  return {scroll: root.scrollWidth, client: root.clientWidth, culprits};
}
"""


# Every visible element with text of its own whose colour, against the first opaque background
# behind it, falls short of WCAG 2 AA: 4.5:1, or 3:1 for large text (24 px, or 18.66 px bold).
# Colours with transparency are blended over what is behind them first.
LOW_CONTRAST = """
() => {
  const rgba = (css) => {
    const found = css.match(/^rgba?\\(([^)]*)\\)$/);
    if (!found) return null;
    const [r, g, b, a = 1] = found[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return {r, g, b, a};
  };
  const over = (top, below) => ({
    r: top.r * top.a + below.r * (1 - top.a),
    g: top.g * top.a + below.g * (1 - top.a),
    b: top.b * top.a + below.b * (1 - top.a),
    a: 1,
  });
  const behind = (el) => {
    const layers = [];
    for (let at = el; at; at = at.parentElement) {
      const colour = rgba(getComputedStyle(at).backgroundColor);
      if (colour && colour.a > 0) layers.push(colour);
      if (colour && colour.a >= 1) break;
    }
    const white = {r: 255, g: 255, b: 255, a: 1};
    return layers.reverse().reduce((below, top) => over(top, below), white);
  };
  const luminance = ({r, g, b}) => {
    const linear = (v) => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  };
  const ratio = (one, two) => {
    const [light, dark] = [luminance(one), luminance(two)].sort((x, y) => y - x);
    return (light + 0.05) / (dark + 0.05);
  };
  const ownText = (el) => Array.from(el.childNodes)
    .some((node) => node.nodeType === Node.TEXT_NODE && node.textContent.trim() !== "");
  const shown = (el) => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return box.width > 1 && box.height > 1 && style.visibility !== "hidden"
      && Number(style.opacity) > 0;
  };
  return Array.from(document.body.querySelectorAll("*"))
    .filter((el) => ownText(el) && shown(el))
    .map((el) => {
      const style = getComputedStyle(el);
      const back = behind(el);
      const text = rgba(style.color);
      if (!text) return {el, problem: `unreadable colour ${style.color}`};
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      const needed = large ? 3 : 4.5;
      const got = ratio(over(text, back), back);
      return got + 0.005 < needed ? {el, problem: `${got.toFixed(2)}:1 < ${needed}:1`} : null;
    })
    .filter(Boolean)
    .slice(0, 5)
    .map(({el, problem}) => `${problem}: ${el.outerHTML.slice(0, 120)}`);
}
"""


@pytest.fixture
def check_page(screenshots: Path) -> Callable[[Page, str], None]:
    """`check_page(page, name)`: screenshots of the page as it is, laptop and phone wide
    (`<name>-laptop.png`, `<name>-phone.png`); every visible form control has a label; all
    text has WCAG AA contrast; at phone width nothing scrolls sideways but what `.table-scroll`
    wraps."""

    def check(page: Page, name: str) -> None:
        unlabelled = page.evaluate(UNLABELLED_CONTROLS)
        assert unlabelled == [], f"{name}: form controls without a label: {unlabelled}"
        faint = page.evaluate(LOW_CONTRAST)
        assert faint == [], f"{name}: text with too little contrast: {faint}"
        for width, size in WIDTHS.items():
            page.set_viewport_size(size)
            page.screenshot(path=screenshots / f"{name}-{width}.png", full_page=True)
            sizes = page.evaluate(HORIZONTAL_OVERFLOW)
            assert sizes["scroll"] <= sizes["client"] + 1, (
                f"{name} scrolls sideways at {size['width']} px: {sizes}"
            )
        page.set_viewport_size(LAPTOP)

    return check
