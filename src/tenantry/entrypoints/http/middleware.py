"""ASGI middleware every face shares: request ids, access logs, body limits, control
characters, last-resort 500s.

Written as plain ASGI (not BaseHTTPMiddleware) so it costs microseconds and streams untouched.
Text carrying a control character no field accepts (400, see `control_characters`), a body over
the limit (413), a database that cannot be reached (503) and an exception no face caught (500)
are answered here, before or instead of the face: each face registers how it words such a
refusal (`Refusal`), so that a SCIM client gets a SCIM Error, a GraphQL client a GraphQL error
and a person a page.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Sequence
from typing import Protocol

import orjson
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tenantry.entrypoints.http import control_characters
from tenantry.services.ports import DatabaseUnavailable

log = logging.getLogger("tenantry.http")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
REQUEST_ID_HEADER = b"x-request-id"


TOO_LARGE = "The request body is too large."
UNAVAILABLE = "The database cannot be reached. Try again in a moment."
RETRY_AFTER_SECONDS = 5


class RequestRefused(Exception):
    """The request is refused and the server answers for the face, before it or while it reads
    the body: a face that catches every exception lets this one through."""

    status = 400
    detail = ""


class BodyTooLarge(RequestRefused):
    status = 413


class ControlCharacterFound(RequestRefused):
    def __init__(self, character: str) -> None:
        self.detail = control_characters.describe(character)
        super().__init__(self.detail)


class UnscannableCharset(RequestRefused):
    detail = "A form's text must be UTF-8 (or ASCII or Latin-1); this one names another charset."

    def __init__(self) -> None:
        super().__init__(self.detail)


class Refusal(Protocol):
    """A face's answer for a request refused before or around it: 400 (its text carries a
    control character no field accepts, which `detail` names; a face answers as it answers
    any malformed request), 413 (the body is over `limit` bytes), 503 (the database cannot be
    reached; `UNAVAILABLE`) or 500 (an unexpected error, told by `request_id` only)."""

    def __call__(self, status: int, *, limit: int, request_id: str, detail: str) -> Response: ...


def plain_refusal(status: int, *, limit: int, request_id: str, detail: str) -> Response:
    """`{"message": ...}`: for paths no face claims, and faces that answer that way."""
    messages = {400: detail, 413: TOO_LARGE, 503: UNAVAILABLE}
    if status in messages:
        body = {"message": messages[status]}
    else:
        body = {"message": "Internal server error.", "request_id": request_id}
    return Response(orjson.dumps(body), status, media_type="application/json")


def request_id_of(scope: Scope) -> str:
    """The id of the request being served (set by `RequestContextMiddleware`)."""
    value: str = scope.get("state", {}).get("request_id", "")
    return value


class RequestContextMiddleware:
    """Give every request an id (the caller's X-Request-ID when well-formed), answer with it,
    log one JSON line per request, cap the body size, answer HEAD as GET without the body, and
    turn an escaped exception into the face's 503 (database unreachable) or 500 (anything
    else), which carries the request id and no traceback."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        refusals: Sequence[tuple[str, Refusal]] = (),
    ) -> None:
        """`refusals`: path prefixes and the refusal of the face under each; the first prefix
        that matches wins, `plain_refusal` when none does."""
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.refusals = tuple(refusals)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, status: int, request_id: str, detail: str
    ) -> int:
        """Answer with the refusal of the face under the path; the status it answered with."""
        path: str = scope.get("path", "")
        refusal = next((r for prefix, r in self.refusals if path.startswith(prefix)), None)
        answer = (refusal or plain_refusal)(
            status, limit=self.max_body_bytes, request_id=request_id, detail=detail
        )
        answer.headers[REQUEST_ID_HEADER.decode()] = request_id
        if status == 503:
            answer.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        await answer(scope, receive, send)
        return answer.status_code

    def _refused_before(self, scope: Scope) -> RequestRefused | None:
        """What refuses the request before the face sees it: a declared body over the limit, or
        a control character in the path or the query string."""
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            return BodyTooLarge()
        found = control_characters.in_target(scope.get("path", ""), scope.get("query_string", b""))
        if found is not None:
            return ControlCharacterFound(found)
        if control_characters.unscannable_charset(_header(scope, b"content-type") or b""):
            return UnscannableCharset()
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        # HEAD is GET without the body (RFC 9110 §9.3.2), for every route that answers GET:
        # the faces' routers only list GET. Refusals below go out without a body too.
        head = scope["method"] == "HEAD"
        app_scope = {**scope, "method": "GET"} if head else scope
        out = _without_body(send) if head else send

        refused = self._refused_before(scope)
        if refused is not None:
            status = await self._refuse(
                scope, receive, out, refused.status, request_id, refused.detail
            )
            _log_request(scope, status, started, request_id)
            return

        received = 0
        scan = control_characters.body_scan(_header(scope, b"content-type") or b"")

        async def checked_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > self.max_body_bytes:
                    raise BodyTooLarge
                found = scan.feed(chunk, last=not message.get("more_body", False))
                if found is not None:
                    raise ControlCharacterFound(found)
            return message

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
            await self.app(app_scope, checked_receive, send_with_id)
        except RequestRefused as refusal:
            if not response_started:
                status = await self._refuse(
                    scope, receive, out, refusal.status, request_id, refusal.detail
                )
        except DatabaseUnavailable as error:
            # An outage, not a bug: one line, no traceback, and an answer that says retry.
            log.error("database unavailable: %s", error, extra={"request_id": request_id})
            if not response_started:
                status = await self._refuse(scope, receive, out, 503, request_id, "")
        except Exception:
            log.exception("unhandled error", extra={"request_id": request_id})
            if not response_started:
                status = await self._refuse(scope, receive, out, 500, request_id, "")
        finally:
            _log_request(scope, status, started, request_id)


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


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _header(scope: Scope, name: bytes) -> bytes | None:
    found: bytes | None = next((v for h, v in scope.get("headers", []) if h == name), None)
    return found


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
