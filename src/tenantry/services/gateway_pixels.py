"""Pixels (signal configs) of an account, their switches, and event and domain filters.

Each function is one transaction: reads need `data.pixels` read access in the account, changes
`data.pixels` all, and every change is audited. The Conversions API access token is stored for
the gateway to publish with and never returned or written to the audit trail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from tenantry.domain.accounts import Account
from tenantry.domain.errors import ErrorCode, InvalidInput, NotFound
from tenantry.domain.pixels import (
    MAX_PIXELS_PER_ACCOUNT,
    ConnectionStatus,
    FilterKind,
    FilterState,
    Pixel,
    SignalFilter,
    connection_status,
    new_signal_config_id,
    time_window,
    validate_access_token,
    validate_api_version,
    validate_digits_id,
    validate_external_id,
    validate_filter_value,
    validate_pixel_name,
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
from tenantry.services.ports import UnitOfWork


@dataclass(slots=True, frozen=True)
class PixelSetup:
    """What `setupPixelSignalConfig` asks for; None keeps (or defaults) a field."""

    pixel_id: str
    business_id: str
    access_token: str
    external_id: str
    api_version: str | None = None
    name: str | None = None


@dataclass(slots=True)
class PixelStatus:
    pixel: Pixel
    connection: ConnectionStatus


@dataclass(slots=True)
class PixelList:
    account: Account
    pixels: list[PixelStatus]
    window_min: int


@dataclass(slots=True)
class PixelFilterState:
    pixel_id: str
    state: FilterState


@dataclass(slots=True)
class FilterView:
    """A filter as read over the account's pixels: `state` is MIXED when they disagree."""

    kind: FilterKind
    value: str
    state: FilterState
    pixels: list[PixelFilterState]


def setup_pixel(
    ctx: ServiceContext, actor: Actor, account_id: str, setup: PixelSetup
) -> PixelStatus:
    """Add a pixel to the account, or update the account's config of that pixel (keyed by the
    pixel id); a new pixel receives and publishes from the start."""
    wanted = _checked_setup(ctx, account_id, setup)
    with ctx.uow() as uow:
        account, _ = require(ctx, uow, actor, account_id, MANAGE_PIXELS)
        current = uow.gateway.find_pixel_by_pixel_id(account.id, wanted.pixel_id)
        if current is None:
            if uow.gateway.count_pixels(account.id) >= MAX_PIXELS_PER_ACCOUNT:
                raise InvalidInput(
                    ErrorCode.INVALID_INPUT,
                    f"An account can have at most {MAX_PIXELS_PER_ACCOUNT} pixels.",
                    field="pixelId",
                )
            pixel = wanted
            uow.gateway.add_pixel(pixel)
            action, before = "pixel.create", None
        else:
            before = _snapshot(current)
            # What the setup leaves out (name, API version) and the switches stay as they are.
            pixel = replace(
                wanted,
                id=current.id,
                name=current.name if setup.name is None else wanted.name,
                api_version=current.api_version
                if setup.api_version is None
                else wanted.api_version,
                events_enabled=current.events_enabled,
                capi_publish_enabled=current.capi_publish_enabled,
                created_at=current.created_at,
            )
            uow.gateway.update_pixel(pixel)
            action = "pixel.update"
        after = _snapshot(pixel)
        if current is not None and current.access_token != pixel.access_token:
            after["access_token_changed"] = True
        record(
            ctx,
            uow,
            actor,
            action,
            target_type="pixel",
            target_id=pixel.id,
            account_id=account.id,
            before=before,
            after=after,
        )
        return _status(ctx, uow, pixel)


def _checked_setup(ctx: ServiceContext, account_id: str, setup: PixelSetup) -> Pixel:
    """The new pixel a setup describes, every field checked (defaults for what it leaves out)."""
    pixel_id = validate_digits_id(setup.pixel_id, "pixelId")
    return Pixel(
        id=new_signal_config_id(),
        account_id=account_id,
        pixel_id=pixel_id,
        business_id=validate_digits_id(setup.business_id, "businessId"),
        access_token=validate_access_token(setup.access_token),
        external_id=validate_external_id(setup.external_id),
        name=validate_pixel_name(setup.name, pixel_id),
        api_version=validate_api_version(setup.api_version),
        created_at=ctx.now(),
    )


def delete_pixel(ctx: ServiceContext, actor: Actor, account_id: str, signal_config_id: str) -> None:
    """Delete a pixel's config and its traffic; filters forget it. NotFound when the account
    has no such config."""
    with ctx.uow() as uow:
        account, _ = require(ctx, uow, actor, account_id, MANAGE_PIXELS)
        pixel = _get_pixel(uow, account.id, signal_config_id)
        for kind in FilterKind:
            for signal_filter in uow.gateway.filters(account.id, kind):
                forgotten = signal_filter.forget(pixel.pixel_id)
                if forgotten is not signal_filter:
                    forgotten.updated_at = ctx.now()
                    _save_filter(uow, signal_filter, forgotten)
        uow.gateway.delete_pixel(pixel.id)
        record(
            ctx,
            uow,
            actor,
            "pixel.delete",
            target_type="pixel",
            target_id=pixel.id,
            account_id=account.id,
            before=_snapshot(pixel),
        )


def list_pixels(
    ctx: ServiceContext, actor: Actor, account_id: str, *, window_min: int = DEFAULT_WINDOW_MIN
) -> PixelList:
    """The account and its pixels (ordered by pixel id), each with its connection status over
    the last `window_min` minutes."""
    window_min = checked_window(window_min)
    with ctx.uow(readonly=True) as uow:
        account, _ = require(ctx, uow, actor, account_id, READ_PIXELS)
        pixels = uow.gateway.pixels([account.id]).get(account.id, [])
        since, until = time_window(ctx.now(), window_min)
        traffic = uow.gateway.traffic_by_pixel(account.id, since, until) if pixels else {}
        statuses = [PixelStatus(p, connection_status(p, traffic.get(p.id))) for p in pixels]
        return PixelList(account, statuses, window_min)


def set_events_enabled(
    ctx: ServiceContext, actor: Actor, account_id: str, signal_config_id: str, enabled: bool
) -> PixelStatus:
    """Switch receiving a pixel's events on or off."""
    return _switch(ctx, actor, account_id, signal_config_id, "events_enabled", enabled)


def set_capi_publish(
    ctx: ServiceContext, actor: Actor, account_id: str, signal_config_id: str, enabled: bool
) -> PixelStatus:
    """Switch publishing a pixel's events to the Conversions API on or off."""
    return _switch(ctx, actor, account_id, signal_config_id, "capi_publish_enabled", enabled)


def _switch(
    ctx: ServiceContext,
    actor: Actor,
    account_id: str,
    signal_config_id: str,
    attribute: str,
    enabled: bool,
) -> PixelStatus:
    with ctx.uow() as uow:
        account, _ = require(ctx, uow, actor, account_id, MANAGE_PIXELS)
        pixel = _get_pixel(uow, account.id, signal_config_id)
        if getattr(pixel, attribute) != enabled:
            before = _snapshot(pixel)
            setattr(pixel, attribute, enabled)
            uow.gateway.update_pixel(pixel)
            record(
                ctx,
                uow,
                actor,
                "pixel.update",
                target_type="pixel",
                target_id=pixel.id,
                account_id=account.id,
                before=before,
                after=_snapshot(pixel),
            )
        return _status(ctx, uow, pixel)


# -- filters -----------------------------------------------------------------------------------


def update_event_filter(
    ctx: ServiceContext,
    actor: Actor,
    account_id: str,
    *,
    event_name: str,
    pixel_ids: Sequence[str] | None,
    state: FilterState,
) -> FilterView:
    """Publish or drop events of this name for the listed pixels (None: every pixel, new ones
    included)."""
    return _update_filter(ctx, actor, account_id, FilterKind.EVENT, event_name, pixel_ids, state)


def update_domain_filter(
    ctx: ServiceContext,
    actor: Actor,
    account_id: str,
    *,
    domain: str,
    pixel_ids: Sequence[str] | None,
    state: FilterState,
) -> FilterView:
    """Publish or drop events from this domain for the listed pixels (None: every pixel)."""
    return _update_filter(ctx, actor, account_id, FilterKind.DOMAIN, domain, pixel_ids, state)


def list_filters(
    ctx: ServiceContext, actor: Actor, account_id: str, kind: FilterKind
) -> list[FilterView]:
    """The account's event or domain filters that do something (publishing everywhere is what
    no filter means), ordered by event name or domain."""
    with ctx.uow(readonly=True) as uow:
        account, _ = require(ctx, uow, actor, account_id, READ_PIXELS)
        pixels = uow.gateway.pixels([account.id]).get(account.id, [])
        return [_view(f, pixels) for f in uow.gateway.filters(account.id, kind)]


def _update_filter(
    ctx: ServiceContext,
    actor: Actor,
    account_id: str,
    kind: FilterKind,
    value: str,
    pixel_ids: Sequence[str] | None,
    state: FilterState,
) -> FilterView:
    value = validate_filter_value(kind, value)
    wanted = checked_pixel_ids(pixel_ids)
    with ctx.uow() as uow:
        account, _ = require(ctx, uow, actor, account_id, MANAGE_PIXELS)
        pixels = uow.gateway.pixels([account.id]).get(account.id, [])
        chosen = pick_pixels({p.pixel_id: p for p in pixels}, wanted)
        current = uow.gateway.find_filter(account.id, kind, value, for_update=True)
        old = current or SignalFilter(account.id, kind, value)
        new = old.applied(state, None if wanted is None else frozenset(p.pixel_id for p in chosen))
        new.updated_at = ctx.now()
        if (new.state, new.pixel_ids) != (old.state, old.pixel_ids):
            _save_filter(uow, current, new)
            record(
                ctx,
                uow,
                actor,
                f"{kind.value}_filter.update",
                target_type=f"{kind.value}_filter",
                target_id=value,
                account_id=account.id,
                before=_filter_snapshot(current) if current else None,
                after=_filter_snapshot(new),
            )
        return _view(new, pixels)


def _save_filter(uow: UnitOfWork, current: SignalFilter | None, new: SignalFilter) -> None:
    """Store `new` in place of `current`; the default (publish everywhere) is kept as no row."""
    if new.is_default:
        if current is not None:
            uow.gateway.delete_filter(new.account_id, new.kind, new.value)
    elif current is None:
        uow.gateway.add_filter(new)
    else:
        uow.gateway.update_filter(new)


def _view(signal_filter: SignalFilter, pixels: Sequence[Pixel]) -> FilterView:
    ids = [p.pixel_id for p in pixels]
    return FilterView(
        kind=signal_filter.kind,
        value=signal_filter.value,
        state=signal_filter.overall(ids),
        pixels=[PixelFilterState(i, signal_filter.state_of(i)) for i in ids],
    )


def _filter_snapshot(signal_filter: SignalFilter) -> dict[str, Any]:
    ids = signal_filter.pixel_ids
    return {
        "state": signal_filter.state.value,
        "pixel_ids": None if ids is None else sorted(ids),
    }


# -- helpers -----------------------------------------------------------------------------------


def _get_pixel(uow: UnitOfWork, account_id: str, signal_config_id: str) -> Pixel:
    pixel = uow.gateway.find_pixel(account_id, signal_config_id.strip())
    if pixel is None:
        raise NotFound(ErrorCode.NOT_FOUND, "The pixel doesn't exist.", field="id")
    return pixel


def _status(ctx: ServiceContext, uow: UnitOfWork, pixel: Pixel) -> PixelStatus:
    since, until = time_window(ctx.now(), DEFAULT_WINDOW_MIN)
    traffic = uow.gateway.traffic_by_pixel(pixel.account_id, since, until)
    return PixelStatus(pixel, connection_status(pixel, traffic.get(pixel.id)))


def _snapshot(pixel: Pixel) -> dict[str, Any]:
    """A pixel for the audit trail: everything but its access token."""
    return {
        "pixel_id": pixel.pixel_id,
        "business_id": pixel.business_id,
        "name": pixel.name,
        "external_id": pixel.external_id,
        "api_version": pixel.api_version,
        "events_enabled": pixel.events_enabled,
        "capi_publish_enabled": pixel.capi_publish_enabled,
    }
