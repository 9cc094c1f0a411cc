"""`POST /.search` at the root: users and groups in one result, users first.

The filter applies to each resource type as far as it can: one naming an attribute users can't
be filtered on selects no user, and groups match through scim2-models' evaluation, where an
attribute groups lack matches nothing. `sortBy` orders each type's results within its part.
"""

from __future__ import annotations

from typing import Any

from scim2_models import Context, InvalidFilterException

from tenantry.entrypoints.scim import filters
from tenantry.entrypoints.scim.answers import Answer
from tenantry.entrypoints.scim.calls import Call, Caller, page_bounds, search_request
from tenantry.entrypoints.scim.groups import matching_groups, shown
from tenantry.entrypoints.scim.schema import LIST_RESPONSE, Group, UserModel
from tenantry.entrypoints.scim.users import users_page
from tenantry.services.context import ServiceContext


def search_everything(ctx: ServiceContext, caller: Caller, call: Call) -> Answer:
    search = search_request(UserModel | Group, call, from_body=True)
    offset, limit = page_bounds(search)
    users: list[dict[str, Any]] = []
    user_total = 0
    if _applies_to_users(search):
        users, user_total = users_page(ctx, caller, search, offset, limit)
    groups, crowded = matching_groups(ctx, caller, search)
    start = max(0, offset - user_total)
    page = users + [
        g.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=search)
        for g in shown(groups[start : start + limit - len(users)], crowded, search)
    ]
    return Answer(
        200,
        {
            "schemas": [LIST_RESPONSE],
            "totalResults": user_total + len(groups),
            "startIndex": offset + 1,
            "itemsPerPage": len(page),
            "Resources": page,
        },
    )


def _applies_to_users(search: Any) -> bool:
    try:
        if search.filter is not None:
            filters.user_filter(search.filter.ast)
        if search.sort_by is not None:
            filters.attribute(str(search.sort_by))
    except InvalidFilterException:
        return False
    return True
