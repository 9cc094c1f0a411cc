"""Serving a SCIM call: authenticate the bearer token, route, and turn every refusal into a
SCIM Error (`errors`; what no one expected, the face's handlers answer). The discovery
endpoints answer without credentials; everything else acts in the account the token belongs
to, and only there."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError
from scim2_models import Context, SCIMException

from tenantry.domain.errors import DomainError, ErrorCode, Forbidden
from tenantry.entrypoints.scim import bulk, errors, groups, users
from tenantry.entrypoints.scim.answers import Answer
from tenantry.entrypoints.scim.calls import Call, Caller, refuse_escaped_controls
from tenantry.entrypoints.scim.schema import (
    BULK_MAX_PAYLOAD,
    LIST_RESPONSE,
    PATCH_MAX_OPERATIONS,
    Meta,
    resource_types,
    schemas,
    service_provider_config,
)
from tenantry.entrypoints.scim.search import search_everything
from tenantry.services.context import Actor, ServiceContext

FACE = "scim"
NO_BEARER = "Send `Authorization: Bearer <token>` with an API token of the account."


class _Listing(Protocol):
    def __call__(
        self, ctx: ServiceContext, caller: Caller, call: Call, *, from_body: bool
    ) -> Answer: ...


OneHandler = Callable[[ServiceContext, Caller, Call, str], Answer]


@dataclass(frozen=True, slots=True)
class _Handlers:
    listing: _Listing
    create: Callable[[ServiceContext, Caller, Call], Answer]
    one: dict[str, OneHandler]


_RESOURCES = {
    "Users": _Handlers(
        users.list_users,
        users.create_user,
        {
            "GET": users.get_user,
            "PUT": users.replace_user,
            "PATCH": users.patch_user,
            "DELETE": users.delete_user,
        },
    ),
    "Groups": _Handlers(
        groups.list_groups,
        groups.create_group,
        {
            "GET": groups.get_group,
            "PUT": groups.replace_group,
            "PATCH": groups.patch_group,
            "DELETE": groups.delete_group,
        },
    ),
}


class ScimService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        # The face refuses any body above max_body_bytes (413) before this sees it.
        self.max_payload = min(BULK_MAX_PAYLOAD, ctx.settings.max_body_bytes)

    def serve(self, call: Call, *, authenticate: Callable[[], Actor], base: str) -> Answer:
        """Answer `call`; `authenticate` tells who calls (discovery needs no credentials)."""
        try:
            parts = call.parts
            if parts and parts[0] in ("ServiceProviderConfig", "ResourceTypes", "Schemas"):
                return self._discovery(call, base)
            actor = authenticate()
            if actor.home_account_id is None:
                raise Forbidden(ErrorCode.FORBIDDEN, "This credential belongs to no account.")
            caller = Caller(actor, actor.home_account_id, base)
            if parts == ["Bulk"]:
                if call.method != "POST":
                    return errors.method_not_allowed("POST")
                return bulk.run(call, lambda one: self.handle(caller, one))
            return self._route(caller, call)
        except DomainError as problem:
            return errors.from_domain(problem)
        except SCIMException as problem:
            return errors.from_scim(problem)
        except ValidationError as problem:
            return errors.from_validation(problem)

    def handle(self, caller: Caller, call: Call) -> Answer:
        """One call, its refusals as SCIM errors (a Bulk operation's answer)."""
        try:
            return self._route(caller, call)
        except DomainError as problem:
            return errors.from_domain(problem)
        except SCIMException as problem:
            return errors.from_scim(problem)
        except ValidationError as problem:
            return errors.from_validation(problem)

    def _route(self, caller: Caller, call: Call) -> Answer:
        # Values quoted inside filters and PATCH paths, which the server's check cannot see.
        refuse_escaped_controls(call)
        parts, method = call.parts, call.method
        if parts == [".search"]:
            if method == "POST":
                return search_everything(self.ctx, caller, call)
            return errors.method_not_allowed("POST")
        if not parts or parts[0] not in _RESOURCES or len(parts) > 2:
            return errors.not_found()
        handlers = _RESOURCES[parts[0]]
        if len(parts) == 1:
            if method == "GET":
                return handlers.listing(self.ctx, caller, call, from_body=False)
            if method == "POST":
                return handlers.create(self.ctx, caller, call)
            return errors.method_not_allowed("GET, POST")
        if parts[1] == ".search":
            if method == "POST":
                return handlers.listing(self.ctx, caller, call, from_body=True)
            return errors.method_not_allowed("POST")
        one = handlers.one.get(method)
        if one is None:
            return errors.method_not_allowed("GET, PUT, PATCH, DELETE")
        if method == "PATCH" and _operation_count(call) > PATCH_MAX_OPERATIONS:
            return errors.error(
                400,
                f"A PATCH carries at most {PATCH_MAX_OPERATIONS:,} operations: send several.",
                errors.TOO_MANY,
            )
        return one(self.ctx, caller, call, parts[1])

    def _discovery(self, call: Call, base: str) -> Answer:
        if call.method != "GET":
            return errors.method_not_allowed("GET")
        parts = call.parts
        if parts == ["ServiceProviderConfig"]:
            config = service_provider_config(self.max_payload)
            config.meta = Meta(
                resource_type="ServiceProviderConfig", location=f"{base}/ServiceProviderConfig"
            )
            return Answer(200, config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
        described: list[Any]
        if parts[0] == "ResourceTypes":
            described = resource_types()
            kind = "ResourceType"
        else:
            described = schemas()
            kind = "Schema"
        for item in described:
            item.meta = Meta(resource_type=kind, location=f"{base}/{parts[0]}/{item.id}")
        if len(parts) == 1:
            listing = {
                "schemas": [LIST_RESPONSE],
                "totalResults": len(described),
                "startIndex": 1,
                "itemsPerPage": len(described),
                "Resources": [
                    item.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE) for item in described
                ],
            }
            return Answer(200, listing)
        found = [item for item in described if len(parts) == 2 and item.id == parts[1]]
        if not found:
            return errors.not_found(f"There is no {kind} {'/'.join(parts[1:])}.")
        return Answer(200, found[0].model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))


def _operation_count(call: Call) -> int:
    """How many operations a PATCH body lists, counted before any of them is read."""
    operations = call.body.get("Operations") if isinstance(call.body, dict) else None
    return len(operations) if isinstance(operations, list) else 0
