"""/Bulk (RFC 7644 §3.7): operations run one by one, each in its own transaction, through the
same handlers as single calls. A `bulkId:<id>` in a path or in data stands for the resource an
earlier POST of the same request created; an operation whose reference is not resolved yet
waits until the operation it names has run. `failOnErrors` stops the run after that many
errors. More than `maxOperations` operations is refused whole (413); so is a body larger than
`maxPayloadSize`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scim2_models import InvalidSyntaxException, InvalidValueException

from tenantry.entrypoints.scim import errors
from tenantry.entrypoints.scim.answers import Answer
from tenantry.entrypoints.scim.calls import Call, body_object, entity_tags
from tenantry.entrypoints.scim.schema import BULK_MAX_OPERATIONS

BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
_PREFIX = "bulkId:"
_METHODS = ("POST", "PUT", "PATCH", "DELETE")

Handler = Callable[[Call], Answer]


def run(call: Call, handle: Handler) -> Answer:
    request = body_object(call)
    operations = request.get("Operations")
    if not isinstance(operations, list) or not operations:
        raise InvalidSyntaxException(detail="A bulk request needs a list of Operations.")
    if len(operations) > BULK_MAX_OPERATIONS:
        return errors.error(
            413,
            f"The request has {len(operations)} operations; maxOperations is "
            f"{BULK_MAX_OPERATIONS}.",
            errors.TOO_MANY,
        )
    fail_on_errors = request.get("failOnErrors")
    if fail_on_errors is not None and (
        not isinstance(fail_on_errors, int)
        or isinstance(fail_on_errors, bool)
        or fail_on_errors < 1
    ):
        raise InvalidValueException(detail="failOnErrors is a positive integer.")
    declared = {op.get("bulkId") for op in operations if isinstance(op, dict) and op.get("bulkId")}
    created: dict[str, str] = {}
    ran: set[str] = set()
    results: list[dict[str, Any]] = []
    failures = 0
    pending = list(operations)
    while pending and not (fail_on_errors and failures >= fail_on_errors):
        waiting = []
        for operation in pending:
            if fail_on_errors and failures >= fail_on_errors:
                break
            if (_references(operation) & declared) - ran:
                waiting.append(operation)  # it names a resource an operation still to run makes
                continue
            result = _run_one(operation, created, handle)
            ran.add(result.get("bulkId", ""))
            failures += int(result["status"]) >= 400
            results.append(result)
        if len(waiting) == len(pending):
            # The operations left reference each other in a cycle: none can run first.
            for operation in waiting:
                if fail_on_errors and failures >= fail_on_errors:
                    break
                detail = "Its bulkId references form a cycle."
                results.append(_result(operation, errors.error(409, detail, errors.INVALID_VALUE)))
                failures += 1
            break
        pending = waiting
    return Answer(200, {"schemas": [BULK_RESPONSE], "Operations": results})


def _run_one(operation: Any, created: dict[str, str], handle: Handler) -> dict[str, Any]:
    if not isinstance(operation, dict):
        return _result({}, errors.error(400, "An operation is an object.", errors.INVALID_SYNTAX))
    method = str(operation.get("method", "")).upper()
    path = operation.get("path")
    bulk_id = operation.get("bulkId")
    if method not in _METHODS or not isinstance(path, str) or not path.startswith("/"):
        return _result(
            operation,
            errors.error(400, "An operation needs a method and a path.", errors.INVALID_SYNTAX),
        )
    if method == "POST" and not bulk_id:
        return _result(
            operation, errors.error(400, "A POST operation needs a bulkId.", errors.INVALID_SYNTAX)
        )
    if path.strip("/").split("/")[0] == "Bulk":
        return _result(
            operation, errors.error(400, "Bulk requests don't nest.", errors.INVALID_VALUE)
        )
    missing = _references(operation) - created.keys()
    if missing:
        detail = f"bulkId {sorted(missing)[0]} names no resource created in this request."
        return _result(operation, errors.error(409, detail, errors.INVALID_VALUE))
    version = operation.get("version")
    answer = handle(
        Call(
            method=method,
            path=_resolved(path, created),
            body=_resolved(operation.get("data"), created),
            if_match=entity_tags(version) if isinstance(version, str) else None,
        )
    )
    if method == "POST" and answer.status == 201 and answer.body:
        created[str(bulk_id)] = answer.body["id"]
    return _result(operation, answer)


def _result(operation: dict[str, Any], answer: Answer) -> dict[str, Any]:
    result: dict[str, Any] = {"method": str(operation.get("method", "")).upper()}
    if operation.get("bulkId"):
        result["bulkId"] = operation["bulkId"]
    body = answer.body or {}
    location = (body.get("meta") or {}).get("location")
    if location:
        result["location"] = location
    if "ETag" in answer.headers:
        result["version"] = answer.headers["ETag"]
    result["status"] = str(answer.status)
    if answer.status >= 400:
        result["response"] = body
    return result


def _references(value: Any) -> set[str]:
    if isinstance(value, str):
        return {part[len(_PREFIX) :] for part in value.split("/") if part.startswith(_PREFIX)}
    if isinstance(value, dict):
        return set().union(*(_references(v) for k, v in value.items() if k != "bulkId"))
    if isinstance(value, list):
        return set().union(*(_references(v) for v in value))
    return set()


def _resolved(value: Any, created: dict[str, str]) -> Any:
    if isinstance(value, str):
        return "/".join(
            created.get(part[len(_PREFIX) :], part) if part.startswith(_PREFIX) else part
            for part in value.split("/")
        )
    if isinstance(value, dict):
        return {k: v if k == "bulkId" else _resolved(v, created) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolved(v, created) for v in value]
    return value
