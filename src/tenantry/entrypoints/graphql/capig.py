"""/capig/graphql/: pixels, filters and event metrics, resolvers bound to `capig.graphql`.

Each operation field calls one service and projects its answer into plain dicts the default
resolvers read, so nested fields (connection statuses, per-pixel counts) never query again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from graphql import GraphQLResolveInfo

from tenantry.domain.errors import ErrorCode, InvalidInput
from tenantry.domain.ids import is_account_id
from tenantry.domain.pixels import ConnectionStatus, FilterKind, FilterState, TrafficTotals
from tenantry.entrypoints.graphql.endpoint import graphql_app
from tenantry.entrypoints.graphql.engine import GraphQLEngine, Resolver, load_schema
from tenantry.services import gateway_pixels, gateway_traffic
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.gateway import DEFAULT_WINDOW_MIN
from tenantry.services.gateway_pixels import FilterView, PixelSetup, PixelStatus
from tenantry.services.gateway_traffic import EventMetrics

SDL = Path(__file__).with_name("capig.graphql")
FACE = "graphql"
CAPIG_PATH = "/capig/graphql"


@dataclass(frozen=True, slots=True)
class CapigRequest:
    ctx: ServiceContext
    actor: Actor


@dataclass(frozen=True, slots=True)
class TenantScope:
    """What `tenantQueries(tenantId)` and `tenantMutations(tenantId)` hand their fields."""

    tenant_id: str


Info = GraphQLResolveInfo[CapigRequest]


def _scope(tenant_id: str) -> TenantScope:
    if not is_account_id(tenant_id):
        raise InvalidInput(ErrorCode.INVALID_INPUT, "Invalid tenantId.", field="tenantId")
    return TenantScope(tenant_id)


def _window(minutes: int | None) -> int:
    return DEFAULT_WINDOW_MIN if minutes is None else minutes


def _pixel_ids(values: Sequence[str | None] | None) -> list[str] | None:
    if values is None:
        return None
    if any(v is None for v in values):
        raise InvalidInput(ErrorCode.INVALID_INPUT, "pixelIds can't hold null.", field="pixelIds")
    return [v for v in values if v is not None]


# -- queries -----------------------------------------------------------------------------------


def resolve_tenant_queries(_: Any, info: Info, tenantId: str) -> TenantScope:
    return _scope(tenantId)


def resolve_account(
    scope: TenantScope, info: Info, timeWindowMin: int | None = DEFAULT_WINDOW_MIN
) -> dict[str, Any]:
    request = info.context
    listed = gateway_pixels.list_pixels(
        request.ctx, request.actor, scope.tenant_id, window_min=_window(timeWindowMin)
    )
    return {
        "id": listed.account.id,
        "name": listed.account.name,
        "status": int(listed.account.status),
        "signalConfigs": [signal_config_view(p) for p in listed.pixels],
    }


def resolve_event_metrics(
    scope: TenantScope,
    info: Info,
    pixelIds: Sequence[str | None] | None = None,
    timeWindowMin: int | None = DEFAULT_WINDOW_MIN,
) -> dict[str, Any]:
    request = info.context
    metrics = gateway_traffic.event_metrics(
        request.ctx,
        request.actor,
        scope.tenant_id,
        pixel_ids=_pixel_ids(pixelIds),
        window_min=_window(timeWindowMin),
    )
    return metrics_view(metrics)


def resolve_event_filters(scope: TenantScope, info: Info) -> list[dict[str, Any]]:
    request = info.context
    views = gateway_pixels.list_filters(
        request.ctx, request.actor, scope.tenant_id, FilterKind.EVENT
    )
    return [filter_view(v) for v in views]


def resolve_domain_filters(scope: TenantScope, info: Info) -> list[dict[str, Any]]:
    request = info.context
    views = gateway_pixels.list_filters(
        request.ctx, request.actor, scope.tenant_id, FilterKind.DOMAIN
    )
    return [filter_view(v) for v in views]


# -- mutations ---------------------------------------------------------------------------------


def resolve_tenant_mutations(_: Any, info: Info, tenantId: str) -> TenantScope:
    return _scope(tenantId)


def resolve_signal_mutations(scope: TenantScope, info: Info) -> TenantScope:
    return scope


def resolve_setup_pixel(scope: TenantScope, info: Info, input: dict[str, Any]) -> dict[str, Any]:
    request = info.context
    status = gateway_pixels.setup_pixel(
        request.ctx,
        request.actor,
        scope.tenant_id,
        PixelSetup(
            pixel_id=input["pixelId"],
            business_id=input["businessId"],
            access_token=input["accessToken"],
            external_id=input["externalId"],
            api_version=input.get("apiVersion"),
            name=input.get("name"),
        ),
    )
    return signal_config_view(status)


def resolve_delete_data_source(scope: TenantScope, info: Info, id: str) -> bool:
    request = info.context
    gateway_pixels.delete_pixel(request.ctx, request.actor, scope.tenant_id, id)
    return True


def resolve_events_status(
    scope: TenantScope, info: Info, id: str, input: dict[str, Any]
) -> dict[str, Any]:
    status = input["status"]
    if status not in (0, 1):
        raise InvalidInput(ErrorCode.INVALID_INPUT, "The status must be 0 or 1.", field="status")
    request = info.context
    changed = gateway_pixels.set_events_enabled(
        request.ctx, request.actor, scope.tenant_id, id, status == 1
    )
    return signal_config_view(changed)


def resolve_capi_publish(
    scope: TenantScope, info: Info, id: str, input: dict[str, Any]
) -> dict[str, Any]:
    request = info.context
    changed = gateway_pixels.set_capi_publish(
        request.ctx, request.actor, scope.tenant_id, id, bool(input["enabled"])
    )
    return signal_config_view(changed)


def resolve_update_event_filter(
    scope: TenantScope, info: Info, input: dict[str, Any]
) -> dict[str, Any]:
    request = info.context
    view = gateway_pixels.update_event_filter(
        request.ctx,
        request.actor,
        scope.tenant_id,
        event_name=input["eventName"],
        pixel_ids=_pixel_ids(input.get("pixelIds")),
        state=FilterState(input["filterState"]),
    )
    return filter_view(view)


def resolve_update_domain_filter(
    scope: TenantScope, info: Info, input: dict[str, Any]
) -> dict[str, Any]:
    request = info.context
    view = gateway_pixels.update_domain_filter(
        request.ctx,
        request.actor,
        scope.tenant_id,
        domain=input["domain"],
        pixel_ids=_pixel_ids(input.get("pixelIds")),
        state=FilterState(input["filterState"]),
    )
    return filter_view(view)


# -- projections -------------------------------------------------------------------------------


def signal_config_view(status: PixelStatus) -> dict[str, Any]:
    pixel = status.pixel
    return {
        "id": pixel.id,
        "pixelID": pixel.pixel_id,
        "name": pixel.name,
        "businessID": pixel.business_id,
        "externalID": pixel.external_id,
        "apiVersion": pixel.api_version,
        "eventsStatus": 1 if pixel.events_enabled else 0,
        "capiPublishEnabled": pixel.capi_publish_enabled,
        "connectionStatus": connection_view(status.connection),
    }


def connection_view(connection: ConnectionStatus) -> dict[str, Any]:
    return {
        "connected": connection.connected,
        "active": connection.active,
        "eventBridgeActive": connection.event_bridge_active,
        "publishingEnabled": connection.publishing_enabled,
        "apiErrorCode": connection.api_error_code,
        "pixelID": connection.pixel_id,
    }


def filter_view(view: FilterView) -> dict[str, Any]:
    return {
        "eventName" if view.kind is FilterKind.EVENT else "domain": view.value,
        "filterState": view.state.value,
        "pixels": [{"pixelID": p.pixel_id, "filterState": p.state.value} for p in view.pixels],
    }


def metrics_view(metrics: EventMetrics) -> dict[str, Any]:
    totals = metrics.totals
    return {
        "timeWindowMin": metrics.window_min,
        "stepMin": metrics.step_min,
        "pixelIds": metrics.pixel_ids,
        "activity": [
            {
                "windowStart": _iso(point.start),
                "eventsReceived": point.events_received,
                "eventsPublished": point.events_published,
                "publishErrors": point.publish_errors,
            }
            for point in metrics.activity
        ],
        "incoming": {
            "totalEvents": totals.events_received,
            "pixelsWithTraffic": totals.pixels_with_traffic,
            "byPixel": [_incoming(m.pixel_id, m.totals) for m in metrics.by_pixel],
        },
        "outgoing": {
            "totalPublished": totals.events_published,
            "totalErrors": totals.publish_errors,
            "byPixel": [_outgoing(m.pixel_id, m.totals) for m in metrics.by_pixel],
        },
        "domainActivity": [
            {
                "domain": d.domain,
                "eventsReceived": d.events_received,
                "lastEventAt": _iso(d.last_event_at),
            }
            for d in metrics.domain_activity
        ],
    }


def _incoming(pixel_id: str, totals: TrafficTotals) -> dict[str, Any]:
    return {
        "pixelID": pixel_id,
        "eventsReceived": totals.events_received,
        "lastEventAt": _iso(totals.last_event_at),
    }


def _outgoing(pixel_id: str, totals: TrafficTotals) -> dict[str, Any]:
    return {
        "pixelID": pixel_id,
        "eventsPublished": totals.events_published,
        "publishErrors": totals.publish_errors,
        "apiErrorCode": totals.last_error_code if totals.publish_errors else None,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


RESOLVERS: dict[str, dict[str, Resolver]] = {
    "Query": {"tenantQueries": resolve_tenant_queries},
    "Mutation": {"tenantMutations": resolve_tenant_mutations},
    "TenantQueries": {
        "account": resolve_account,
        "eventMetrics": resolve_event_metrics,
        "eventFilters": resolve_event_filters,
        "domainFilters": resolve_domain_filters,
    },
    "CapigTenantMutations": {"signalMutations": resolve_signal_mutations},
    "SignalMutations": {
        "setupPixelSignalConfig": resolve_setup_pixel,
        "deleteDataSource": resolve_delete_data_source,
        "updateSignalConfigEventsStatus": resolve_events_status,
        "updateSignalConfigCapiPublish": resolve_capi_publish,
        "updateEventFilter": resolve_update_event_filter,
        "updateDomainFilter": resolve_update_domain_filter,
    },
}


def build_engine() -> GraphQLEngine:
    return GraphQLEngine(load_schema(SDL, RESOLVERS))


def capig_app(ctx: ServiceContext) -> FastAPI:
    """POST (and GET, the explorer) on /capig/graphql and /capig/graphql/."""
    return graphql_app(
        CAPIG_PATH,
        engine=build_engine(),
        ctx=ctx,
        face=FACE,
        make_context=lambda c, actor, _selected: CapigRequest(c, actor),
        title="CAPIG pixels",
    )
