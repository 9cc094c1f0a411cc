"""`POST /capig/traffic`: gateways report what each pixel received and published, per minute.

    POST /capig/traffic
    Authorization: Bearer <token from POST /clients/token>
    Content-Type: application/json

    {"tenantId": "wW58k7FQ",
     "reports": [{"pixelId": "1234567890", "windowStart": "2024-05-01T10:15:00Z",
                  "eventsReceived": 120, "eventsPublished": 118, "publishErrors": 2,
                  "errorCode": "190.460"}]}

- `windowStart` is ISO 8601 with a time zone; seconds are truncated to the minute. Windows more
  than 7 days old or in the future are refused.
- Counts add to what is stored for that pixel and minute, so a gateway reports each minute's
  counts once (several gateway hosts may each report their own). `errorCode` (the Conversions
  API's `code.subcode`) goes with `publishErrors` above 0.
- At most 1,000 reports per call, for pixels of that tenant only; the caller needs to manage the
  tenant's pixels (an API account of the tenant, or of a partner that manages it).

Answers: 202 `{"accepted": n}`; 400 `{"message"}` for bad input (nothing is stored); 401 without
a valid token; 403 when the caller may not report for the tenant; 404 for an unknown tenant;
every error as `{"message"}`, refusals and outages included.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from starlette.responses import Response

from tenantry.domain.pixels import MAX_EVENT_COUNT, TrafficReport
from tenantry.entrypoints.http.caller import Callers
from tenantry.entrypoints.http.faces import face_app
from tenantry.entrypoints.http.idempotency import Idempotency
from tenantry.entrypoints.http.refusals import plain_domain_error, plain_refusal
from tenantry.entrypoints.http.responses import json_response
from tenantry.entrypoints.http.threads import CHANGES
from tenantry.services import gateway_traffic
from tenantry.services.context import ServiceContext

PATH = "/capig/traffic"
FACE = "traffic"
NO_BEARER = "Send `Authorization: Bearer <token>` from POST /clients/token."

Count = Annotated[int, Field(ge=0, le=MAX_EVENT_COUNT)]


class ReportBody(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    pixelId: Annotated[str, Field(pattern=r"^[0-9]{1,32}$")]
    windowStart: AwareDatetime
    eventsReceived: Count
    eventsPublished: Count = 0
    publishErrors: Count = 0
    errorCode: Annotated[str, Field(max_length=32)] | None = None


class TrafficBody(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    tenantId: Annotated[str, Field(min_length=1, max_length=64)]
    reports: Annotated[list[ReportBody], Field(max_length=gateway_traffic.MAX_REPORTS)]


def traffic_app(ctx: ServiceContext) -> FastAPI:
    """The endpoint, every error of it answered as `{"message"}`; reports honour
    `Idempotency-Key` (counts add up, so a report sent twice would count twice)."""
    callers = Callers(ctx, face=FACE, missing=NO_BEARER)
    return face_app(
        traffic_router(ctx, callers),
        limit=ctx.settings.max_body_bytes,
        refusal=plain_refusal,
        domain_error=plain_domain_error,
        idempotency=Idempotency(callers),
    )


def traffic_router(ctx: ServiceContext, callers: Callers) -> APIRouter:
    router = APIRouter()

    @router.post(
        PATH,
        tags=["capig"],
        summary="Report pixel traffic per minute",
        status_code=202,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": TrafficBody.model_json_schema()}},
            }
        },
    )
    async def report_traffic(request: Request) -> Response:
        actor = await callers(request)
        try:
            body = TrafficBody.model_validate_json(await request.body())
        except ValidationError as error:
            return json_response({"message": _describe(error)}, status_code=400)
        reports = [
            TrafficReport(
                pixel_id=r.pixelId,
                window_start=r.windowStart,
                events_received=r.eventsReceived,
                events_published=r.eventsPublished,
                publish_errors=r.publishErrors,
                error_code=r.errorCode,
            )
            for r in body.reports
        ]
        accepted = await CHANGES.run(
            ctx, gateway_traffic.report_traffic, ctx, actor, body.tenantId, reports
        )
        return json_response({"accepted": accepted}, status_code=202)

    return router


def _describe(error: ValidationError) -> str:
    """The first problems, each with where it is (`reports[2].windowStart: ...`)."""
    parts = []
    for problem in error.errors(include_url=False)[:3]:
        where = "".join(
            f"[{step}]" if isinstance(step, int) else f".{step}" for step in problem["loc"]
        ).lstrip(".")
        parts.append(f"{where}: {problem['msg']}" if where else str(problem["msg"]))
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")
