"""`Idempotency-Key` on every face's changes (the IETF draft "The Idempotency-Key HTTP Header
Field"): middleware inside a face's application (`faces.face_app`), so that a face only says
which of its requests change something (`Idempotency`).

A request a face names as a change, sent with the header:

    a key that is not 1 to 255 printable ASCII   400, in the face's format
    no valid credentials                         answered by the face, as without the header
    the key's first request was another one      422 (another method, target or body)
    the key's first request is still running     409
    the key's first request has ended            that answer again: its status, body and the
                                                 headers in `KEPT_HEADERS`, with
                                                 `Idempotent-Replayed: true`; nothing runs
    a key new to the caller's credential         the call runs; its answer is kept for a day,
                                                 unless it is not final (a 5xx, an outage, a
                                                 401 or 429, or what the face calls not final)

The key is reserved before the call runs and its answer stored before it is sent, so a retry
sees either the reservation (409) or the answer. Other methods, queries, the console and
requests without the header pass through untouched.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tenantry.domain.errors import DomainError
from tenantry.domain.idempotency import (
    BAD_KEY,
    KEY_IN_FLIGHT,
    KEY_REUSED,
    LEASE,
    StoredAnswer,
    fingerprint,
    parse_key,
)
from tenantry.entrypoints.http.caller import Callers, Credential
from tenantry.entrypoints.http.guard import RequestRefused
from tenantry.entrypoints.http.middleware import request_id_of
from tenantry.entrypoints.http.refusals import Refusal
from tenantry.entrypoints.http.threads import CHANGES
from tenantry.services import idempotency
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.idempotency import KeyRefusal, Replay, Reserved
from tenantry.services.ports import DatabaseUnavailable

log = logging.getLogger("tenantry.http")

HEADER = b"idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_HEADERS = frozenset(
    {
        "content-type",
        "location",
        "content-location",
        "etag",
        "last-modified",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
    }
)
"""The headers a replay gives again: what describes the answer. Not what describes the
moment (dates, request ids, which the server adds to every answer anyway)."""
_RELEASE = "idempotency_release"


def every_request(path: str, body: bytes) -> bool:
    return True


def final_by_status(status: int, body: bytes) -> bool:
    """An answer a retry should get again: not the server's failure (5xx), and not a refusal
    that passes (401: credentials that may be fixed; 429: a limit that may lift)."""
    return status < 500 and status not in (401, 429)


@dataclass(frozen=True, slots=True)
class Idempotency:
    """How a face's changes honour `Idempotency-Key`: requests with one of `methods` for
    which `changes(path, body)` holds are changes; `callers` says whose key it is; `final`
    whether an answer (status, body) is one to keep."""

    callers: Callers
    methods: frozenset[str] = frozenset({"POST"})
    changes: Callable[[str, bytes], bool] = every_request
    final: Callable[[int, bytes], bool] = final_by_status


def release_key(request: Request) -> None:
    """Have the request's key released whatever its answer's status: a refusal a retry may
    not meet (the daily quota, which lifts at midnight)."""
    request.scope.setdefault("state", {})[_RELEASE] = True


UnavailableHandler = Callable[[Request, DatabaseUnavailable], Awaitable[Response]]


class IdempotentCalls:
    """The middleware: `refusal` words the face's 400, 409 and 422; `unavailable` is the
    face's handler for an outage met while reserving a key."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        idempotency: Idempotency,
        refusal: Refusal,
        limit: int,
        unavailable: UnavailableHandler,
    ) -> None:
        self.app = app
        self.ctx = idempotency.callers.ctx
        self.idempotency = idempotency
        self.refusal = refusal
        self.limit = limit
        self.unavailable = unavailable
        self.owed = _OwedReleases(self.ctx)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        header = self._key_header(scope)
        if header is None:
            await self.app(scope, receive, send)
            return
        try:
            body = await _read_body(receive)
        except RequestRefused as refused:  # too large, a control character: the face's to say
            await self.app(scope, _raising(refused), send)
            return
        replaying = _replaying(body, receive)
        try:
            begun = await CHANGES.run(self.ctx, self._begin, scope, header, body)
        except DatabaseUnavailable as error:
            answer = await self.unavailable(Request(scope), error)
            await answer(scope, replaying, send)
            return
        if begun is None:
            await self.app(scope, replaying, send)
        elif isinstance(begun, Reserved):
            await self._run(begun, scope, replaying, send)
        else:
            await begun(scope, replaying, send)

    def _key_header(self, scope: Scope) -> bytes | None:
        if scope["type"] != "http" or scope["method"] not in self.idempotency.methods:
            return None
        found: bytes | None = next((v for h, v in scope.get("headers", []) if h == HEADER), None)
        return found

    def _begin(self, scope: Scope, header: bytes, body: bytes) -> Reserved | Response | None:
        """Reserve the key (Reserved), answer without running the call (a replay, a refusal),
        or None: no key to honour, the face answers as it would without one."""
        path: str = scope["path"]
        if not self.idempotency.changes(path, body):
            return None
        key = parse_key(header)
        if key is None:
            return self._refuse(scope, 400, BAD_KEY)
        actor = self._caller(scope, body)
        if actor is None:
            return None
        query = scope.get("query_string", b"").decode("latin-1")
        target = f"{path}?{query}" if query else path
        begun = idempotency.begin_idempotent_call(
            self.ctx, actor, key, fingerprint(scope["method"], target, body)
        )
        if isinstance(begun, Reserved):
            return begun
        if isinstance(begun, Replay):
            if not idempotency.may_replay(self.ctx, actor):
                return None  # the face answers, and refuses what the caller may no longer do
            return _replayed(begun.answer)
        if begun is KeyRefusal.REUSED:
            return self._refuse(scope, 422, KEY_REUSED)
        return self._refuse(scope, 409, KEY_IN_FLIGHT)

    def _caller(self, scope: Scope, body: bytes) -> Actor | None:
        callers = self.idempotency.callers
        payload = _json_object(body) if Credential.BODY in callers.accepts else None
        token = callers.presented(Request(scope), payload)
        try:
            return callers.authenticate(token, request_id_of(scope))
        except DomainError:
            return None

    def _refuse(self, scope: Scope, status: int, detail: str) -> Response:
        return self.refusal(
            status, limit=self.limit, request_id=request_id_of(scope), detail=detail
        )

    async def _run(self, reserved: Reserved, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the call, keep its answer (or release the key), then send the answer."""
        captured = _Captured()
        try:
            await self.app(scope, receive, captured.send)
        except BaseException:
            await self._settle(reserved, None)
            raise
        answer = captured.answer()
        if answer is not None and scope.get("state", {}).get(_RELEASE):
            answer = None
        if answer is not None and not self.idempotency.final(answer.status, answer.body):
            answer = None
        await self._settle(reserved, answer)
        await captured.replay(send)

    async def _settle(self, reserved: Reserved, answer: StoredAnswer | None) -> None:
        """Store the answer under the key, or release it; shielded, so that a cancelled
        request still settles its key. A failure here is logged: the call's answer stands,
        and a key left reserved is taken over once its lease runs out."""
        with anyio.CancelScope(shield=True):
            try:
                if answer is None:
                    await CHANGES.run(
                        self.ctx, idempotency.abandon_idempotent_call, self.ctx, reserved
                    )
                else:
                    await CHANGES.run(
                        self.ctx, idempotency.finish_idempotent_call, self.ctx, reserved, answer
                    )
            except DatabaseUnavailable:
                if answer is None:
                    # The outage that ended the call: release the key once the database is
                    # back, so that the retry the 503 asked for runs instead of meeting a
                    # reservation nobody holds (409 until its lease runs out).
                    self.owed.add(reserved)
                else:
                    log.error("idempotency key not settled: DatabaseUnavailable")
            except Exception as error:
                log.error("idempotency key not settled: %s", type(error).__name__)


class _OwedReleases:
    """Keys whose release met an outage, released by a thread of their own once the database
    answers again (tried every `RETRY_SECONDS`, for at most the keys' lease: after that a
    retry takes a key over anyway)."""

    RETRY_SECONDS = 1.0

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self._keys: list[tuple[Reserved, float]] = []
        self._lock = threading.Lock()
        self._releasing = False

    def add(self, reserved: Reserved) -> None:
        with self._lock:
            self._keys.append((reserved, time.monotonic() + LEASE.total_seconds()))
            if self._releasing:
                return
            self._releasing = True
        threading.Thread(target=self._release, name="idempotency-releases", daemon=True).start()

    def _release(self) -> None:
        while True:
            time.sleep(self.RETRY_SECONDS)
            with self._lock:
                now = time.monotonic()
                owed = [(key, until) for key, until in self._keys if until > now]
                self._keys = []
            for number, (reserved, _) in enumerate(owed):
                try:
                    idempotency.abandon_idempotent_call(self.ctx, reserved)
                except DatabaseUnavailable:
                    with self._lock:
                        self._keys.extend(owed[number:])
                    break
                except Exception as error:
                    log.error("idempotency key not released: %s", type(error).__name__)
            with self._lock:
                if not self._keys:
                    self._releasing = False
                    return


class _Captured:
    """An answer held back until its key is settled (the answers of changes are small)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def send(self, message: Message) -> None:
        self.messages.append(message)

    def answer(self) -> StoredAnswer | None:
        start = next((m for m in self.messages if m["type"] == "http.response.start"), None)
        if start is None:
            return None
        headers = tuple(
            (name.decode("latin-1").lower(), value.decode("latin-1"))
            for name, value in start.get("headers", [])
            if name.decode("latin-1").lower() in KEPT_HEADERS
        )
        body = b"".join(
            m.get("body", b"") for m in self.messages if m["type"] == "http.response.body"
        )
        return StoredAnswer(start["status"], headers, body)

    async def replay(self, send: Send) -> None:
        for message in self.messages:
            await send(message)


def _replayed(answer: StoredAnswer) -> Response:
    response = Response(answer.body, answer.status, headers=dict(answer.headers))
    response.headers[REPLAYED_HEADER] = "true"
    return response


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client left; the face sees an empty body
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the body read already, then whatever comes next (a disconnect)."""
    given = False

    async def replaying_receive() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replaying_receive


def _raising(refused: RequestRefused) -> Receive:
    async def raising_receive() -> Message:
        raise refused

    return raising_receive


def _json_object(body: bytes) -> dict[str, object] | None:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
