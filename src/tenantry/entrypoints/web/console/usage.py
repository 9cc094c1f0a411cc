"""Usage: an account's pixels and pipelines, and its events over a window of time as a bar chart
(inline SVG drawn on the server) with the same numbers in a table.

The totals are what reading the account allows; the series over time needs read access to
pixels, so a viewer without it gets the totals and a word about the chart instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tenantry.domain.errors import Forbidden
from tenantry.entrypoints.web.console.base import Console, ConsolePages, Viewer, account_url
from tenantry.entrypoints.web.console.chart import BarChart, bar_chart
from tenantry.services import gateway, gateway_traffic
from tenantry.services.gateway_traffic import EventMetrics

SECTION = "usage"
DEFAULT_WINDOW = 1440


@dataclass(frozen=True, slots=True)
class Window:
    minutes: int
    label: str
    axis_format: str  # a step's start, short, under the chart
    row_format: str  # a step's start, in full, in the table

    @property
    def hours(self) -> int:
        return self.minutes // 60


WINDOWS = {
    w.minutes: w
    for w in (
        Window(60, "Last hour", "%H:%M", "%H:%M"),
        Window(1440, "Last 24 hours", "%H:%M", "%d %b %H:%M"),
        Window(10080, "Last 7 days", "%a %H:%M", "%a %d %b %H:%M"),
    )
}


def chosen_window(value: str | None) -> Window:
    """The window asked for; the default for anything that is not one of the choices."""
    if value is not None and value.strip().isdigit():
        return WINDOWS.get(int(value), WINDOWS[DEFAULT_WINDOW])
    return WINDOWS[DEFAULT_WINDOW]


def step_text(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return "hour" if hours == 1 else f"{hours} hours"
    return "minute" if minutes == 1 else f"{minutes} minutes"


def chart_of(metrics: EventMetrics, window: Window) -> BarChart:
    return bar_chart(
        [
            (f"From {b.start.strftime(window.row_format)} UTC", b.events_received)
            for b in metrics.activity
        ],
        axis_labels=[b.start.strftime(window.axis_format) for b in metrics.activity],
    )


def add_usage_pages(router: APIRouter, console: Console) -> None:
    pages = UsagePages(console)
    router.get("/hub/accounts/{account_id}/usage")(console.page(pages.usage_page))


class UsagePages(ConsolePages):
    section = SECTION

    async def usage_page(self, request: Request, viewer: Viewer) -> Response:
        here = await self.account(request, viewer)
        window = chosen_window(request.query_params.get("window"))
        usage = await self.console.call(
            gateway.tenant_usage, self.ctx, viewer.actor, here.account.id, hours=window.hours
        )
        try:
            metrics: EventMetrics | None = await self.console.call(
                gateway_traffic.event_metrics,
                self.ctx,
                viewer.actor,
                here.account.id,
                window_min=window.minutes,
            )
        except Forbidden:
            metrics = None  # the series needs read access to pixels; the totals do not
        chart = chart_of(metrics, window) if metrics and metrics.totals.events_received else None
        return self.console.render(
            request,
            viewer,
            "console/usage.html",
            account=here,
            section=self.section,
            usage=usage,
            metrics=metrics,
            chart=chart,
            window=window,
            windows=list(WINDOWS.values()),
            step=step_text(metrics.step_min) if metrics else "",
            base_url=account_url(here.account.id, "usage"),
        )
