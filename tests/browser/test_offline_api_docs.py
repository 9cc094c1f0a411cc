"""The API documentation pages render from tenantry alone: every request to another host is
aborted (and fails the test, see `new_context`), none is refused by the pages' Content
Security Policy, and no script fails."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import ConsoleMessage, Error, Page, expect

if TYPE_CHECKING:
    from conftest import LiveServer

GRAPHIQL = ["/hub/graphql/", "/capig/graphql/"]
SWAGGER = {
    "/api/user-management/v1.0/docs": "tenantry user management API",
    "/api/network-integration/docs": "tenantry network integration API",
}


@pytest.fixture
def problems(page: Page) -> list[str]:
    """What went wrong in the page: uncaught script errors and what its policy refused."""
    found: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            found.append(message.text)

    def error(failure: Error) -> None:
        found.append(f"{failure.name}: {failure.message}")

    page.on("console", console)
    page.on("pageerror", error)
    return found


def screenshot(page: Page, screenshots: Path, name: str) -> None:
    page.screenshot(path=screenshots / f"api-docs-{name}-laptop.png")


@pytest.mark.parametrize("path", GRAPHIQL)
def test_the_graphql_explorers_render_offline(
    page: Page, problems: list[str], screenshots: Path, path: str
) -> None:
    page.goto(path)
    expect(page.locator(".graphiql-container")).to_be_visible()
    expect(page.locator(".graphiql-query-editor .CodeMirror")).to_be_visible()
    # The headers tab is there, with the Authorization header to fill in.
    page.get_by_text("Headers", exact=True).click()
    expect(page.locator(".graphiql-editor-tool")).to_contain_text("Authorization")
    screenshot(page, screenshots, path.strip("/").replace("/", "-"))
    assert problems == []


@pytest.mark.parametrize("path", list(SWAGGER))
def test_the_openapi_pages_render_offline(
    page: Page, problems: list[str], screenshots: Path, path: str
) -> None:
    page.goto(path)
    expect(page.locator(".swagger-ui .info .title")).to_contain_text(SWAGGER[path])
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() >= 3
    operations.first.locator(".opblock-summary").click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    screenshot(page, screenshots, path.strip("/").replace("/", "-"))
    assert problems == []


def test_the_pages_name_only_this_server(page: Page, live_server: LiveServer) -> None:
    for path in [*GRAPHIQL, *SWAGGER]:
        html = page.request.get(live_server.url + path).text()
        addresses = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert addresses, path
        assert all(a.startswith("/") and not a.startswith("//") for a in addresses), addresses
