"""Traffic reports, usage and event metrics through the services, on every engine."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from tenantry.domain.accounts import AccountKind
from tenantry.domain.errors import ErrorCode, Forbidden, InvalidInput, NotFound
from tenantry.domain.pixels import TrafficReport
from tenantry.services import accounts, gateway, gateway_pixels, gateway_traffic
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.gateway_pixels import PixelSetup

from factories import OPERATOR, World, as_user, make_account, make_member, statements

NOW = datetime(2030, 5, 1, 10, 15, 42, tzinfo=UTC)
MINUTE = NOW.replace(second=0)


@pytest.fixture(autouse=True)
def clock(ctx: ServiceContext) -> None:
    ctx.clock = lambda: NOW


def add_pixel(ctx: ServiceContext, account_id: str, pixel_id: str) -> str:
    status = gateway_pixels.setup_pixel(
        ctx,
        OPERATOR,
        account_id,
        PixelSetup(pixel_id=pixel_id, business_id="42", access_token="t", external_id="x"),
    )
    return status.pixel.id


def report(
    pixel_id: str,
    minutes_ago: float = 0,
    received: int = 10,
    published: int = 10,
    errors: int = 0,
    code: str | None = None,
) -> TrafficReport:
    return TrafficReport(
        pixel_id=pixel_id,
        window_start=NOW - timedelta(minutes=minutes_ago),
        events_received=received,
        events_published=published,
        publish_errors=errors,
        error_code=code,
    )


def send(
    ctx: ServiceContext, account_id: str, *reports: TrafficReport, actor: Actor = OPERATOR
) -> int:
    return gateway_traffic.report_traffic(ctx, actor, account_id, list(reports))


def audit_count(ctx: ServiceContext) -> int:
    with ctx.uow(readonly=True) as uow:
        return len(uow.audit.query(account_ids=None, limit=10_000))


# -- reporting → usage -------------------------------------------------------------------------


def test_reported_traffic_shows_in_tenant_usage(ctx: ServiceContext, world: World) -> None:
    add_pixel(ctx, world.a.id, "111")
    add_pixel(ctx, world.a.id, "222")
    add_pixel(ctx, world.a.id, "333")
    taken = send(
        ctx,
        world.a.id,
        report("111", 0, received=100, published=98, errors=2, code="190.460"),
        report("111", 5, received=50, published=50),
        report("222", 60 * 23, received=7, published=7),
        report("333", 0, received=0, published=0),
    )
    assert taken == 4
    usage = gateway.tenant_usage(ctx, as_user(world.a_admin), world.a.id)
    assert usage.total_pixels == 3
    assert usage.pixel_ids == ["111", "222", "333"]
    traffic = usage.traffic
    assert traffic.total_events_received == 157
    assert traffic.total_pixels_with_traffic == 2
    assert traffic.publish_error
    assert traffic.duration_in_hours == 24
    assert traffic.last_updated_at == NOW
    with ctx.uow(readonly=True) as uow:
        (last,) = uow.audit.query(account_ids=[world.a.id], action="traffic.report")
    assert last.after == {
        "reports": 4,
        "buckets": 4,
        "events_received": 157,
        "events_published": 155,
        "publish_errors": 2,
    }


def test_reports_add_to_their_minute(ctx: ServiceContext, world: World) -> None:
    ref = add_pixel(ctx, world.a.id, "111")
    # Seconds are truncated: all three land in the current minute, two of them in one batch.
    send(ctx, world.a.id, report("111", 0.1, received=1), report("111", 0.5, received=2))
    send(ctx, world.a.id, report("111", 0, received=4, errors=1, code="2"))
    send(ctx, world.a.id, report("111", 0, received=8))
    with ctx.uow(readonly=True) as uow:
        buckets = uow.gateway.traffic_by_minute(
            world.a.id, [ref], MINUTE, MINUTE + timedelta(minutes=1)
        )
        per_pixel = uow.gateway.traffic_by_pixel(world.a.id, MINUTE, MINUTE + timedelta(minutes=1))
    assert [(b.start, b.events_received, b.publish_errors) for b in buckets] == [(MINUTE, 15, 1)]
    assert per_pixel[ref].last_error_code == "2"  # a later report without a code keeps it


def test_usage_looks_at_the_last_hours_only(ctx: ServiceContext, world: World) -> None:
    add_pixel(ctx, world.a.id, "111")
    send(ctx, world.a.id, report("111", 60 * 24, received=5), report("111", 60 * 30, received=3))
    assert gateway.tenant_usage(ctx, OPERATOR, world.a.id).traffic.total_events_received == 0
    wider = gateway.tenant_usage(ctx, OPERATOR, world.a.id, hours=48)
    assert wider.traffic.total_events_received == 8
    assert wider.traffic.duration_in_hours == 48
    assert not wider.traffic.publish_error
    for hours in (0, 24 * 31 + 1):
        with pytest.raises(InvalidInput):
            gateway.tenant_usage(ctx, OPERATOR, world.a.id, hours=hours)


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (report("999"), "reports[1].pixelId"),
        (report("1x1"), "reports[1].pixelId"),
        (report("111", -10), "reports[1].windowStart"),
        (report("111", 60 * 24 * 8), "reports[1].windowStart"),
        (report("111", received=-1), "reports[1].eventsReceived"),
        (report("111", code="190.460"), "reports[1].errorCode"),
        (report("111", errors=1, code="oops"), "reports[1].errorCode"),
        (
            TrafficReport("111", datetime(2030, 5, 1, 10, 0), events_received=1),
            "reports[1].windowStart",
        ),
    ],
)
def test_a_bad_report_stores_nothing(
    ctx: ServiceContext, world: World, bad: TrafficReport, field: str
) -> None:
    add_pixel(ctx, world.a.id, "111")
    events = audit_count(ctx)
    with pytest.raises(InvalidInput) as caught:
        send(ctx, world.a.id, report("111", received=5), bad)
    assert caught.value.field == field
    assert gateway.tenant_usage(ctx, OPERATOR, world.a.id).traffic.total_events_received == 0
    assert audit_count(ctx) == events


def test_at_most_a_thousand_reports(ctx: ServiceContext, world: World) -> None:
    add_pixel(ctx, world.a.id, "111")
    many = [report("111", minutes_ago=i % 100) for i in range(1001)]
    with pytest.raises(InvalidInput):
        send(ctx, world.a.id, *many)
    assert send(ctx, world.a.id, *many[:1000]) == 1000
    usage = gateway.tenant_usage(ctx, OPERATOR, world.a.id, hours=2)
    assert usage.traffic.total_events_received == 10_000


def test_reporting_needs_to_manage_the_accounts_pixels(ctx: ServiceContext, world: World) -> None:
    add_pixel(ctx, world.a.id, "111")
    viewer = as_user(make_member(ctx, world.a, role="view"))
    for actor in (as_user(world.b_admin), viewer):
        with pytest.raises(Forbidden):
            send(ctx, world.a.id, report("111"), actor=actor)
    assert send(ctx, world.a.id, report("111"), actor=as_user(world.host_admin)) == 1
    with pytest.raises(NotFound):
        send(ctx, "Zz0Zz0Zz", report("111"))


def test_concurrent_reports_all_count(ctx: ServiceContext, world: World) -> None:
    add_pixel(ctx, world.a.id, "111")
    failures: list[BaseException] = []

    def gateway_host() -> None:
        try:
            for _ in range(5):
                send(ctx, world.a.id, report("111", received=1))
        except BaseException as error:  # reported to the test below
            failures.append(error)

    threads = [threading.Thread(target=gateway_host) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert gateway.tenant_usage(ctx, OPERATOR, world.a.id).traffic.total_events_received == 20


# -- usage -------------------------------------------------------------------------------------


def test_usage_counts_pixels_and_pipelines(ctx: ServiceContext, world: World) -> None:
    off = add_pixel(ctx, world.a.id, "111")
    unpublished = add_pixel(ctx, world.a.id, "222")
    add_pixel(ctx, world.a.id, "333")
    gateway_pixels.set_events_enabled(ctx, OPERATOR, world.a.id, off, False)
    gateway_pixels.set_capi_publish(ctx, OPERATOR, world.a.id, unpublished, False)
    usage = gateway.tenant_usage(ctx, OPERATOR, world.a.id)
    assert (usage.total_pixels, usage.total_active_pixels, usage.total_inactive_pixels) == (3, 2, 1)
    assert (usage.total_pipelines, usage.total_active_pipelines) == (3, 1)
    assert usage.traffic.last_updated_at is None


def test_usage_of_accounts_leaves_out_what_the_actor_cannot_read(
    ctx: ServiceContext, world: World
) -> None:
    add_pixel(ctx, world.a.id, "111")
    send(ctx, world.a.id, report("111", received=3))
    ids = [world.a.id, world.b.id, world.host.id, "Zz0Zz0Zz"]
    seen = gateway.usage_of_accounts(ctx, as_user(world.a_admin), ids)
    assert set(seen) == {world.a.id}
    assert seen[world.a.id].traffic.total_events_received == 3
    by_host = gateway.usage_of_accounts(ctx, as_user(world.host_admin), ids)
    assert set(by_host) == {world.a.id, world.b.id, world.host.id}
    assert by_host[world.b.id].total_pixels == 0
    assert by_host[world.b.id].pixel_ids == []
    assert by_host[world.b.id].traffic.total_events_received == 0
    assert gateway.usage_of_accounts(ctx, as_user(world.a_admin), []) == {}


def test_tenant_usage_is_forbidden_to_strangers(ctx: ServiceContext, world: World) -> None:
    with pytest.raises(Forbidden):
        gateway.tenant_usage(ctx, as_user(world.b_admin), world.a.id)
    with pytest.raises(NotFound):
        gateway.tenant_usage(ctx, as_user(world.b_admin), "Zz0Zz0Zz")
    # Usage is part of reading the account: roles without pixel access see it too.
    accountant = as_user(make_member(ctx, world.a, role="accounting"))
    assert gateway.tenant_usage(ctx, accountant, world.a.id).total_pixels == 0


def test_usage_of_accounts_takes_the_same_statements_for_1_or_20_accounts(
    ctx: ServiceContext, world: World
) -> None:
    advertisers = [
        make_account(ctx, parent=world.host, kind=AccountKind.ADVERTISER) for _ in range(20)
    ]
    for number, account in enumerate(advertisers):
        add_pixel(ctx, account.id, str(1000 + number))
        send(ctx, account.id, report(str(1000 + number), received=number))
    for actor in (as_user(world.host_admin), OPERATOR):
        with statements(ctx) as seen:
            one = gateway.usage_of_accounts(ctx, actor, [advertisers[0].id])
        for_one = len(seen)
        with statements(ctx) as seen:
            twenty = gateway.usage_of_accounts(ctx, actor, [a.id for a in advertisers])
        assert len(seen) == for_one
        assert len(one) == 1
        assert len(twenty) == 20
        assert twenty[advertisers[7].id].traffic.total_events_received == 7
        assert for_one <= 4


# -- event metrics and connection status --------------------------------------------------------


def test_event_metrics_sum_the_selected_pixels(ctx: ServiceContext, world: World) -> None:
    add_pixel(ctx, world.a.id, "111")
    add_pixel(ctx, world.a.id, "222")
    gateway.upsert_ingress_domain(
        ctx, OPERATOR, world.a.id, ingress="capig.shop.example", target_domain="shop.example"
    )
    send(
        ctx,
        world.a.id,
        report("111", 0, received=10, published=9, errors=1, code="100.33"),
        report("111", 3, received=5, published=5),
        report("222", 1, received=20, published=20),
        report("222", 90, received=1000, published=1000),  # outside the window
    )
    metrics = gateway_traffic.event_metrics(ctx, as_user(world.a_admin), world.a.id)
    assert (metrics.window_min, metrics.step_min) == (60, 1)
    assert metrics.pixel_ids == ["111", "222"]
    assert len(metrics.activity) == 60
    assert metrics.activity[0].start == MINUTE - timedelta(minutes=59)
    assert metrics.activity[-1].start == MINUTE
    assert [p.events_received for p in metrics.activity[-4:]] == [5, 0, 20, 10]
    assert metrics.totals.events_received == 35
    assert metrics.totals.events_published == 34
    assert metrics.totals.publish_errors == 1
    assert metrics.totals.pixels_with_traffic == 2
    by_pixel = {m.pixel_id: m.totals for m in metrics.by_pixel}
    assert by_pixel["111"].last_error_code == "100.33"
    assert by_pixel["222"].last_event_at == MINUTE - timedelta(minutes=1)
    (domain,) = metrics.domain_activity
    assert (domain.domain, domain.events_received, domain.last_event_at) == (
        "capig.shop.example",
        35,
        MINUTE,
    )

    only = gateway_traffic.event_metrics(
        ctx, OPERATOR, world.a.id, pixel_ids=["222"], window_min=120
    )
    assert only.step_min == 2
    assert len(only.activity) == 60
    assert only.totals.events_received == 1020
    assert sum(p.events_received for p in only.activity) == 1020


def test_event_metrics_refuse_bad_selections(ctx: ServiceContext, world: World) -> None:
    add_pixel(ctx, world.a.id, "111")
    add_pixel(ctx, world.b.id, "999")
    with pytest.raises(NotFound) as caught:
        gateway_traffic.event_metrics(ctx, OPERATOR, world.a.id, pixel_ids=["999"])
    assert caught.value.code is ErrorCode.NOT_FOUND
    for window in (0, 7 * 24 * 60 + 1):
        with pytest.raises(InvalidInput):
            gateway_traffic.event_metrics(ctx, OPERATOR, world.a.id, window_min=window)
    with pytest.raises(Forbidden):
        gateway_traffic.event_metrics(ctx, as_user(world.b_admin), world.a.id)
    empty = gateway_traffic.event_metrics(ctx, OPERATOR, world.b.id, window_min=5)
    assert empty.totals.events_received == 0
    assert empty.domain_activity == []
    assert [p.events_received for p in empty.activity] == [0] * 5


def test_connection_status_follows_the_traffic(ctx: ServiceContext, world: World) -> None:
    add_pixel(ctx, world.a.id, "111")
    add_pixel(ctx, world.a.id, "222")
    send(
        ctx,
        world.a.id,
        report("111", 30, received=3, published=0, errors=3, code="190"),
        report("111", 10, received=3, published=1, errors=2, code="190.460"),
        report("111", 5, received=3, published=3),
        report("222", 90, received=1),
    )
    listed = gateway_pixels.list_pixels(ctx, OPERATOR, world.a.id)
    status = {p.pixel.pixel_id: p.connection for p in listed.pixels}
    assert status["111"].connected
    assert status["111"].api_error_code == "190.460"
    assert not status["222"].connected
    wider = gateway_pixels.list_pixels(ctx, OPERATOR, world.a.id, window_min=120)
    assert {p.pixel.pixel_id: p.connection.connected for p in wider.pixels} == {
        "111": True,
        "222": True,
    }
    narrow = gateway_pixels.list_pixels(ctx, OPERATOR, world.a.id, window_min=7)
    assert narrow.pixels[0].connection.api_error_code is None


def test_deleting_an_account_takes_its_pixels_and_traffic(
    ctx: ServiceContext, world: World
) -> None:
    ref = add_pixel(ctx, world.a.id, "111")
    send(ctx, world.a.id, report("111", received=4))
    gateway.upsert_ingress_domain(
        ctx, OPERATOR, world.a.id, ingress="in.a.example", target_domain=""
    )
    accounts.delete_account(ctx, OPERATOR, world.a.id)
    with ctx.uow(readonly=True) as uow:
        assert uow.gateway.pixels([world.a.id]) == {}
        assert uow.gateway.traffic_by_account([world.a.id], NOW - timedelta(days=1), NOW) == {}
        assert uow.gateway.find_pixel(world.a.id, ref) is None
        assert uow.gateway.find_ingress_domain_by_host("in.a.example") is None
