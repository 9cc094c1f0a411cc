"""What every face refuses before its handlers run or while they read the body: a body over the
limit (413), and text carrying a control character no field accepts (400, see
`control_characters`).

`RequestGuard` is middleware inside each face's application. What it finds before the face
(a declared body over the limit, a control character in the path or the query string, a form
in a charset that cannot be scanned) it answers with the face's own handler for
`RequestRefused`; what it finds in the body, it raises from `receive` while a handler reads it,
and the face's exception handlers answer that the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tenantry.entrypoints.http import control_characters


class RequestRefused(Exception):
    """The request is refused before the face answers it, in the face's own format."""

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


RefusalHandler = Callable[[Request, RequestRefused], Awaitable[Response]]


class RequestGuard:
    """Cap the body at `max_body_bytes` and refuse control characters in the request's text;
    `refused` is the face's handler for `RequestRefused`."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, refused: RefusalHandler) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.refused = refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refused_before(scope)
        if refusal is not None:
            answer = await self.refused(Request(scope), refusal)
            await answer(scope, receive, send)
            return
        await self.app(scope, self._checked(scope, receive), send)

    def _refused_before(self, scope: Scope) -> RequestRefused | None:
        """A declared body over the limit, a control character in the path or the query
        string, or a form whose charset the body scan cannot read."""
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            return BodyTooLarge()
        found = control_characters.in_target(scope.get("path", ""), scope.get("query_string", b""))
        if found is not None:
            return ControlCharacterFound(found)
        if control_characters.unscannable_charset(_header(scope, b"content-type") or b""):
            return UnscannableCharset()
        return None

    def _checked(self, scope: Scope, receive: Receive) -> Receive:
        """`receive`, counting and scanning the body as the face reads it."""
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

        return checked_receive


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _header(scope: Scope, name: bytes) -> bytes | None:
    found: bytes | None = next((v for h, v in scope.get("headers", []) if h == name), None)
    return found
