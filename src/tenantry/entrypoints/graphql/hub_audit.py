"""/hub/graphql/'s `auditEvents`: an account's audit trail, newest first, a page at a time,
over the same service (and so the same rule on who reads it) as the console's audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from graphql import GraphQLResolveInfo

from tenantry.domain.audit import AuditEvent
from tenantry.domain.errors import ErrorCode, InvalidInput
from tenantry.domain.ids import is_account_id
from tenantry.entrypoints.audit_export import parse_moment
from tenantry.services import audit

MAX_FIRST = audit.MAX_PAGE
MAX_FILTER_CHARS = 254
MAX_CURSOR_DIGITS = 18


def resolve_audit_events(
    _: Any,
    info: GraphQLResolveInfo[Any],
    tenantId: str | None = None,
    filter: dict[str, Any] | None = None,
    first: int = 50,
    after: str | None = None,
) -> dict[str, Any]:
    if not 1 <= first <= MAX_FIRST:
        raise _invalid(f"`first` must be between 1 and {MAX_FIRST}.", "first")
    request = info.context  # hub.HubRequest
    account_id = _tenant(tenantId) if tenantId else request.loaders.host_account_id()
    wanted = filter or {}
    found = audit.list_audit_events(
        request.ctx,
        request.actor,
        account_id,
        action=_text(wanted, "action"),
        actor_id=_text(wanted, "actorId"),
        target_id=_text(wanted, "targetId"),
        face=_text(wanted, "face"),
        since=_moment(wanted, "since"),
        until=_moment(wanted, "until"),
        limit=first + 1,
        before_id=_cursor(after),
    )
    page = found[:first]
    more = len(found) > first
    return {
        "nodes": [event_view(e) for e in page],
        "hasNextPage": more,
        "endCursor": str(page[-1].id) if more else None,
    }


def event_view(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": str(event.id),
        "at": event.at.isoformat() if event.at is not None else None,
        "tenantId": event.account_id,
        "action": event.action,
        "face": event.face,
        "requestId": event.request_id,
        "actor": {
            "kind": event.actor_kind,
            "id": event.actor_id,
            "label": event.actor_label,
            "userId": event.actor_user_id,
            "mintedBy": event.actor_minted_by,
        },
        "targetType": event.target_type,
        "targetId": event.target_id,
        "before": event.before,
        "after": event.after,
    }


def _tenant(tenant_id: str) -> str:
    if not is_account_id(tenant_id):
        raise _invalid("Invalid tenantId.", "tenantId")
    return tenant_id


def _text(filters: dict[str, Any], name: str) -> str | None:
    value = filters.get(name)
    if value is None:
        return None
    if len(value) > MAX_FILTER_CHARS:
        raise _invalid(f"`{name}` is longer than {MAX_FILTER_CHARS} characters.", name)
    return str(value)


def _moment(filters: dict[str, Any], name: str) -> datetime | None:
    value = filters.get(name)
    if value is None:
        return None
    try:
        return parse_moment(value)
    except ValueError:
        raise _invalid(
            f"`{name}` must be an ISO 8601 date or date and time, such as 2024-05-31T12:00:00Z.",
            name,
        ) from None


def _cursor(after: str | None) -> int | None:
    if after is None:
        return None
    if not (after.isascii() and after.isdigit()) or len(after) > MAX_CURSOR_DIGITS:
        raise _invalid("`after` must be an `endCursor` this query returned.", "after")
    return int(after)


def _invalid(message: str, field: str) -> InvalidInput:
    return InvalidInput(ErrorCode.INVALID_INPUT, message, field=field)
