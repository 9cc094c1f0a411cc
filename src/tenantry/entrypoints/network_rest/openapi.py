"""The published OpenAPI document of the network integration (committed as
`docs/contracts/network-rest.openapi.json`; a test compares it with what is served)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from starlette.routing import BaseRoute

from tenantry.entrypoints.network_rest import schemas

TITLE = "tenantry network integration API (Invoca dialect)"
VERSION = "2019-05-01"
SCHEMAS = "#/components/schemas/{model}"

DESCRIPTION = """\
A network's own users and its advertisers with their users, as Invoca's network integration
documents them, under `/api/<version>/<network_id>/`.

**Versions and paths.** `<version>` is a `YYYY-MM-DD` API version, 2019-05-01 or later
(2019-05-01, 2020-10-01, 2022-03-01 and 2022-08-01 are the published ones); all are served
alike. The `.json` suffix is optional on every path (an id that itself ends in `.json` is
written with the suffix). `<network_id>` is the network's tenantry account id: a network is a
top-level partner account. Advertisers and users are named by the network's own ids for them
(`id_from_network`).

**Authentication.** An API token of the network (an API token whose account is the network, or
an access token of one of its API accounts), as `Authorization: <token>` (with or without
`Bearer`), as `?oauth_token=<token>`, or as an `oauth_token` key of the JSON body. A token
never reaches another network.

**Idempotent upserts.** POST creates the object, or updates it when it exists (201 when it
created, 200 when it updated); PUT also creates a missing object and answers 200; DELETE of a
missing object does nothing and answers 200 `{}`. Repeating a call changes nothing. An update
is a complete copy of the object: a user's optional fields left out take their defaults; an
advertiser's `sites` are replaced, and so are its `users` when given (`users` and
`custom_data` left out stay as they are). `{"users": [...]}` on `network` is the full set of
the network's users: every network-managed user not listed is removed from the network.

**Who can be changed.** Only users whose sign-in the network manages
(`can_login_via_platform` false); users created here are such users. Users who log in directly
are shown, are left alone by full replacements, may be listed exactly as shown, and otherwise
get a 403. Read-only fields (`can_login_via_platform`, `id`, `object_url`,
`web_integration_phone_number`, `default_creative_id_from_network`) are ignored on input.

**Errors.** 401 and 404 `{"errors": {"invalid_data": ..., "class": ...}}`; 403 for invalid
input, `{"errors": {"<field>": ["<message>"]}}`, nested like the input for users inside a
network or an advertiser (arrays aligned with the input's, `{}` for entries without problems);
413 `{"errors": {"invalid_data": ..., "class": "RequestEntityTooLarge"}}` for a body over the
server's limit; 503 (`"class": "ServiceUnavailable"`, with `Retry-After`) while the database
cannot be reached; 500 `{"errors": {"invalid_data": "refer to error handle <id>", "class":
"InternalServiceError"}}`, where `<id>` is also the answer's `X-Request-ID`.
"""

_ID = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[^/]*[^/.][^/]*$"}
PARAMETERS: dict[str, dict[str, Any]] = {
    "version": {
        "in": "path",
        "description": "API version: 2019-05-01 or later.",
        "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
        "example": "2019-05-01",
    },
    "network_id": {
        "in": "path",
        "description": "The network's account id.",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9]{8}$"},
    },
    "advertiser_id": {
        "in": "path",
        "description": "The network's id for the advertiser (`id_from_network`).",
        "schema": _ID,
    },
    "user_id": {
        "in": "path",
        "description": "The network's id for the user (`id_from_network`).",
        "schema": _ID,
    },
}
TOKEN_PARAMETER = {
    "name": "oauth_token",
    "in": "query",
    "required": False,
    "description": "The API token, when not sent in the Authorization header.",
    "schema": {"type": "string"},
}


@dataclass(frozen=True, slots=True)
class OperationDoc:
    operation_id: str
    summary: str
    ok: int
    model: type[BaseModel] | None  # what a success answers (None: a list of `item`)
    item: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    description: str | None = None
    not_found: bool = True


def route_options(doc: OperationDoc, path: str) -> dict[str, Any]:
    """Keyword arguments of `add_api_route` for an operation's documentation."""
    path_names = re.findall(r"{(\w+)}", path)
    parameters = [{"name": n, "required": True, **PARAMETERS[n]} for n in path_names]
    extra: dict[str, Any] = {"parameters": [*parameters, TOKEN_PARAMETER]}
    if doc.body is not None:
        extra["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": _ref(doc.body)}}},
        }
    ok: dict[str, Any] = {"description": "Done."}
    if doc.model is not None:
        ok["model"] = doc.model
    else:
        ok["content"] = {
            "application/json": {"schema": {"type": "array", "items": {"$ref": _ref(doc.item)}}}
        }
    responses: dict[int | str, Any] = {
        doc.ok: ok,
        401: {"model": schemas.Error, "description": "Missing or bad token, or not allowed."},
        403: {"model": schemas.ValidationErrors, "description": "Invalid input."},
        404: {
            "model": schemas.Error,
            "description": "Unknown version, network"
            + (", advertiser or user." if doc.not_found else "."),
        },
        500: {"model": schemas.Error, "description": "Failed; see the error handle."},
    }
    if doc.ok == 201:
        responses[200] = {**ok, "description": "Updated."}
        ok["description"] = "Created."
    return {
        "operation_id": doc.operation_id,
        "summary": doc.summary,
        "description": doc.description,
        "status_code": doc.ok,
        "responses": responses,
        "openapi_extra": extra,
    }


def _ref(model: type[BaseModel] | None) -> str:
    assert model is not None
    return SCHEMAS.format(model=model.__name__)


GET_NETWORK = OperationDoc("get-network", "Read the network and its users", 200, schemas.Network)
POST_NETWORK = OperationDoc(
    "post-network",
    "Replace the network's users (answers 201)",
    201,
    schemas.Network,
    body=schemas.NetworkInput,
    description="The same as PUT, answering 201.",
)
PUT_NETWORK = OperationDoc(
    "put-network",
    "Replace the network's users",
    200,
    schemas.Network,
    body=schemas.NetworkInput,
    description="Adds and updates the listed users and removes every other network-managed "
    "user from the network, in one transaction, writing only what changes.",
)
LIST_ADVERTISERS = OperationDoc(
    "get-advertisers", "Read all advertisers", 200, None, item=schemas.Advertiser
)
POST_ADVERTISER = OperationDoc(
    "post-advertiser",
    "Create or update an advertiser",
    201,
    schemas.Advertiser,
    body=schemas.AdvertiserInput,
)
GET_ADVERTISER = OperationDoc("get-advertiser", "Read an advertiser", 200, schemas.Advertiser)
POST_ADVERTISER_AT = OperationDoc(
    "post-advertiser-at",
    "Create or update the advertiser of this id",
    201,
    schemas.Advertiser,
    body=schemas.AdvertiserInput,
    description="The body's `id_from_network`, when given, takes precedence over the URL's.",
)
PUT_ADVERTISER = OperationDoc(
    "put-advertiser",
    "Update (or create) an advertiser",
    200,
    schemas.Advertiser,
    body=schemas.AdvertiserInput,
    description="The body's `id_from_network`, when given, takes precedence over the URL's.",
)
DELETE_ADVERTISER = OperationDoc(
    "delete-advertiser",
    "Delete an advertiser",
    200,
    schemas.Deleted,
    description="Deletes the advertiser and the network-managed users who belong to no "
    "other account. A missing advertiser: nothing happens, 200 `{}`.",
)
LIST_USERS = OperationDoc(
    "get-advertiser-users", "Read an advertiser's users", 200, None, item=schemas.User
)
POST_USER = OperationDoc(
    "post-advertiser-users",
    "Create or update an advertiser's user",
    201,
    schemas.User,
    body=schemas.UserBody,
)
GET_USER = OperationDoc("get-advertiser-user", "Read an advertiser's user", 200, schemas.User)
PUT_USER = OperationDoc(
    "put-advertiser-user",
    "Update (or create) an advertiser's user",
    200,
    schemas.User,
    body=schemas.UserBody,
    description="The body's `id_from_network`, when given, takes precedence over the URL's.",
)
DELETE_USER = OperationDoc(
    "delete-advertiser-user",
    "Remove a user from an advertiser",
    200,
    schemas.Deleted,
    description="A user removed from their last account is deleted. A user who is not in "
    "the advertiser: nothing happens, 200 `{}`.",
)

_INPUT_MODELS = (schemas.NetworkInput, schemas.AdvertiserInput, schemas.UserBody)


def openapi_document(routes: Sequence[BaseRoute]) -> dict[str, Any]:
    document = get_openapi(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        routes=routes,
        separate_input_output_schemas=False,
    )
    components = document.setdefault("components", {}).setdefault("schemas", {})
    for model in _INPUT_MODELS:
        schema = model.model_json_schema(ref_template=SCHEMAS, by_alias=True)
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    document["components"]["securitySchemes"] = {
        "tokenHeader": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`<token>` or `Bearer <token>`.",
        },
        "tokenQuery": {"type": "apiKey", "in": "query", "name": "oauth_token"},
    }
    document["security"] = [{"tokenHeader": []}, {"tokenQuery": []}]
    return document


def render(document: dict[str, Any]) -> str:
    """The document as committed: indented, keys in the served order, ending with a newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
