"""/Users: list, search, create, read, replace, patch and delete an account's members."""

from __future__ import annotations

import re
from typing import Any

from scim2_models import Context, InvalidValueException, PatchOp

from tenantry.domain.errors import Conflict, ErrorCode
from tenantry.domain.users import is_valid_email
from tenantry.entrypoints.scim import filters
from tenantry.entrypoints.scim.answers import Answer
from tenantry.entrypoints.scim.calls import (
    POLICY,
    Call,
    Caller,
    body_object,
    page_bounds,
    response_parameters,
    search_request,
)
from tenantry.entrypoints.scim.schema import LIST_RESPONSE, UserModel
from tenantry.entrypoints.scim.views import user_resource, user_spec
from tenantry.services import provisioning
from tenantry.services.context import ServiceContext
from tenantry.services.member_query import UserQuery
from tenantry.services.provisioning_common import PreconditionFailed, check_version

PATCH_RETRIES = 3
_USER_NAME_PATH = re.compile(r"(urn:ietf:params:scim:schemas:core:2\.0:user:)?username", re.I)


def list_users(ctx: ServiceContext, caller: Caller, call: Call, *, from_body: bool) -> Answer:
    search = search_request(UserModel, call, from_body=from_body)
    offset, limit = page_bounds(search)
    resources, total = users_page(ctx, caller, search, offset, limit)
    return Answer(
        200,
        {
            "schemas": [LIST_RESPONSE],
            "totalResults": total,
            "startIndex": offset + 1,
            "itemsPerPage": len(resources),
            "Resources": resources,
        },
    )


def users_page(
    ctx: ServiceContext, caller: Caller, search: Any, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of the users a search selects, as it returns them, and how many it selects."""
    query = UserQuery(
        filter=filters.user_filter(search.filter.ast) if search.filter else None,
        sort=filters.user_sort(search.sort_by, search.sort_order),
        offset=offset,
        limit=limit,
    )
    page = provisioning.list_users(ctx, caller.actor, caller.account_id, query)
    resources = [
        user_resource(view, caller.base).model_dump(
            scim_ctx=Context.SEARCH_RESPONSE, response_parameters=search
        )
        for view in page.items
    ]
    return resources, page.total


def get_user(ctx: ServiceContext, caller: Caller, call: Call, user_id: str) -> Answer:
    view = provisioning.get_user(ctx, caller.actor, caller.account_id, user_id)
    if call.if_none_match and (view.etag in call.if_none_match or "*" in call.if_none_match):
        return Answer(304, None, {"ETag": view.etag})
    return _resource(view, caller, call, 200, Context.RESOURCE_QUERY_RESPONSE)


def create_user(ctx: ServiceContext, caller: Caller, call: Call) -> Answer:
    payload = body_object(call)
    spec = user_spec(_parse(payload), user_name=_user_name(payload))
    view = provisioning.create_user(ctx, caller.actor, caller.account_id, spec)
    return _resource(view, caller, call, 201, Context.RESOURCE_CREATION_RESPONSE)


def replace_user(ctx: ServiceContext, caller: Caller, call: Call, user_id: str) -> Answer:
    payload = body_object(call)
    spec = user_spec(_parse(payload), user_name=_user_name(payload))
    view = provisioning.replace_user(
        ctx, caller.actor, caller.account_id, user_id, spec, call.if_match
    )
    return _resource(view, caller, call, 200, Context.RESOURCE_REPLACEMENT_RESPONSE)


def patch_user(ctx: ServiceContext, caller: Caller, call: Call, user_id: str) -> Answer:
    """Apply the operations to the user as SCIM shows them (scim2-models' PATCH semantics),
    then bring the user to the result in one transaction. The transaction checks that the
    user is still as read; a concurrent change makes it read and apply again."""
    payload = body_object(call)
    user_name, operations = _split_user_name(payload)
    patch = (
        PatchOp[UserModel].model_validate(
            {**payload, "Operations": operations},
            scim_ctx=Context.RESOURCE_PATCH_REQUEST,
            scim_policy=POLICY,
        )
        if operations or user_name is None
        else None
    )
    for _ in range(PATCH_RETRIES):
        current = provisioning.get_user(ctx, caller.actor, caller.account_id, user_id)
        check_version(current.etag, call.if_match)
        resource = user_resource(current, caller.base)
        if patch is not None:
            patch.patch(resource, scim_policy=POLICY)
        spec = user_spec(resource, user_name=user_name)
        try:
            view = provisioning.replace_user(
                ctx, caller.actor, caller.account_id, user_id, spec, (current.etag,)
            )
        except PreconditionFailed:
            if call.if_match:
                raise
            continue
        return _resource(view, caller, call, 200, Context.RESOURCE_PATCH_RESPONSE)
    raise Conflict(ErrorCode.CONFLICT, "The user kept changing while this PATCH applied; retry.")


def delete_user(ctx: ServiceContext, caller: Caller, call: Call, user_id: str) -> Answer:
    provisioning.delete_user(ctx, caller.actor, caller.account_id, user_id, call.if_match)
    return Answer(204)


def _parse(payload: dict[str, Any]) -> Any:
    return UserModel.model_validate(payload, scim_ctx=Context.DEFAULT, scim_policy=POLICY)


def _resource(
    view: provisioning.ProvisionedUser, caller: Caller, call: Call, status: int, context: Context
) -> Answer:
    body = user_resource(view, caller.base).model_dump(
        scim_ctx=context, response_parameters=response_parameters(UserModel, call)
    )
    headers = {"ETag": view.etag}
    if status == 201:
        headers["Location"] = body["meta"]["location"]
    return Answer(status, body, headers)


def _user_name(payload: dict[str, Any]) -> str | None:
    """userName as sent: the service sets it (it is the e-mail address), but identity providers
    send the address there, and match users by it."""
    for key, value in payload.items():
        if key.lower() == "username" and isinstance(value, str):
            return value.strip()
    return None


def _split_user_name(payload: dict[str, Any]) -> tuple[str | None, list[Any]]:
    """Take the operations that set userName (Entra ID renames users that way) out of a PATCH:
    they change the e-mail address, which scim2-models would refuse on a readOnly attribute."""
    raw = next((v for k, v in payload.items() if k.lower() == "operations"), None)
    if not isinstance(raw, list):
        return None, raw if raw is not None else []
    user_name: str | None = None
    operations: list[Any] = []
    for operation in raw:
        if not isinstance(operation, dict):
            operations.append(operation)
            continue
        op = str(operation.get("op", "")).lower()
        path = operation.get("path")
        value = operation.get("value")
        if isinstance(path, str) and _USER_NAME_PATH.fullmatch(path.strip()):
            if op == "remove":
                raise InvalidValueException(detail="userName can't be removed.")
            user_name = _address(value)
            continue
        if path is None and isinstance(value, dict):
            rest = {k: v for k, v in value.items() if not _USER_NAME_PATH.fullmatch(k)}
            if len(rest) != len(value):
                user_name = _address(next(v for k, v in value.items() if k not in rest))
                if not rest:
                    continue
                operation = {**operation, "value": rest}
        operations.append(operation)
    return user_name, operations


def _address(value: Any) -> str:
    if not isinstance(value, str) or not is_valid_email(value.strip()):
        raise InvalidValueException(detail="userName is the user's e-mail address.")
    return value.strip()
