"""The one piece of ASGI middleware around every face: request ids, access logs, timing (and
the request metrics, `metrics.observe_request`), HEAD, and a last resort for what no face
answered.

Written as plain ASGI (not BaseHTTPMiddleware) so it costs microseconds and streams untouched.
Everything a face answers (its errors, 400, 413, 503 and 500 included) it answers itself, in
its own format (`faces.face_app`); what escapes every face unanswered gets a plain 503 or 500
here, which carries the request id and no traceback.
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tenantry.entrypoints.http.metrics import observe_request
from tenantry.entrypoints.http.refusals import (
    RETRY_AFTER_SECONDS,
    log_unavailable,
    log_unexpected,
    plain_refusal,
)
from tenantry.services.ports import DatabaseUnavailable

log = logging.getLogger("tenantry.http")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
REQUEST_ID_HEADER = b"x-request-id"


# A request id: this process's random prefix and a counter (32 hex digits, like a UUID's):
# unique across processes and restarts without asking the kernel for randomness per request.
_PREFIX = secrets.token_hex(8)
_NUMBERS = itertools.count(1)


def new_request_id() -> str:
    return f"{_PREFIX}{next(_NUMBERS):016x}"


def request_id_of(scope: Scope) -> str:
    """The id of the request being served (set by `RequestContextMiddleware`)."""
    value: str = scope.get("state", {}).get("request_id", "")
    return value


class RequestContextMiddleware:
    """Give every request an id (the caller's X-Request-ID when well-formed), answer with it,
    log one JSON line per request with its duration, answer HEAD as GET without the body, and
    answer an exception that escaped every face unanswered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        # HEAD is GET without the body (RFC 9110 §9.3.2), for every route that answers GET:
        # the faces' routers only list GET.
        head = scope["method"] == "HEAD"
        app_scope = {**scope, "method": "GET"} if head else scope
        out = _without_body(send) if head else send

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                message = {**message, "headers": headers}
            await out(message)

        try:
            await self.app(app_scope, receive, send_with_id)
        except Exception as error:
            # A face's handlers answered (and logged) what it raised, then let it go on up, as
            # Starlette does; only what no face answered is answered (and logged) here.
            if not response_started:
                status = 503 if isinstance(error, DatabaseUnavailable) else 500
                await _last_resort(error, status, request_id)(scope, receive, send_with_id)
        finally:
            _log_request(scope, status, started, request_id)
            observe_request(app_scope, scope["method"], status, time.perf_counter() - started)


def _last_resort(error: Exception, status: int, request_id: str) -> Response:
    """The plain answer (`{"message"}`) for what no face answered, logged as the faces do."""
    if status == 503:
        log_unavailable(error, request_id)
    else:
        log_unexpected(error, request_id)
    answer = plain_refusal(status, limit=0, request_id=request_id, detail="")
    if status == 503:
        answer.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return answer


def _without_body(send: Send) -> Send:
    """`send`, with every body emptied: what a HEAD request gets (headers unchanged)."""

    async def send_headers_only(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return send_headers_only


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER:
            text = value.decode("latin-1")
            return text if _REQUEST_ID.match(text) else None
    return None


# Paths that carry a secret in a segment (password-reset links) are logged with it masked.
_RESET_LINKS = "/auth/reset/"
_SECRET_SEGMENT = re.compile(r"^(/auth/reset/)[^/]+")


def _log_request(scope: Scope, status: int, started: float, request_id: str) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    path: str = scope.get("path", "")
    if path.startswith(_RESET_LINKS):
        path = _SECRET_SEGMENT.sub(r"\1…", path)
    # The path only: query strings can carry credentials (`?oauth_token=`). The record is
    # made and handed on as `log.info` would, without looking for its caller's file and
    # line, which no handler of ours shows (a third of the line's cost, once a request).
    record = log.makeRecord(
        log.name,
        logging.INFO,
        "",
        0,
        "request",
        (),
        None,
        extra={
            "request_id": request_id,
            "method": scope.get("method"),
            "path": path,
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "client": (scope.get("client") or ("", 0))[0],
        },
    )
    log.handle(record)
