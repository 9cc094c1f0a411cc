"""Usage in the console: an account's pixels and traffic totals, and its events over time as an
SVG bar chart drawn on the server, with the same numbers in a table."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from tenantry.domain.pixels import TrafficReport
from tenantry.entrypoints.web.console.chart import bar_chart, nice_ceiling
from tenantry.services import gateway_pixels, gateway_traffic
from tenantry.services.context import ServiceContext
from tenantry.services.gateway_pixels import PixelSetup

from browsing import Browser, Clock, Host, text_of
from console_support import console_user
from factories import OPERATOR


def usage_url(host: Host) -> str:
    return f"/hub/accounts/{host.tenant.id}/usage"


def with_traffic(host: Host, clock: Clock) -> None:
    """Two pixels; 1,234 events five minutes ago and 500 three hours ago."""
    for pixel_id in ("111", "222"):
        setup = PixelSetup(pixel_id, "4242", "EAAB-secret", f"ext-{pixel_id}")
        gateway_pixels.setup_pixel(host.ctx, OPERATOR, host.tenant.id, setup)
    gateway_traffic.report_traffic(
        host.ctx,
        OPERATOR,
        host.tenant.id,
        [
            TrafficReport("111", clock.now - timedelta(minutes=5), 1234, 1200, 3),
            TrafficReport("222", clock.now - timedelta(hours=3), 500, 500),
        ],
    )


def bars(page: httpx.Response) -> list[float]:
    svg = re.search(
        r'<svg role="img" aria-labelledby="chart-title chart-desc".*?</svg>', page.text, re.S
    )
    assert svg, text_of(page)[:500]
    assert "style=" not in svg.group(0)  # the page's CSP forbids inline styles
    return [float(h) for h in re.findall(r'<rect [^>]*\bheight="([\d.]+)"', svg.group(0))]


def table_rows(page: httpx.Response) -> list[list[str]]:
    body = re.search(r"<tbody>(.*?)</tbody>", page.text, re.S)
    assert body
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    ]


def test_the_last_hour_shows_the_totals_a_chart_and_a_table(
    host: Host, browser: Browser, ctx: ServiceContext, clock: Clock
) -> None:
    with_traffic(host, clock)
    console_user(ctx, browser, host.tenant, role="view")
    page = browser.get(usage_url(host), params={"window": "60"})
    assert page.status_code == 200
    text = text_of(page)
    assert "Pixels 2" in text
    assert "Active pipelines 2" in text
    assert "Events received 1,234" in text  # the report of three hours ago is outside
    assert "Events published 1,200" in text
    assert "Publish errors 3" in text
    assert 'href="' + usage_url(host) + '?window=60" aria-current="page"' in page.text

    heights = bars(page)
    assert len(heights) == 60  # one a minute
    assert max(heights) > 0
    assert sorted(heights)[-2] == 0  # one minute had events
    assert "Events received per minute, last hour" in text

    rows = table_rows(page)
    assert len(rows) == 60
    assert [row[1:] for row in rows if row[1] != "0"] == [["1,234", "1,200", "3"]]


def test_the_default_window_is_a_day_and_a_bad_one_falls_back_to_it(
    host: Host, browser: Browser, ctx: ServiceContext, clock: Clock
) -> None:
    with_traffic(host, clock)
    console_user(ctx, browser, host.tenant)
    for params in ({}, {"window": "5"}, {"window": "lots"}, {"window": "-1"}, {"window": "9" * 40}):
        page = browser.get(usage_url(host), params=params)
        assert page.status_code == 200, params
        text = text_of(page)
        assert "Traffic, last 24 hours" in text
        assert "Events received 1,734" in text
        assert "Events received per 24 minutes" in text
        assert len(bars(page)) == 60
        assert sum(1 for height in bars(page) if height > 0) == 2

    week = browser.get(usage_url(host), params={"window": "10080"})
    assert "Events received per 168 minutes, last 7 days" in text_of(week)


def test_without_read_access_to_pixels_the_totals_show_but_no_chart(
    host: Host, browser: Browser, ctx: ServiceContext, clock: Clock
) -> None:
    with_traffic(host, clock)
    console_user(ctx, browser, host.tenant, role="accounting")
    page = browser.get(usage_url(host))
    assert page.status_code == 200
    text = text_of(page)
    assert "Events received 1,734" in text
    assert "needs read access to pixels" in text
    assert "<svg" not in page.text


def test_an_account_without_traffic(host: Host, browser: Browser, ctx: ServiceContext) -> None:
    console_user(ctx, browser, host.tenant)
    page = browser.get(usage_url(host))
    assert page.status_code == 200
    text = text_of(page)
    assert "Pixels 0" in text
    assert "No events in this window." in text
    assert "<svg" not in page.text


def test_someone_outside_the_account_gets_no_usage(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant)
    assert browser.get(f"/hub/accounts/{host.account.id}/usage").status_code == 403


@pytest.mark.parametrize(
    ("value", "ceiling"), [(0, 1), (1, 1), (3, 5), (7, 10), (10, 10), (11, 20), (1234, 2000)]
)
def test_the_value_axis_ends_at_a_round_number(value: int, ceiling: int) -> None:
    assert nice_ceiling(value) == ceiling


def test_bars_are_scaled_to_the_axis_and_small_counts_still_show() -> None:
    chart = bar_chart([("a", 0), ("b", 1), ("c", 1000)])
    assert chart.scale_max == 1000
    zero, small, full = chart.bars
    assert zero.height == 0
    assert small.height == 1  # a pixel high, not invisible
    assert full.y == chart.top
    assert full.y + full.height == chart.bottom
    assert [t.text for t in chart.value_ticks] == ["0", "500", "1,000"]
