"""/hub/graphql/'s webhooks: an account's endpoints and their delivery logs, over
`services.webhooks` (which asks the policy). A signing secret appears in the answers of
`createWebhookEndpoint` and `rotateWebhookSecret` only."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from tenantry.domain.errors import ErrorCode, InvalidInput
from tenantry.domain.ids import is_account_id
from tenantry.domain.webhooks import WebhookDelivery, WebhookEndpoint
from tenantry.services import webhooks
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.webhooks import EndpointChanges


class _Loaders(Protocol):
    def host_account_id(self) -> str: ...


class _Request(Protocol):
    ctx: ServiceContext
    actor: Actor
    loaders: _Loaders


def _request(info: Any) -> _Request:
    request: _Request = info.context
    return request


def _tenant(info: Any, tenant_id: str | None) -> str:
    """A null tenant id means the partner (host) account, as everywhere in this schema."""
    if tenant_id is None:
        return _request(info).loaders.host_account_id()
    if not is_account_id(tenant_id):
        raise InvalidInput(ErrorCode.INVALID_INPUT, "Invalid tenantId.", field="tenantId")
    return tenant_id


def resolve_endpoints(_: Any, info: Any, tenantId: str | None = None) -> list[WebhookEndpoint]:
    request = _request(info)
    return webhooks.list_endpoints(request.ctx, request.actor, _tenant(info, tenantId))


def resolve_deliveries(
    _: Any, info: Any, endpointId: str, first: int = 50, before: int | None = None
) -> list[WebhookDelivery]:
    if not 1 <= first <= webhooks.MAX_DELIVERY_PAGE:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            f"`first` must be between 1 and {webhooks.MAX_DELIVERY_PAGE}.",
            field="first",
        )
    request = _request(info)
    return webhooks.list_deliveries(
        request.ctx, request.actor, endpointId, limit=first, before_id=before
    )


def resolve_create(_: Any, info: Any, input: dict[str, Any]) -> dict[str, Any]:
    request = _request(info)
    endpoint, secret = webhooks.create_endpoint(
        request.ctx,
        request.actor,
        _tenant(info, input.get("tenantId")),
        input["url"],
        event_types=input.get("eventTypes") or (),
        include_children=bool(input.get("includeChildTenants")),
        description=input.get("description") or "",
        enabled=input.get("enabled") is not False,
    )
    return {"endpoint": endpoint, "secret": secret}


def resolve_update(_: Any, info: Any, input: dict[str, Any]) -> WebhookEndpoint:
    request = _request(info)
    changes = EndpointChanges(
        url=input.get("url"),
        event_types=input.get("eventTypes"),
        enabled=input.get("enabled"),
        include_children=input.get("includeChildTenants"),
        description=input.get("description"),
    )
    return webhooks.update_endpoint(request.ctx, request.actor, input["endpointId"], changes)


def resolve_delete(_: Any, info: Any, endpointId: str) -> bool:
    request = _request(info)
    webhooks.delete_endpoint(request.ctx, request.actor, endpointId)
    return True


def resolve_rotate(_: Any, info: Any, endpointId: str) -> dict[str, Any]:
    request = _request(info)
    endpoint, secret = webhooks.rotate_secret(request.ctx, request.actor, endpointId)
    return {"endpoint": endpoint, "secret": secret}


def resolve_resend(_: Any, info: Any, deliveryId: int) -> WebhookDelivery:
    request = _request(info)
    return webhooks.resend_delivery(request.ctx, request.actor, deliveryId)


WEBHOOK_RESOLVERS: dict[str, dict[str, Any]] = {
    "Query": {"webhookEndpoints": resolve_endpoints, "webhookDeliveries": resolve_deliveries},
    "Mutation": {"webhookMutations": lambda *_: {}},
    "WebhookMutations": {
        "createWebhookEndpoint": resolve_create,
        "updateWebhookEndpoint": resolve_update,
        "deleteWebhookEndpoint": resolve_delete,
        "rotateWebhookSecret": resolve_rotate,
        "resendWebhookDelivery": resolve_resend,
    },
    "WebhookEndpoint": {
        "id": lambda e, _: e.id,
        "tenantId": lambda e, _: e.account_id,
        "url": lambda e, _: e.url,
        "eventTypes": lambda e, _: [t.value for t in e.event_types],
        "enabled": lambda e, _: e.enabled,
        "includeChildTenants": lambda e, _: e.include_children,
        "description": lambda e, _: e.description,
        "createdAt": lambda e, _: _moment(e.created_at),
        "secretSetAt": lambda e, _: _moment(e.secret_set_at),
    },
    "WebhookDelivery": {
        "id": lambda d, _: d.id,
        "endpointId": lambda d, _: d.endpoint_id,
        "eventId": lambda d, _: d.event_id,
        "eventType": lambda d, _: d.event_type,
        "tenantId": lambda d, _: d.account_id,
        "status": lambda d, _: d.status.name,
        "attempts": lambda d, _: d.attempts,
        "lastStatusCode": lambda d, _: d.last_status_code,
        "lastError": lambda d, _: d.last_error,
        "createdAt": lambda d, _: _moment(d.created_at),
        "nextAttemptAt": lambda d, _: _moment(d.next_attempt_at),
        "sentAt": lambda d, _: _moment(d.sent_at),
        "failedAt": lambda d, _: _moment(d.failed_at),
    },
}


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
