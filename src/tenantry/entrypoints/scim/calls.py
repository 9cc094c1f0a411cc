"""A SCIM call as the handlers see it, from HTTP or from one operation of a /Bulk request, and
what every handler shares: the lenient reading identity providers need, and parsing queries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scim2_models import (
    Context,
    InvalidSyntaxException,
    InvalidValueException,
    ResponseParameters,
    ScimPolicy,
    SearchRequest,
)

from tenantry.entrypoints.http import control_characters
from tenantry.entrypoints.scim.schema import DEFAULT_COUNT, MAX_RESULTS
from tenantry.services.context import Actor

# Entra ID and Okta send attributes tenantry does not keep (titles, phone numbers...): they are
# ignored, as are `primary` flags. Entra also sends `remove` operations whose `value` selects
# what to remove, and `replace` on `emails[type eq "work"].value` before any such entry exists.
POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)
_SEARCH_KEYS = ("filter", "sortBy", "sortOrder", "startIndex", "count")
_RESPONSE_KEYS = ("attributes", "excludedAttributes")


@dataclass(slots=True)
class Call:
    method: str
    path: str
    """Below the SCIM prefix: `/Users/2819c223`."""
    query: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    """The decoded JSON body, or None."""
    if_match: tuple[str, ...] | None = None
    if_none_match: tuple[str, ...] | None = None

    @property
    def parts(self) -> list[str]:
        return [part for part in self.path.split("/") if part]


@dataclass(slots=True)
class Caller:
    actor: Actor
    account_id: str
    base: str
    """The absolute URL of the SCIM prefix, for locations."""


def entity_tags(header: str | None) -> tuple[str, ...] | None:
    if header is None:
        return None
    return tuple(tag.strip() for tag in header.split(",") if tag.strip())


def body_object(call: Call) -> dict[str, Any]:
    if not isinstance(call.body, dict):
        raise InvalidSyntaxException(detail="The body must be a JSON object.")
    return call.body


def refuse_escaped_controls(call: Call) -> None:
    """Filters and PATCH paths quote values in JSON's string syntax inside text: `userName eq
    "a\\u0000"` is text to the server's check of the request, and NUL once parsed (a value a
    filter compares in SQL, or one a PATCH path's filter creates). Their escapes are checked
    here, in the filter of a list or search and in the paths of a PATCH (a /Bulk operation's
    too)."""
    for expression in _expressions(call):
        found = control_characters.in_json(expression.encode())
        if found is not None:
            raise InvalidValueException(detail=control_characters.describe(found))


def _expressions(call: Call) -> list[str]:
    body = call.body if isinstance(call.body, dict) else {}
    candidates = [call.query.get("filter"), body.get("filter")]
    operations = body.get("Operations")
    if isinstance(operations, list):
        candidates += [op.get("path") for op in operations if isinstance(op, dict)]
    return [text for text in candidates if isinstance(text, str)]


def search_request(model: Any, call: Call, *, from_body: bool) -> Any:
    """The query of a list (GET parameters) or a search (POST /.search body)."""
    if from_body:
        source = body_object(call)
        payload = {k: v for k, v in source.items() if k not in ("schemas",)}
    else:
        payload = {k: call.query[k] for k in (*_SEARCH_KEYS, *_RESPONSE_KEYS) if k in call.query}
    request = SearchRequest[model].model_validate(
        payload, scim_ctx=Context.SEARCH_REQUEST, scim_policy=POLICY
    )
    return request


def response_parameters(model: Any, call: Call) -> Any:
    payload = {k: call.query[k] for k in _RESPONSE_KEYS if k in call.query}
    return ResponseParameters[model].model_validate(payload)


MAX_START_INDEX = 2**31


def page_bounds(search: Any) -> tuple[int, int]:
    """(offset from 0, page size) of a search, the size capped at maxResults."""
    # Past any real directory's size the page is empty; capped so the offset fits SQL's
    # integers (a 20-digit startIndex was a 500).
    start = min(search.start_index or 1, MAX_START_INDEX)
    count = DEFAULT_COUNT if search.count is None else search.count
    return start - 1, min(count, MAX_RESULTS)


def wants(search: Any, attribute: str) -> bool:
    """Whether a response will carry `attribute` (a `returned: default` one)."""
    named = {str(p).lower() for p in search.attributes or []}
    excluded = {str(p).lower() for p in search.excluded_attributes or []}
    attribute = attribute.lower()
    if named:
        return any(n == attribute or n.startswith(attribute + ".") for n in named)
    return attribute not in excluded
