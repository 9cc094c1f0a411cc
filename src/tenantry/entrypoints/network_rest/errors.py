"""How errors read in the network integration's dialect, in one place.

401  {"errors": {"invalid_data": "<why>", "class": "Unauthorized"}}
     missing, invalid or foreign credentials, or a role that does not allow the call
403  {"errors": {"<field>": ["<message>", ...]}}
     invalid input; nested where the input is: {"errors": {"users": [{}, {"email_settings":
     [{"email_address": ["is invalid"]}]}]}}, lists aligned with the input's, `{}` for
     entries without problems; problems about no field are under "base"; refusing to
     change a user who logs in directly is one of these, and so is a control character
     in the request, or an Idempotency-Key that is not one (under "base")
404  {"errors": {"invalid_data": "Could not find ...", "class": "RecordNotFound"}}
409  {"errors": {"invalid_data": "<why>", "class": "Conflict"}}
     the Idempotency-Key is held by the same request, still running
422  {"errors": {"invalid_data": "<why>", "class": "UnprocessableEntity"}}
     the Idempotency-Key was used for another request
413  {"errors": {"invalid_data": "request body is larger than ...", "class":
     "RequestEntityTooLarge"}}
500  {"errors": {"invalid_data": "refer to error handle <id>", "class":
     "InternalServiceError"}}; the handle is the request id (X-Request-ID), and the log
     line with the same request id says what failed; no traceback is ever sent
503  {"errors": {"invalid_data": "The database cannot be reached...", "class":
     "ServiceUnavailable"}}, with Retry-After
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tenantry.domain.errors import (
    DomainError,
    ErrorCode,
    Forbidden,
    NotFound,
    Throttled,
    Unauthenticated,
)
from tenantry.domain.managed import InvalidNetworkInput, Problem
from tenantry.entrypoints.http.refusals import UNAVAILABLE
from tenantry.entrypoints.http.responses import json_response

UNAUTHORIZED = "Unauthorized"
NOT_FOUND = "RecordNotFound"
INTERNAL = "InternalServiceError"
_KEY_REFUSALS = {409: "Conflict", 422: "UnprocessableEntity"}


def error_response(error: DomainError) -> Response:
    """The answer for an error the core raised on purpose."""
    if isinstance(error, InvalidNetworkInput):
        return invalid(error.problems)
    if error.code is ErrorCode.NETWORK_MANAGED_ONLY:
        return invalid([Problem((error.field or "can_login_via_platform",), error.message)])
    if isinstance(error, Unauthenticated | Forbidden):
        return json_response(
            _described(error.message, UNAUTHORIZED),
            status_code=401,
            headers={"WWW-Authenticate": 'Token realm="tenantry"'},
        )
    if isinstance(error, NotFound):
        return json_response(_described(error.message, NOT_FOUND), status_code=404)
    if isinstance(error, Throttled):
        return json_response(_described(error.message, "TooManyRequests"), status_code=429)
    return invalid([Problem((error.field,) if error.field else (), error.message)])


def domain_error(_: Request, error: DomainError) -> Response:
    """`error_response`, as the face's handler of core errors."""
    return error_response(error)


def invalid(problems: Sequence[Problem]) -> Response:
    return json_response({"errors": nest(problems)}, status_code=403)


_ROUTE_REFUSALS = {404: NOT_FOUND, 405: "MethodNotAllowed"}


def refusal(status: int, *, limit: int, request_id: str, detail: str) -> Response:
    """A refusal (`http.refusals.Refusal`), in this dialect; a control character is invalid
    input, answered as a body that is not JSON is (403)."""
    if status == 400:
        return invalid([Problem((), detail)])
    if status in _KEY_REFUSALS:  # an Idempotency-Key that serves no request here
        body = _described(detail, _KEY_REFUSALS[status])
    elif status in _ROUTE_REFUSALS:
        body = _described(detail, _ROUTE_REFUSALS[status])
    elif status == 413:
        body = _described(f"request body is larger than {limit} bytes", "RequestEntityTooLarge")
    elif status == 503:
        body = _described(UNAVAILABLE, "ServiceUnavailable")
    else:
        body = _described(f"refer to error handle {request_id}", INTERNAL)
    return json_response(body, status_code=status)


def nest(problems: Sequence[Problem]) -> dict[str, Any]:
    """Problems as the dialect shows them: keys for fields, lists for arrays, messages last."""
    root: dict[str, Any] = {}
    for problem in problems:
        _insert(root, problem.path or ("base",), problem.message)
    return root


def _insert(node: dict[str, Any], path: tuple[str | int, ...], message: str) -> None:
    key, rest = str(path[0]), path[1:]
    if not rest:
        value = node.get(key)
        if value is None:
            node[key] = [message]
        elif _is_messages(value):
            value.append(message)
        else:  # the field also has parts with problems of their own: say it about the field
            _base(node, key).append(f"{key} {message}")
        return
    step = rest[0]
    if isinstance(step, int):
        entries = node.get(key)
        if not (isinstance(entries, list) and all(isinstance(e, dict) for e in entries)):
            _stash(node, key)
            entries = node[key] = []
        while len(entries) <= step:
            entries.append({})
        _insert(entries[step], rest[1:] or ("base",), message)
        return
    child = node.get(key)
    if not isinstance(child, dict):
        _stash(node, key)
        child = node[key] = {}
    _insert(child, rest, message)


def _is_messages(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _base(node: dict[str, Any], about: str) -> list[str]:
    """Where messages about a field whose parts have problems go: `base`, or a free key near
    it when `base` is a part itself (a custom data key may be called anything)."""
    key = "base"
    while key in node and (key == about or not _is_messages(node[key])):
        key += "_"
    messages: list[str] = node.setdefault(key, [])
    return messages


def _stash(node: dict[str, Any], key: str) -> None:
    """Keep the messages already under `key` when its parts get problems of their own."""
    value = node.pop(key, None)
    if _is_messages(value):
        assert isinstance(value, list)
        _base(node, key).extend(f"{key} {m}" for m in value)


def _described(message: str, kind: str) -> dict[str, Any]:
    return {"errors": {"invalid_data": message, "class": kind}}
