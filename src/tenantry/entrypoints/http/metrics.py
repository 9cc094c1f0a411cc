"""`GET /metrics` in the Prometheus text format, and the request counts behind it.

Every request is counted by the face that served it, the route's template (`/hub/accounts/
{account_id}/audit`, never the path itself, so no id or address reaches a label), the method
and the status, and timed in a histogram (`observe_request`, called by the middleware around
every face). The core adds its own counts (`services.metrics`); the database is asked, at each
scrape, how many outbox entries wait or were given up on, by kind.

With `PROMETHEUS_MULTIPROC_DIR` naming an empty folder before the server starts (`tenantry
serve --workers N` makes one itself), every process writes its counts there and a scrape
answered by any of them adds up all of them.

`/metrics` is served only when `TENANTRY_METRICS` is on or `TENANTRY_METRICS_TOKEN` is set; with
the token, only to `Authorization: Bearer <token>` (compared in constant time). Otherwise it is
as absent as any unknown path.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator, MutableMapping
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tenantry.domain.outbox import OutboxKind, OutboxStatus
from tenantry.entrypoints.http.responses import json_response
from tenantry.services import outbox
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.ports import DatabaseUnavailable
from tenantry.settings import Settings

PATH = "/metrics"
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
FACE_KEY = "tenantry.face"
"""The scope key where the server's mounts name the face serving a request."""
UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
SCRAPER = Actor.system(face="metrics", label="metrics")

REQUESTS = Counter(
    "tenantry_http_requests",
    "HTTP requests answered, by face, route template, method and status.",
    ["face", "route", "method", "status"],
)
DURATION = Histogram(
    "tenantry_http_request_duration_seconds",
    "Time to answer HTTP requests (the whole answer, streamed ones included).",
    ["face", "route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


def observe_request(
    scope: MutableMapping[str, Any], method: str, status: int, seconds: float
) -> None:
    """Count and time one answered request; `scope` is the one the faces routed."""
    key = (
        str(scope.get(FACE_KEY, UNMATCHED)),
        route_template(scope),
        method if method in METHODS else "other",
        status,
    )
    found = _series.get(key)
    if found is None:
        face, route, method, _ = key
        found = _series[key] = (
            REQUESTS.labels(face, route, method, str(status)),
            DURATION.labels(face, route, method),
        )
    count, duration = found
    count.inc()
    duration.observe(seconds)


# Each request's series, looked up once: `labels` costs more than counting (a few hundred
# entries at most: the routes are the app's, the statuses HTTP's).
_series: dict[tuple[str, str, str, int], tuple[Any, Any]] = {}


def route_template(scope: MutableMapping[str, Any]) -> str:
    """The template of the route that served the request (`/api/{version}/{network_id}/...`),
    or `unmatched` when none did: never the path as requested."""
    template = getattr(scope.get("route"), "path_format", "")
    return template if isinstance(template, str) and template else UNMATCHED


def process_ended() -> None:
    """Drop this process's live gauges from a multiprocess folder (when it has one)."""
    if os.environ.get(MULTIPROCESS_ENV):
        mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def metrics_router(ctx: ServiceContext) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Counts())
    registry.register(_Database(ctx))

    @router.get(PATH)
    async def metrics(request: Request) -> Response:
        refused = _refusal(ctx.settings, request)
        if refused is not None:
            return refused
        body = await run_in_threadpool(generate_latest, registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})

    return router


def _refusal(settings: Settings, request: Request) -> Response | None:
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
    if token:
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            presented.strip().encode(), token.encode()
        ):
            return None
        return json_response(
            {"message": "Send `Authorization: Bearer <TENANTRY_METRICS_TOKEN>`."},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    if settings.metrics:
        return None
    raise HTTPException(404)  # answered as any path that is not there


class _Counts(Collector):
    """This process's counts, or every process's when they share a multiprocess folder."""

    def __init__(self) -> None:
        folder = os.environ.get(MULTIPROCESS_ENV)
        # prometheus_client's multiprocess module is untyped.
        shared = MultiProcessCollector(None, folder) if folder else None  # type: ignore[no-untyped-call]
        self._shared = shared

    def collect(self) -> Iterator[Metric]:
        if self._shared is not None:
            yield from self._shared.collect()  # type: ignore[no-untyped-call]
        else:
            yield from REGISTRY.collect()


class _Database(Collector):
    """What the database holds, read at each scrape (so every process answers the same)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("tenantry_database_up", "Whether the database answered the scrape.")
        try:
            backlog = outbox.outbox_backlog(self._ctx, SCRAPER)
        except DatabaseUnavailable:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        entries = GaugeMetricFamily(
            "tenantry_outbox_entries",
            "Outbox entries not sent, by kind: pending (the backlog) and failed (given up on).",
            labels=["kind", "status"],
        )
        counted = {(k.value, s): 0 for k in OutboxKind for s in _UNSENT}
        counted.update(backlog)
        for (kind, status), count in sorted(counted.items()):
            entries.add_metric([kind, status.value], count)
        yield entries


_UNSENT = (OutboxStatus.PENDING, OutboxStatus.FAILED)
