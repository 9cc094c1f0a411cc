"""What a SCIM call answers, before it becomes an HTTP response (a Bulk operation reuses it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.responses import Response

from tenantry.entrypoints.scim.schema import SCIM_JSON


@dataclass(slots=True)
class Answer:
    status: int
    body: dict[str, Any] | None = None  # None: no body (204, 304)
    headers: dict[str, str] = field(default_factory=dict)


def http_response(answer: Answer) -> Response:
    if answer.body is None:
        return Response(status_code=answer.status, headers=answer.headers)
    return Response(
        orjson.dumps(answer.body),
        status_code=answer.status,
        headers=answer.headers,
        media_type=SCIM_JSON,
    )
