"""/Groups: the account's roles, with the users holding each as members.

A PATCH is read operation by operation into edits of the group's members, which the core applies
to the members as they are, in the one transaction that writes the result (so adding one member
to a group of thousands touches one membership); paths name `displayName`, `members`, or
`members[value eq "..."]` (joined with `or` for several). `externalId` is not kept and is
ignored wherever it is sent.
"""

from __future__ import annotations

from typing import Any

from scim2_models import (
    Context,
    InvalidPathException,
    InvalidValueException,
    NoTargetException,
    PatchOp,
)
from scim2_models.path import (
    AttrPath,
    CompareOperator,
    Comparison,
    FilterNode,
    LogicalExpr,
    LogicalOperator,
    ValuePath,
)

from tenantry.entrypoints.scim.answers import Answer
from tenantry.entrypoints.scim.calls import (
    POLICY,
    Call,
    Caller,
    body_object,
    page_bounds,
    response_parameters,
    search_request,
    wants,
)
from tenantry.entrypoints.scim.schema import LIST_RESPONSE, Group
from tenantry.entrypoints.scim.views import group_resource
from tenantry.services import provisioning_groups
from tenantry.services.context import ServiceContext
from tenantry.services.provisioning_groups import EditAction, MemberChanges, MemberEdit, RoleGroup


def list_groups(ctx: ServiceContext, caller: Caller, call: Call, *, from_body: bool) -> Answer:
    search = search_request(Group, call, from_body=from_body)
    offset, limit = page_bounds(search)
    selected, crowded = matching_groups(ctx, caller, search)
    page = shown(selected[offset : offset + limit], crowded, search)
    return Answer(
        200,
        {
            "schemas": [LIST_RESPONSE],
            "totalResults": len(selected),
            "startIndex": offset + 1,
            "itemsPerPage": len(page),
            "Resources": [
                r.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=search)
                for r in page
            ],
        },
    )


def matching_groups(
    ctx: ServiceContext, caller: Caller, search: Any
) -> tuple[list[Group], frozenset[str]]:
    """The groups a search selects, in its order, and the ids of those with too many members
    to show (`shown`). Roles are few per account: they are filtered and sorted here, with
    scim2-models' evaluation of the filter on each group."""
    uses_members = any(
        "members" in str(part).lower() for part in (search.filter, search.sort_by) if part
    )
    groups = provisioning_groups.list_groups(
        ctx, caller.actor, caller.account_id, with_members=uses_members or wants(search, "members")
    )
    crowded = frozenset(group.role.key for group in groups if group.crowded)
    if uses_members and crowded:  # the members a filter or an order needs are not there
        raise provisioning_groups.too_many_members(min(crowded))
    resources = [group_resource(group, caller.base) for group in groups]
    if search.filter is not None:
        resources = [r for r in resources if search.filter.match(r)]
    if search.sort_by is not None:
        path = search.sort_by
        resources.sort(key=lambda r: _sort_key(path.get(r, strict=False)))
        if str(search.sort_order or "").lower() == "descending":
            resources.reverse()
    return resources, crowded


def shown(page: list[Group], crowded: frozenset[str], search: Any) -> list[Group]:
    """`page`, unless it would show a group of too many members with its members."""
    if wants(search, "members"):
        for resource in page:
            if resource.id in crowded:
                raise provisioning_groups.too_many_members(resource.id)
    return page


def get_group(ctx: ServiceContext, caller: Caller, call: Call, key: str) -> Answer:
    parameters = response_parameters(Group, call)
    group = provisioning_groups.get_group(
        ctx, caller.actor, caller.account_id, key, with_members=wants(parameters, "members")
    )
    if call.if_none_match and group.etag and group.etag in call.if_none_match:
        return Answer(304, None, {"ETag": group.etag})
    return _resource(group, caller, call, 200, Context.RESOURCE_QUERY_RESPONSE)


def create_group(ctx: ServiceContext, caller: Caller, call: Call) -> Answer:
    resource = _parse(body_object(call))
    group = provisioning_groups.create_group(
        ctx, caller.actor, caller.account_id, _display_name(resource), _member_ids(resource)
    )
    return _resource(group, caller, call, 201, Context.RESOURCE_CREATION_RESPONSE)


def replace_group(ctx: ServiceContext, caller: Caller, call: Call, key: str) -> Answer:
    resource = _parse(body_object(call))
    group = provisioning_groups.update_group(
        ctx,
        caller.actor,
        caller.account_id,
        key,
        display_name=_display_name(resource),
        changes=MemberChanges(members=_member_ids(resource)),
        if_match=call.if_match,
    )
    return _resource(group, caller, call, 200, Context.RESOURCE_REPLACEMENT_RESPONSE)


def patch_group(ctx: ServiceContext, caller: Caller, call: Call, key: str) -> Answer:
    patch = PatchOp[Group].model_validate(
        body_object(call), scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY
    )
    edits: list[MemberEdit] = []
    display_name: str | None = None
    for operation in patch.operations or []:
        display_name = _read(operation, edits) or display_name
    group = provisioning_groups.edit_group(
        ctx,
        caller.actor,
        caller.account_id,
        key,
        edits,
        display_name=display_name,
        if_match=call.if_match,
    )
    return _resource(group, caller, call, 200, Context.RESOURCE_PATCH_RESPONSE)


def delete_group(ctx: ServiceContext, caller: Caller, call: Call, key: str) -> Answer:
    provisioning_groups.delete_group(ctx, caller.actor, caller.account_id, key, call.if_match)
    return Answer(204)


# -- reading requests --------------------------------------------------------------------------


def _parse(payload: dict[str, Any]) -> Group:
    return Group.model_validate(payload, scim_ctx=Context.DEFAULT, scim_policy=POLICY)


def _display_name(resource: Group) -> str:
    if not resource.display_name:
        raise InvalidValueException(detail="A group needs a displayName.")
    return resource.display_name


def _member_ids(resource: Group) -> list[str]:
    return [member.value for member in resource.members or [] if member.value]


def _read(operation: Any, edits: list[MemberEdit]) -> str | None:
    """Read one operation: the member edits it makes, and the new displayName it sets."""
    op = operation.op.value
    node = operation.path.ast if operation.path is not None else None
    if node is None:
        if not isinstance(operation.value, dict):
            raise InvalidValueException(detail="An operation without a path takes an object.")
        name = None
        for attribute, value in operation.value.items():
            name = _read_attribute(op, attribute, value, edits) or name
        return name
    if isinstance(node, AttrPath) and node.sub_attr is None:
        return _read_attribute(op, node.attr, operation.value, edits)
    if isinstance(node, ValuePath) and node.attr_path.attr.lower() == "members":
        if op != "remove" or node.sub_attr:
            raise NoTargetException(
                detail="Members are added or replaced as a whole; a filter only selects "
                "members to remove."
            )
        edits.append(MemberEdit(EditAction.REMOVE, sorted(_selected_ids(node.val_filter))))
        return None
    raise InvalidPathException(detail=f"{operation.path} can't be changed on a group.")


def _read_attribute(op: str, attribute: str, value: Any, edits: list[MemberEdit]) -> str | None:
    name = attribute.lower().removeprefix("urn:ietf:params:scim:schemas:core:2.0:group:")
    if name == "externalid":
        return None
    if name == "displayname":
        if op == "remove" or not isinstance(value, str):
            raise InvalidValueException(detail="A group needs a displayName.")
        return value
    if name != "members":
        raise InvalidPathException(detail=f"{attribute} can't be changed on a group.")
    if op == "remove" and value is None:
        edits.append(MemberEdit(EditAction.REMOVE))
    else:
        edits.append(MemberEdit(EditAction(op), _values(value)))
    return None


def _values(value: Any) -> list[str]:
    entries = value if isinstance(value, list) else [] if value is None else [value]
    ids = []
    for entry in entries:
        member = entry.get("value") if isinstance(entry, dict) else None
        if not isinstance(member, str) or not member:
            raise InvalidValueException(detail='Members are given as {"value": "<user id>"}.')
        ids.append(member)
    return ids


def _selected_ids(node: FilterNode) -> set[str]:
    """The ids a `members[...]` filter names: `value eq "id"`, joined with `or`."""
    if isinstance(node, LogicalExpr) and node.op is LogicalOperator.or_:
        return set().union(*(_selected_ids(term) for term in node.terms))
    if (
        isinstance(node, Comparison)
        and node.op is CompareOperator.eq
        and node.attr_path.attr.lower() == "value"
        and isinstance(node.value, str)
    ):
        return {node.value}
    raise InvalidPathException(detail=f'Select members with value eq "<user id>", not {node}.')


def _sort_key(value: Any) -> tuple[bool, str]:
    text = "" if value is None else str(value).lower()
    return (value is None, text)


def _resource(
    group: RoleGroup, caller: Caller, call: Call, status: int, context: Context
) -> Answer:
    body = group_resource(group, caller.base).model_dump(
        scim_ctx=context, response_parameters=response_parameters(Group, call)
    )
    headers = {"ETag": group.etag} if group.etag else {}
    if status == 201:
        headers["Location"] = body["meta"]["location"]
    return Answer(status, body, headers)
