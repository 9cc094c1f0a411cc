"""Traffic: what gateways report per pixel and minute, and the event metrics read from it.

Gateways report counts per pixel and one-minute window; reports add to the stored buckets in
one upsert, so reports of the same minute from several gateway hosts all count. Reporting
takes `data.pixels` all in the account (an API account of the account, or of a partner that
manages it); reading metrics takes `data.pixels` read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tenantry.domain.errors import ErrorCode, InvalidInput
from tenantry.domain.pixels import (
    TrafficBucket,
    TrafficCount,
    TrafficReport,
    TrafficTotals,
    time_window,
    validate_report,
)
from tenantry.services.context import Actor, ServiceContext, record
from tenantry.services.gateway import (
    DEFAULT_WINDOW_MIN,
    MANAGE_PIXELS,
    READ_PIXELS,
    checked_pixel_ids,
    checked_window,
    pick_pixels,
)
from tenantry.services.policy import require

MAX_REPORTS = 1000
# An activity series has at most this many points, each one step of whole minutes.
MAX_ACTIVITY_POINTS = 60


@dataclass(slots=True)
class PixelMetrics:
    pixel_id: str
    totals: TrafficTotals


@dataclass(slots=True)
class DomainActivity:
    domain: str
    events_received: int
    last_event_at: datetime | None


@dataclass(slots=True)
class EventMetrics:
    """Traffic of the selected pixels over the window.

    `activity` is a series of `step_min`-minute steps covering the window, empty steps
    included. All of an account's events arrive through its ingress domain, so
    `domain_activity` has one entry for it (none when the account has no ingress domain).
    """

    window_min: int
    step_min: int
    pixel_ids: list[str]
    activity: list[TrafficBucket]
    totals: TrafficTotals
    by_pixel: list[PixelMetrics]
    domain_activity: list[DomainActivity]


def report_traffic(
    ctx: ServiceContext, actor: Actor, account_id: str, reports: Sequence[TrafficReport]
) -> int:
    """Add a gateway's reports to the account's traffic, all or none; returns how many were
    taken. Every report's pixel must belong to the account."""
    if len(reports) > MAX_REPORTS:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            f"Send at most {MAX_REPORTS} reports at once.",
            field="reports",
        )
    now = ctx.now()
    checked = [validate_report(r, now, f"reports[{i}]") for i, r in enumerate(reports)]
    with ctx.uow() as uow:
        account, _ = require(ctx, uow, actor, account_id, MANAGE_PIXELS)
        if not checked:
            return 0
        pixels = {p.pixel_id: p for p in uow.gateway.pixels([account.id]).get(account.id, [])}
        merged: dict[tuple[str, datetime], TrafficCount] = {}
        for index, report in enumerate(checked):
            pixel = pixels.get(report.pixel_id)
            if pixel is None:
                raise InvalidInput(
                    ErrorCode.INVALID_INPUT,
                    f"This account has no pixel {report.pixel_id}.",
                    field=f"reports[{index}].pixelId",
                )
            key = (pixel.id, report.window_start)
            earlier = merged.get(key)
            merged[key] = TrafficCount(
                pixel_ref=pixel.id,
                account_id=account.id,
                bucket_start=report.window_start,
                events_received=report.events_received
                + (earlier.events_received if earlier else 0),
                events_published=report.events_published
                + (earlier.events_published if earlier else 0),
                publish_errors=report.publish_errors + (earlier.publish_errors if earlier else 0),
                error_code=report.error_code or (earlier.error_code if earlier else None),
            )
        uow.gateway.add_traffic(list(merged.values()), now)
        record(
            ctx,
            uow,
            actor,
            "traffic.report",
            target_type="account",
            target_id=account.id,
            account_id=account.id,
            after={
                "reports": len(checked),
                "buckets": len(merged),
                "events_received": sum(r.events_received for r in checked),
                "events_published": sum(r.events_published for r in checked),
                "publish_errors": sum(r.publish_errors for r in checked),
            },
        )
    return len(checked)


def event_metrics(
    ctx: ServiceContext,
    actor: Actor,
    account_id: str,
    *,
    pixel_ids: Sequence[str] | None = None,
    window_min: int = DEFAULT_WINDOW_MIN,
) -> EventMetrics:
    """Activity, incoming and outgoing counts and domain activity of the listed pixels (None:
    all of the account's) over the last `window_min` minutes; NotFound names unknown pixels."""
    window_min = checked_window(window_min)
    wanted = checked_pixel_ids(pixel_ids)
    with ctx.uow(readonly=True) as uow:
        account, _ = require(ctx, uow, actor, account_id, READ_PIXELS)
        pixels = uow.gateway.pixels([account.id]).get(account.id, [])
        chosen = pick_pixels({p.pixel_id: p for p in pixels}, wanted)
        since, until = time_window(ctx.now(), window_min)
        per_pixel = uow.gateway.traffic_by_pixel(account.id, since, until) if chosen else {}
        refs = None if wanted is None else [p.id for p in chosen]
        minutes = uow.gateway.traffic_by_minute(account.id, refs, since, until) if chosen else []
        ingress = uow.gateway.find_ingress_domain(account.id)
    by_pixel = [PixelMetrics(p.pixel_id, per_pixel.get(p.id, TrafficTotals())) for p in chosen]
    totals = _sum(m.totals for m in by_pixel)
    step = -(-window_min // MAX_ACTIVITY_POINTS)
    return EventMetrics(
        window_min=window_min,
        step_min=step,
        pixel_ids=[p.pixel_id for p in chosen],
        activity=_series(minutes, since, window_min, step),
        totals=totals,
        by_pixel=by_pixel,
        domain_activity=(
            [DomainActivity(ingress.ingress, totals.events_received, totals.last_event_at)]
            if ingress is not None
            else []
        ),
    )


def _series(
    minutes: Sequence[TrafficBucket], since: datetime, window_min: int, step: int
) -> list[TrafficBucket]:
    points = -(-window_min // step)
    sums = [[0, 0, 0] for _ in range(points)]
    for bucket in minutes:
        index = int((bucket.start - since) / timedelta(minutes=step))
        sums[index][0] += bucket.events_received
        sums[index][1] += bucket.events_published
        sums[index][2] += bucket.publish_errors
    return [
        TrafficBucket(since + timedelta(minutes=i * step), *counts) for i, counts in enumerate(sums)
    ]


def _sum(totals: Iterable[TrafficTotals]) -> TrafficTotals:
    items = list(totals)
    updated = [t.last_updated_at for t in items if t.last_updated_at is not None]
    events = [t.last_event_at for t in items if t.last_event_at is not None]
    return TrafficTotals(
        events_received=sum(t.events_received for t in items),
        events_published=sum(t.events_published for t in items),
        publish_errors=sum(t.publish_errors for t in items),
        pixels_with_traffic=sum(t.pixels_with_traffic for t in items),
        last_updated_at=max(updated, default=None),
        last_event_at=max(events, default=None),
    )
