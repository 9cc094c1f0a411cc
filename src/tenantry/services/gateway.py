"""The gateway seen from an account: pixel usage and traffic figures, and the ingress domain.

Pixels and filters are managed in `gateway_pixels`, traffic reports and event metrics in
`gateway_traffic`; this module holds what the /hub/graphql/ face reads and the rules they share.

Usage, as `tenantUsage` shows it:
- an *active pixel* is one whose events the gateway receives (`events_enabled`);
- a *pipeline* is a pixel's route to the Conversions API, one per pixel; an *active pipeline*
  both receives and publishes (`events_enabled` and `capi_publish_enabled`);
- traffic sums the pixels' minute buckets over the last `hours` hours (24 by default), the
  current minute included; `publishError` is true when any publish failed in that time.

Reading the ingress domain takes what reading the account takes; usage (pixel ids and
traffic are the account's own data) takes a role inside the account, held or inherited through
partner management, so a parent that lost partner management sees none; reading pixels and
metrics takes `data.pixels` read access, changing them `data.pixels` all; setting the ingress
domain changes the account's settings (`account.settings` all).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tenantry.domain.accounts import Account
from tenantry.domain.errors import Conflict, ErrorCode, Forbidden, InvalidInput, NotFound
from tenantry.domain.pixels import (
    IngressDomain,
    Pixel,
    TrafficTotals,
    new_signal_config_id,
    time_window,
    validate_digits_id,
    validate_hostname,
)
from tenantry.domain.roles import AccessLevel, Need
from tenantry.services.context import Actor, ServiceContext, record
from tenantry.services.policy import Requirement, readable_accounts, require
from tenantry.services.ports import UnitOfWork

READ_PIXELS: Requirement = ("data", "pixels", AccessLevel.READ)
MANAGE_PIXELS: Requirement = ("data", "pixels", AccessLevel.ALL)

DEFAULT_USAGE_HOURS = 24
MAX_USAGE_HOURS = 31 * 24
DEFAULT_WINDOW_MIN = 60
MAX_WINDOW_MIN = 7 * 24 * 60


@dataclass(slots=True)
class TrafficSummary:
    total_events_received: int
    total_pixels_with_traffic: int
    publish_error: bool
    duration_in_hours: int
    last_updated_at: datetime | None


@dataclass(slots=True)
class Usage:
    total_pixels: int
    total_active_pixels: int
    total_inactive_pixels: int
    total_pipelines: int
    total_active_pipelines: int
    pixel_ids: list[str]
    traffic: TrafficSummary


def usage_of_accounts(
    ctx: ServiceContext,
    actor: Actor,
    account_ids: Collection[str],
    *,
    hours: int = DEFAULT_USAGE_HOURS,
) -> dict[str, Usage]:
    """Usage of each of `account_ids` the actor may read (the others are left out), in a
    constant number of statements however many accounts are asked about. Accounts without
    pixels get zeros."""
    hours = _checked_hours(hours)
    with ctx.uow(readonly=True) as uow:
        inside = readable_accounts(ctx, uow, actor, account_ids, with_members=True)
        return _usage(ctx, uow, inside, hours)


def tenant_usage(
    ctx: ServiceContext, actor: Actor, account_id: str, *, hours: int = DEFAULT_USAGE_HOURS
) -> Usage:
    """Usage of one account: NotFound when it does not exist, Forbidden when the actor may not
    read it."""
    hours = _checked_hours(hours)
    with ctx.uow(readonly=True) as uow:
        account = readable_account(ctx, uow, actor, account_id, inside=True)
        return _usage(ctx, uow, [account.id], hours)[account.id]


def _usage(
    ctx: ServiceContext, uow: UnitOfWork, account_ids: Iterable[str], hours: int
) -> dict[str, Usage]:
    ids = list(account_ids)
    if not ids:
        return {}
    since, until = time_window(ctx.now(), hours * 60)
    pixels = uow.gateway.pixels(ids)
    traffic = uow.gateway.traffic_by_account(ids, since, until)
    return {i: usage_of(pixels.get(i, []), traffic.get(i), hours) for i in ids}


def usage_of(pixels: Sequence[Pixel], traffic: TrafficTotals | None, hours: int) -> Usage:
    active = sum(1 for p in pixels if p.is_active)
    traffic = traffic or TrafficTotals()
    return Usage(
        total_pixels=len(pixels),
        total_active_pixels=active,
        total_inactive_pixels=len(pixels) - active,
        total_pipelines=len(pixels),
        total_active_pipelines=sum(1 for p in pixels if p.pipeline_active),
        pixel_ids=sorted(p.pixel_id for p in pixels),
        traffic=TrafficSummary(
            total_events_received=traffic.events_received,
            total_pixels_with_traffic=traffic.pixels_with_traffic,
            publish_error=traffic.publish_errors > 0,
            duration_in_hours=hours,
            last_updated_at=traffic.last_updated_at,
        ),
    )


# -- ingress domain ----------------------------------------------------------------------------


def get_ingress_domain(ctx: ServiceContext, actor: Actor, account_id: str) -> IngressDomain | None:
    """The account's ingress domain, or None when none is set."""
    with ctx.uow(readonly=True) as uow:
        account = readable_account(ctx, uow, actor, account_id)
        domain = uow.gateway.find_ingress_domain(account.id)
        if domain is not None:
            domain.account_name = account.name
        return domain


def upsert_ingress_domain(
    ctx: ServiceContext, actor: Actor, account_id: str, *, ingress: str, target_domain: str
) -> IngressDomain:
    """Set where the account's events come in and its first-party domain (an empty
    `target_domain` selects none). A changed name needs its CNAME verified again."""
    ingress = validate_hostname(ingress, "ingress")
    target = validate_hostname(target_domain, "targetDomain") if target_domain.strip() else ""
    with ctx.uow() as uow:
        account, _ = require(ctx, uow, actor, account_id, Need.MANAGE_SETTINGS)
        taken = uow.gateway.find_ingress_domain_by_host(ingress)
        if taken is not None and taken.account_id != account.id:
            raise Conflict(
                ErrorCode.ID_TAKEN, "Another account already uses this ingress.", field="ingress"
            )
        current = uow.gateway.find_ingress_domain(account.id)
        if current is None:
            domain = IngressDomain(
                id=new_signal_config_id(),
                account_id=account.id,
                ingress=ingress,
                target_domain=target,
                updated_at=ctx.now(),
            )
            uow.gateway.add_ingress_domain(domain)
            before = None
        elif (current.ingress, current.target_domain) != (ingress, target):
            before = _ingress_snapshot(current)
            domain = IngressDomain(
                id=current.id,
                account_id=account.id,
                ingress=ingress,
                target_domain=target,
                cname_resolve_success=False,
                updated_at=ctx.now(),
            )
            uow.gateway.update_ingress_domain(domain)
        else:
            current.account_name = account.name
            return current
        record(
            ctx,
            uow,
            actor,
            "ingress_domain.update" if before else "ingress_domain.create",
            target_type="ingress_domain",
            target_id=domain.id,
            account_id=account.id,
            before=before,
            after=_ingress_snapshot(domain),
        )
        domain.account_name = account.name
        return domain


def _ingress_snapshot(domain: IngressDomain) -> dict[str, Any]:
    return {
        "ingress": domain.ingress,
        "target_domain": domain.target_domain,
        "cname_resolve_success": domain.cname_resolve_success,
    }


# -- shared by the gateway services ------------------------------------------------------------


def readable_account(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, account_id: str, *, inside: bool = False
) -> Account:
    """The account when the actor may read it (as `readable_accounts` decides); NotFound when
    it does not exist, Forbidden otherwise. `inside` asks for a role in the account itself,
    held or inherited through partner management, not a parent's view of its child."""
    readable = readable_accounts(ctx, uow, actor, [account_id], with_members=inside)
    if account_id in readable:
        return readable[account_id]
    uow.accounts.get(account_id)  # raises the not-found error
    raise Forbidden(ErrorCode.FORBIDDEN, account_id=account_id)


def checked_window(minutes: int) -> int:
    if not 1 <= minutes <= MAX_WINDOW_MIN:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            f"timeWindowMin must be between 1 and {MAX_WINDOW_MIN}.",
            field="timeWindowMin",
        )
    return minutes


def _checked_hours(hours: int) -> int:
    if not 1 <= hours <= MAX_USAGE_HOURS:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            f"The usage window is 1 to {MAX_USAGE_HOURS} hours.",
            field="hours",
        )
    return hours


def checked_pixel_ids(pixel_ids: Sequence[str] | None) -> list[str] | None:
    """Pixel ids as a caller lists them (None: every pixel); an empty list is refused, as it
    is more likely a mistake than a wish to select nothing."""
    if pixel_ids is None:
        return None
    if not pixel_ids:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            "pixelIds lists at least one pixel; leave it out to mean every pixel.",
            field="pixelIds",
        )
    return list(dict.fromkeys(validate_digits_id(p, "pixelIds") for p in pixel_ids))


def pick_pixels(pixels: Mapping[str, Pixel], pixel_ids: Sequence[str] | None) -> list[Pixel]:
    """The account's pixels named by `pixel_ids` (by pixel id; None: all), or NotFound."""
    if pixel_ids is None:
        return list(pixels.values())
    missing = [p for p in pixel_ids if p not in pixels]
    if missing:
        raise NotFound(
            ErrorCode.NOT_FOUND,
            f"No pixel {', '.join(missing)} in this account.",
            field="pixelIds",
        )
    return [pixels[p] for p in pixel_ids]
