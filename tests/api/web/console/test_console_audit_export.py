"""The audit log's "Export": every event the filters keep, oldest first, as a download."""

from __future__ import annotations

import csv
import html
import io
import json
import re

from tenantry.services import accounts
from tenantry.services.context import Actor, ServiceContext

from browsing import Browser, Host, text_of
from console_support import console_user

CLI = Actor.system(face="cli", label="=ops script")


def audit_url(host: Host) -> str:
    return f"/hub/accounts/{host.tenant.id}/audit"


def export_link(page_html: str, label: str) -> str:
    found = re.search(rf'<a href="([^"]+)" download>{label}</a>', page_html)
    assert found, page_html
    return html.unescape(found.group(1))


def test_the_page_links_exports_of_what_its_filters_keep(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant)
    accounts.add_app(ctx, CLI, host.tenant.id, "com.example.one")
    accounts.add_app(ctx, CLI, host.tenant.id, "com.example.two")
    page = browser.get(audit_url(host), params={"face": "cli"})
    assert "Export the events these filters keep" in text_of(page)
    url = export_link(page.text, "CSV")
    assert url == f"{audit_url(host)}/export?face=cli&format=csv"
    answer = browser.get(url)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="audit-{host.tenant.id}.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [r["target_id"] for r in rows] == ["com.example.one", "com.example.two"]
    assert {r["actor_label"] for r in rows} == {"'=ops script"}  # no formula for spreadsheets

    lines = browser.get(export_link(page.text, "JSON Lines")).text.splitlines()
    assert [json.loads(line)["target_id"] for line in lines] == [
        "com.example.one",
        "com.example.two",
    ]


def test_everything_without_filters(host: Host, browser: Browser, ctx: ServiceContext) -> None:
    console_user(ctx, browser, host.tenant)
    page = browser.get(audit_url(host))
    assert "Export every event" in text_of(page)
    rows = list(csv.DictReader(io.StringIO(browser.get(export_link(page.text, "CSV")).text)))
    assert rows
    assert {r["account_id"] for r in rows} == {host.tenant.id}


def test_bad_dates_get_the_page_and_no_file(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant)
    answer = browser.get(f"{audit_url(host)}/export", params={"since": "yesterday"})
    assert answer.status_code == 400
    assert "Enter a date as YYYY-MM-DD" in text_of(answer)
    assert "content-disposition" not in answer.headers


def test_only_readers_of_the_audit_log_export_it(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant, role="view")
    refused = browser.get(f"{audit_url(host)}/export")
    assert refused.status_code == 403
    assert "content-disposition" not in refused.headers
