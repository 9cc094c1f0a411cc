"""ASGI middleware every face shares: request ids, access logs, body limits, last-resort 500s.

Written as plain ASGI (not BaseHTTPMiddleware) so it costs microseconds and streams untouched.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("tenantry.http")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
REQUEST_ID_HEADER = b"x-request-id"


class BodyTooLarge(Exception):
    pass


def request_id_of(scope: Scope) -> str:
    """The id of the request being served (set by `RequestContextMiddleware`)."""
    value: str = scope.get("state", {}).get("request_id", "")
    return value


class RequestContextMiddleware:
    """Give every request an id (the caller's X-Request-ID when well-formed), answer with it,
    log one JSON line per request, cap the body size, and turn any escaped exception into a
    bare 500 that carries the request id and no traceback."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await _send_json(send, 413, {"message": "The request body is too large."}, request_id)
            _log_request(scope, 413, started, request_id)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_id)
        except BodyTooLarge:
            if not response_started:
                status = 413
                await _send_json(
                    send, 413, {"message": "The request body is too large."}, request_id
                )
        except Exception:
            log.exception("unhandled error", extra={"request_id": request_id})
            if not response_started:
                status = 500
                await _send_json(
                    send,
                    500,
                    {"message": "Internal server error.", "request_id": request_id},
                    request_id,
                )
        finally:
            _log_request(scope, status, started, request_id)


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER:
            text = value.decode("latin-1")
            return text if _REQUEST_ID.match(text) else None
    return None


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_json(send: Send, status: int, body: dict[str, Any], request_id: str) -> None:
    payload = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (REQUEST_ID_HEADER, request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


# Paths that carry a secret in a segment (password-reset links) are logged with it masked.
_SECRET_SEGMENT = re.compile(r"^(/auth/reset/)[^/]+")


def _log_request(scope: Scope, status: int, started: float, request_id: str) -> None:
    # The path only: query strings can carry credentials (`?oauth_token=`).
    log.info(
        "request",
        extra={
            "request_id": request_id,
            "method": scope.get("method"),
            "path": _SECRET_SEGMENT.sub(r"\1…", scope.get("path", "")),
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "client": (scope.get("client") or ("", 0))[0],
        },
    )
