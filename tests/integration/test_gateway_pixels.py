"""Pixels (signal configs) and event/domain filters through the services, on every engine."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tenantry.domain.errors import ErrorCode, Forbidden, InvalidInput, NotFound
from tenantry.domain.pixels import FilterKind, FilterState
from tenantry.services import gateway_pixels as pixels
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.gateway_pixels import PixelSetup, PixelStatus

from factories import OPERATOR, World, as_user, make_member

TOKEN = "EAAB-secret-token-value"


def setup(
    ctx: ServiceContext,
    account_id: str,
    pixel_id: str = "1234567890",
    actor: Actor = OPERATOR,
    **changes: str | None,
) -> PixelStatus:
    spec: dict[str, str | None] = {
        "pixel_id": pixel_id,
        "business_id": "987654321",
        "access_token": TOKEN,
        "external_id": f"ext-{pixel_id}",
        **changes,
    }
    return pixels.setup_pixel(ctx, actor, account_id, PixelSetup(**spec))  # type: ignore[arg-type]


def audit_actions(ctx: ServiceContext, account_id: str) -> list[str]:
    with ctx.uow(readonly=True) as uow:
        return [e.action for e in reversed(uow.audit.query(account_ids=[account_id]))]


# -- setting up, listing, deleting -------------------------------------------------------------


def test_setup_creates_a_receiving_publishing_pixel(ctx: ServiceContext, world: World) -> None:
    created = setup(ctx, world.a.id, actor=as_user(world.a_admin), name="  Shop   pixel ")
    pixel = created.pixel
    assert pixel.account_id == world.a.id
    assert pixel.pixel_id == "1234567890"
    assert pixel.business_id == "987654321"
    assert pixel.name == "Shop pixel"
    assert pixel.api_version == "v19.0"
    assert pixel.events_enabled
    assert pixel.capi_publish_enabled
    assert TOKEN not in repr(pixel)
    assert created.connection.active
    assert created.connection.event_bridge_active
    assert not created.connection.connected
    assert created.connection.api_error_code is None

    listed = pixels.list_pixels(ctx, as_user(world.a_admin), world.a.id)
    assert listed.account.id == world.a.id
    assert [p.pixel.id for p in listed.pixels] == [pixel.id]
    assert listed.window_min == 60


def test_setup_again_updates_the_same_config(ctx: ServiceContext, world: World) -> None:
    first = setup(ctx, world.a.id, name="First", api_version="v18.0").pixel
    pixels.set_capi_publish(ctx, OPERATOR, world.a.id, first.id, False)
    again = setup(ctx, world.a.id, access_token="new-token", external_id="ext-2").pixel
    assert again.id == first.id
    assert again.name == "First"  # kept when not given
    assert again.api_version == "v18.0"
    assert again.external_id == "ext-2"
    assert again.access_token == "new-token"
    assert not again.capi_publish_enabled  # switches are not reset by a new setup
    listed = pixels.list_pixels(ctx, OPERATOR, world.a.id)
    assert len(listed.pixels) == 1
    assert audit_actions(ctx, world.a.id)[-3:] == ["pixel.create", "pixel.update", "pixel.update"]


def test_the_access_token_never_reaches_the_audit_trail(ctx: ServiceContext, world: World) -> None:
    created = setup(ctx, world.a.id).pixel
    setup(ctx, world.a.id, access_token="rotated-secret")
    pixels.delete_pixel(ctx, OPERATOR, world.a.id, created.id)
    with ctx.uow(readonly=True) as uow:
        events = uow.audit.query(account_ids=[world.a.id], target_id=created.id)
    assert len(events) == 3
    for event in events:
        assert TOKEN not in repr(event)
        assert "rotated-secret" not in repr(event)
    assert events[1].after is not None
    assert events[1].after["access_token_changed"] is True


def test_the_same_pixel_may_serve_two_accounts(ctx: ServiceContext, world: World) -> None:
    in_a = setup(ctx, world.a.id).pixel
    in_b = setup(ctx, world.b.id).pixel
    assert in_a.id != in_b.id
    assert [p.pixel.id for p in pixels.list_pixels(ctx, OPERATOR, world.b.id).pixels] == [in_b.id]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"pixel_id": "12ab"}, "pixelId"),
        ({"pixel_id": "1" * 33}, "pixelId"),
        ({"business_id": ""}, "businessId"),
        ({"access_token": "has space"}, "accessToken"),
        ({"access_token": ""}, "accessToken"),
        ({"external_id": "   "}, "externalId"),
        ({"api_version": "19"}, "apiVersion"),
        ({"name": "x" * 201}, "name"),
    ],
)
def test_setup_refuses_bad_input(
    ctx: ServiceContext, world: World, changes: dict[str, str], field: str
) -> None:
    spec = {
        "pixel_id": "1234567890",
        "business_id": "987654321",
        "access_token": TOKEN,
        "external_id": "ext",
        **changes,
    }
    with pytest.raises(InvalidInput) as caught:
        pixels.setup_pixel(ctx, OPERATOR, world.a.id, PixelSetup(**spec))
    assert caught.value.field == field
    assert pixels.list_pixels(ctx, OPERATOR, world.a.id).pixels == []


def test_delete_removes_the_config(ctx: ServiceContext, world: World) -> None:
    kept = setup(ctx, world.a.id, "111").pixel
    gone = setup(ctx, world.a.id, "222").pixel
    pixels.delete_pixel(ctx, as_user(world.a_admin), world.a.id, gone.id)
    assert [p.pixel.id for p in pixels.list_pixels(ctx, OPERATOR, world.a.id).pixels] == [kept.id]
    assert audit_actions(ctx, world.a.id)[-1] == "pixel.delete"
    with pytest.raises(NotFound):
        pixels.delete_pixel(ctx, OPERATOR, world.a.id, gone.id)


def test_a_pixel_is_found_only_in_its_own_account(ctx: ServiceContext, world: World) -> None:
    in_b = setup(ctx, world.b.id).pixel
    # b's config through a's account: a's admin may act on a, but there is no such pixel there.
    for call in (
        lambda: pixels.delete_pixel(ctx, as_user(world.a_admin), world.a.id, in_b.id),
        lambda: pixels.set_events_enabled(ctx, as_user(world.a_admin), world.a.id, in_b.id, False),
        lambda: pixels.delete_pixel(ctx, OPERATOR, world.a.id, "not-a-uuid"),
    ):
        with pytest.raises(NotFound):
            call()
    assert pixels.list_pixels(ctx, OPERATOR, world.b.id).pixels[0].pixel.events_enabled


def test_switches_change_status_and_are_audited(ctx: ServiceContext, world: World) -> None:
    pixel = setup(ctx, world.a.id).pixel
    actor = as_user(world.a_admin)
    off = pixels.set_events_enabled(ctx, actor, world.a.id, pixel.id, False)
    assert not off.pixel.events_enabled
    assert not off.connection.active
    assert not off.connection.event_bridge_active
    assert off.connection.publishing_enabled
    unpublished = pixels.set_capi_publish(ctx, actor, world.a.id, pixel.id, False)
    assert not unpublished.connection.publishing_enabled
    on = pixels.set_events_enabled(ctx, actor, world.a.id, pixel.id, True)
    assert on.connection.active
    assert not on.connection.event_bridge_active
    events_before = len(audit_actions(ctx, world.a.id))
    pixels.set_events_enabled(ctx, actor, world.a.id, pixel.id, True)  # no change, no event
    assert len(audit_actions(ctx, world.a.id)) == events_before
    assert audit_actions(ctx, world.a.id)[-3:] == ["pixel.update"] * 3


# -- authorization -----------------------------------------------------------------------------


def test_another_accounts_admin_is_forbidden(ctx: ServiceContext, world: World) -> None:
    pixel = setup(ctx, world.a.id).pixel
    stranger = as_user(world.b_admin)
    calls: list[Callable[[], object]] = [
        lambda: setup(ctx, world.a.id, "555", actor=stranger),
        lambda: pixels.list_pixels(ctx, stranger, world.a.id),
        lambda: pixels.delete_pixel(ctx, stranger, world.a.id, pixel.id),
        lambda: pixels.set_events_enabled(ctx, stranger, world.a.id, pixel.id, False),
        lambda: pixels.set_capi_publish(ctx, stranger, world.a.id, pixel.id, False),
        lambda: pixels.update_event_filter(
            ctx, stranger, world.a.id, event_name="Purchase", pixel_ids=None, state=FilterState.DROP
        ),
        lambda: pixels.update_domain_filter(
            ctx, stranger, world.a.id, domain="a.example", pixel_ids=None, state=FilterState.DROP
        ),
        lambda: pixels.list_filters(ctx, stranger, world.a.id, FilterKind.EVENT),
    ]
    for call in calls:
        with pytest.raises(Forbidden):
            call()
    assert audit_actions(ctx, world.a.id)[-1] == "pixel.create"


def test_the_partner_manages_its_advertisers_pixels(ctx: ServiceContext, world: World) -> None:
    created = setup(ctx, world.a.id, actor=as_user(world.host_admin))
    assert pixels.list_pixels(ctx, as_user(world.host_admin), world.a.id).pixels[0].pixel.id == (
        created.pixel.id
    )


def test_viewers_read_pixels_but_do_not_change_them(ctx: ServiceContext, world: World) -> None:
    pixel = setup(ctx, world.a.id).pixel
    viewer = as_user(make_member(ctx, world.a, role="view"))
    assert len(pixels.list_pixels(ctx, viewer, world.a.id).pixels) == 1
    with pytest.raises(Forbidden):
        pixels.set_capi_publish(ctx, viewer, world.a.id, pixel.id, False)
    with pytest.raises(Forbidden):
        setup(ctx, world.a.id, "777", actor=viewer)


def test_roles_without_pixel_access_cannot_read_pixels(ctx: ServiceContext, world: World) -> None:
    accountant = as_user(make_member(ctx, world.a, role="accounting"))
    with pytest.raises(Forbidden):
        pixels.list_pixels(ctx, accountant, world.a.id)


def test_a_missing_account_is_not_found(ctx: ServiceContext, world: World) -> None:
    with pytest.raises(NotFound) as caught:
        pixels.list_pixels(ctx, OPERATOR, "Zz0Zz0Zz")
    assert caught.value.code is ErrorCode.ACCOUNT_NOT_FOUND


# -- filters -----------------------------------------------------------------------------------


def test_event_filter_for_some_pixels_reads_mixed(ctx: ServiceContext, world: World) -> None:
    for pixel_id in ("111", "222", "333"):
        setup(ctx, world.a.id, pixel_id)
    actor = as_user(world.a_admin)

    def event_filter(pixel_ids: list[str] | None, state: FilterState) -> pixels.FilterView:
        return pixels.update_event_filter(
            ctx, actor, world.a.id, event_name=" Purchase ", pixel_ids=pixel_ids, state=state
        )

    view = event_filter(["111"], FilterState.DROP)
    assert view.value == "Purchase"
    assert view.state is FilterState.MIXED
    assert {p.pixel_id: p.state for p in view.pixels} == {
        "111": FilterState.DROP,
        "222": FilterState.PUBLISH,
        "333": FilterState.PUBLISH,
    }
    assert event_filter(["222", "333"], FilterState.DROP).state is FilterState.DROP
    view = event_filter(["222"], FilterState.PUBLISH)
    assert view.state is FilterState.MIXED
    assert [p.pixel_id for p in view.pixels if p.state is FilterState.DROP] == ["111", "333"]
    assert event_filter(None, FilterState.PUBLISH).state is FilterState.PUBLISH
    # Publishing everywhere is no filter at all.
    assert pixels.list_filters(ctx, actor, world.a.id, FilterKind.EVENT) == []


def test_dropping_everywhere_covers_pixels_added_later(ctx: ServiceContext, world: World) -> None:
    setup(ctx, world.a.id, "111")
    pixels.update_event_filter(
        ctx, OPERATOR, world.a.id, event_name="Lead", pixel_ids=None, state=FilterState.DROP
    )
    setup(ctx, world.a.id, "222")
    (listed,) = pixels.list_filters(ctx, OPERATOR, world.a.id, FilterKind.EVENT)
    assert listed.value == "Lead"
    assert listed.state is FilterState.DROP
    # An exception for one pixel: the others, and later ones, still drop.
    view = pixels.update_event_filter(
        ctx, OPERATOR, world.a.id, event_name="Lead", pixel_ids=["111"], state=FilterState.PUBLISH
    )
    assert view.state is FilterState.MIXED
    setup(ctx, world.a.id, "333")
    (listed,) = pixels.list_filters(ctx, OPERATOR, world.a.id, FilterKind.EVENT)
    assert {p.pixel_id: p.state for p in listed.pixels} == {
        "111": FilterState.PUBLISH,
        "222": FilterState.DROP,
        "333": FilterState.DROP,
    }


def test_domain_filters_take_host_names(ctx: ServiceContext, world: World) -> None:
    setup(ctx, world.a.id, "111")
    view = pixels.update_domain_filter(
        ctx,
        OPERATOR,
        world.a.id,
        domain="Shop.Example.COM.",
        pixel_ids=None,
        state=FilterState.DROP,
    )
    assert view.kind is FilterKind.DOMAIN
    assert view.value == "shop.example.com"
    assert view.state is FilterState.DROP
    for bad in ("localhost", "-bad.example", "a..b", "10.0.0.1", "has space.example", "x" * 254):
        with pytest.raises(InvalidInput) as caught:
            pixels.update_domain_filter(
                ctx, OPERATOR, world.a.id, domain=bad, pixel_ids=None, state=FilterState.DROP
            )
        assert caught.value.field == "domain"
    assert pixels.list_filters(ctx, OPERATOR, world.a.id, FilterKind.EVENT) == []
    assert [f.value for f in pixels.list_filters(ctx, OPERATOR, world.a.id, FilterKind.DOMAIN)] == [
        "shop.example.com"
    ]
    assert audit_actions(ctx, world.a.id)[-1] == "domain_filter.update"


def test_filters_refuse_unknown_pixels_and_mixed(ctx: ServiceContext, world: World) -> None:
    setup(ctx, world.a.id, "111")
    in_b = setup(ctx, world.b.id, "999").pixel
    with pytest.raises(NotFound) as caught:
        pixels.update_event_filter(
            ctx, OPERATOR, world.a.id, event_name="Lead", pixel_ids=[in_b.pixel_id],
            state=FilterState.DROP,
        )  # fmt: skip
    assert caught.value.field == "pixelIds"
    for pixel_ids, state in ((["111"], FilterState.MIXED), ([], FilterState.DROP)):
        with pytest.raises(InvalidInput):
            pixels.update_event_filter(
                ctx, OPERATOR, world.a.id, event_name="Lead", pixel_ids=pixel_ids, state=state
            )
    assert pixels.list_filters(ctx, OPERATOR, world.a.id, FilterKind.EVENT) == []


def test_a_deleted_pixel_is_forgotten_by_filters(ctx: ServiceContext, world: World) -> None:
    setup(ctx, world.a.id, "111")
    gone = setup(ctx, world.a.id, "222").pixel
    pixels.update_event_filter(
        ctx, OPERATOR, world.a.id, event_name="Lead", pixel_ids=["222"], state=FilterState.DROP
    )
    pixels.delete_pixel(ctx, OPERATOR, world.a.id, gone.id)
    # Only 222 dropped; without it, nothing is filtered any more.
    assert pixels.list_filters(ctx, OPERATOR, world.a.id, FilterKind.EVENT) == []
    setup(ctx, world.a.id, "222")  # back again: it starts like any new pixel
    assert pixels.list_filters(ctx, OPERATOR, world.a.id, FilterKind.EVENT) == []
