"""The published OpenAPI document of the bulk user-management API (committed as
`docs/contracts/bulk-rest.openapi.json`; a test compares it with what is served)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from starlette.routing import BaseRoute

from tenantry.entrypoints.bulk_rest import schemas
from tenantry.settings import Settings

TITLE = "tenantry user management API (AppsFlyer dialect)"
VERSION = "1.0"
SCHEMAS = "#/components/schemas/{model}"
RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": "Calls allowed per UTC day.",
    "X-RateLimit-Remaining": "Calls left today.",
    "X-RateLimit-Reset": "When the quota resets: epoch seconds of the next 00:00 UTC.",
}

DESCRIPTION = """\
Bulk user management for an account's admins, as AppsFlyer's user management API documents
it: get, add and delete users, and get roles.

**Authentication.** `Authorization: Bearer <API token>`. The token names the account; it must
act as an admin of that account (one who manages users and admins), or be an access token of
one of the account's API accounts.

**Daily quota.** {quota} calls per account per UTC day, the four operations together, reset at
00:00 UTC. Every answer to an authenticated call carries `X-RateLimit-Limit`,
`X-RateLimit-Remaining` and `X-RateLimit-Reset` (epoch seconds of the next 00:00 UTC). Over the
quota: 400 `{{"message": ...}}`.

**Errors.** `{{"message": ...}}`: 400 bad input or limit exceeded, 401 missing or bad
credentials or not an account admin, 422 input understood but refused (with `errors` per user
or e-mail), 404/405 for unknown paths or methods, 413 for a body over {body_limit} bytes, 503
with `Retry-After` while the database cannot be reached, 500 "Something went wrong. Your
request couldn\u2019t be completed." (the change is rolled back).

**Adding** takes at most {per_call} users a call. Each user is added or refused on its own:
200 `{{"data", "errors"}}` when at least one was added, else 422 `{{"message", "errors"}}`.

**Deleting** is all or nothing: 204, or 422 with an error per refused e-mail and nothing
deleted. No e-mail at all: 400 "Invalid input".

**Reading users**: every member by default; pass `page_size` (1 to 1000) and then each answer's
`next_cursor` as `cursor` to read a large account a page at a time.
"""


def _responses(*codes: int, ok: type[BaseModel] | None = None) -> dict[int | str, Any]:
    limits = {name: {"$ref": f"#/components/headers/{name}"} for name in RATE_LIMIT_HEADERS}
    meaning = {
        200: "Done.",
        204: "Deleted.",
        400: "Bad input, or the daily quota or a limit was exceeded.",
        401: "Missing or bad credentials, or not an admin of the account.",
        413: "The body is too large.",
        422: "Refused.",
    }
    responses: dict[int | str, Any] = {}
    for code in codes:
        entry: dict[str, Any] = {"description": meaning[code], "headers": limits}
        if code == 200 and ok is not None:
            entry["model"] = ok
        elif code == 422:
            entry["model"] = schemas.Rejected
        elif code != 204:
            entry["model"] = schemas.Message
        responses[code] = entry
    return responses


GET_USERS: dict[str, Any] = {
    "operation_id": "bulk-users-get",
    "summary": "Get users",
    "responses": _responses(200, 400, 401, ok=schemas.UsersPage),
    "openapi_extra": {
        "parameters": [
            {
                "name": "page_size",
                "in": "query",
                "required": False,
                "description": "Users per page (1 to 1000). Without it and `cursor`, all "
                "users in one answer.",
                "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
            },
            {
                "name": "cursor",
                "in": "query",
                "required": False,
                "description": "The `next_cursor` of the previous page.",
                "schema": {"type": "string"},
            },
        ]
    },
}

GET_ROLES: dict[str, Any] = {
    "operation_id": "roles-get",
    "summary": "Get roles",
    "responses": _responses(200, 400, 401, ok=schemas.RolesPage),
}

DELETE_USERS: dict[str, Any] = {
    "operation_id": "bulk-users-delete",
    "summary": "Delete users",
    "description": "`emails`: the e-mail addresses of the users to delete, separated by commas.",
    "status_code": 204,
    "responses": _responses(204, 400, 401, 422),
}


def post_users(settings: Settings) -> dict[str, Any]:
    return {
        "operation_id": "bulk-users-post",
        "summary": "Add users",
        "responses": _responses(200, 400, 401, 413, 422, ok=schemas.AddResult),
        "openapi_extra": {
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "array",
                            "maxItems": settings.member_batch_max_items,
                            "items": {"$ref": SCHEMAS.format(model="NewUser")},
                        }
                    }
                },
            }
        },
    }


def openapi_document(routes: Sequence[BaseRoute], settings: Settings) -> dict[str, Any]:
    document = get_openapi(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION.format(
            quota=settings.member_batch_calls_per_day,
            per_call=settings.member_batch_max_items,
            body_limit=settings.max_body_bytes,
        ),
        routes=routes,
        separate_input_output_schemas=False,
    )
    components = document.setdefault("components", {})
    components.setdefault("schemas", {})["NewUser"] = schemas.NewUser.model_json_schema(
        ref_template=SCHEMAS
    )
    components["headers"] = {
        name: {"description": text, "schema": {"type": "integer"}}
        for name, text in RATE_LIMIT_HEADERS.items()
    }
    components["securitySchemes"] = {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "A tenantry API token acting as an admin of the account, or an "
            "access token of one of the account's API accounts.",
        }
    }
    document["security"] = [{"bearerAuth": []}]
    return document


def render(document: dict[str, Any]) -> str:
    """The document as committed: indented, keys in the served order, ending with a newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
