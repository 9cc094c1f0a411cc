"""How /hub/graphql/ shows usage figures and an ingress domain: plain projections of what the
gateway services answer."""

from __future__ import annotations

from typing import Any

from tenantry.domain.accounts import Account
from tenantry.services.gateway import Usage


def usage_view(usage: Usage) -> dict[str, Any]:
    traffic = usage.traffic
    return {
        "totalPixels": usage.total_pixels,
        "totalActivePixels": usage.total_active_pixels,
        "totalInactivePixels": usage.total_inactive_pixels,
        "totalPipelines": usage.total_pipelines,
        "totalActivePipeline": usage.total_active_pipelines,
        "pixelIds": usage.pixel_ids,
        "tenantUsageByTraffic": {
            "totalEventsReceived": traffic.total_events_received,
            "totalPixelsWithTraffic": traffic.total_pixels_with_traffic,
            "publishError": traffic.publish_error,
            "durationInHours": traffic.duration_in_hours,
            "lastUpdatedAt": traffic.last_updated_at.isoformat()
            if traffic.last_updated_at
            else None,
        },
    }


def ingress_view(account: Account, domain: Any) -> dict[str, Any]:
    return {
        "id": domain.id,
        "ingress": domain.ingress,
        "targetDomain": domain.target_domain,
        "tenantName": account.name,
        "cnameResolveSuccess": domain.cname_resolve_success,
        "tenant1pDomain": domain.tenant_1p_domain,
        "tenant1pDomainStatus": domain.tenant_1p_domain_status,
    }
