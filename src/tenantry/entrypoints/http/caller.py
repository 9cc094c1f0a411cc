"""Who is calling: the one place where a request's credentials become an `Actor` (or, for the
console, the session behind its cookie).

Each face says which forms of token it accepts (`Credential`): `Authorization: Bearer <token>`
everywhere, and where the network integration's documents allow them, `Authorization: <token>`
bare, `?oauth_token=<token>` and an `oauth_token` key of the JSON body, looked for in that
order. No token is `Unauthenticated` with the face's own hint; a token no one issued, or one
that expired, is `Unauthenticated` too; each face's handlers answer it in its own format.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Flag, auto
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from tenantry.domain.errors import ErrorCode, Unauthenticated
from tenantry.entrypoints.http.middleware import request_id_of
from tenantry.entrypoints.http.threads import READS
from tenantry.services import auth, credentials
from tenantry.services.auth import SignedIn
from tenantry.services.context import Actor, ServiceContext

SESSION_COOKIE = "tenantry_session"
TOKEN_KEY = "oauth_token"  # noqa: S105 (the name of a parameter, not a secret)
# A token is printable ASCII without spaces; anything else is refused before any lookup.
_TOKEN = re.compile(r"^[\x21-\x7e]{1,512}$")
_NO_TOKEN = "-"  # noqa: S105 (stands for a token no one could have been issued)
_MAX_SESSION_COOKIE = 200


class Credential(Flag):
    """The forms of token a face accepts."""

    BEARER = auto()
    """`Authorization: Bearer <token>`"""
    BARE = auto()
    """`Authorization: <token>`; a header in no form known is then a bad token, not none."""
    QUERY = auto()
    """`?oauth_token=<token>`"""
    BODY = auto()
    """an `oauth_token` key of the JSON body"""


@dataclass(frozen=True, slots=True)
class Callers:
    """The callers of one face: `face` names it in the audit trail, `accepts` the forms of
    token it reads, `missing` is what it tells a request that carries none."""

    ctx: ServiceContext
    face: str
    missing: str
    accepts: Credential = Credential.BEARER

    async def __call__(self, request: Request, body: Mapping[str, Any] | None = None) -> Actor:
        """The actor behind the request (its JSON `body` given, for faces that read the token
        there); the check of the token runs off the event loop."""
        token = self.presented(request, body)
        request_id = request_id_of(request.scope)
        return await READS.run(self.ctx, self.authenticate, token, request_id)

    def presented(self, request: Request, body: Mapping[str, Any] | None = None) -> str | None:
        """The token the request carries in a form the face accepts, or None."""
        header = request.headers.get("authorization")
        token = _from_header(header, bare=Credential.BARE in self.accepts)
        if token is None and Credential.QUERY in self.accepts:
            token = request.query_params.get(TOKEN_KEY)
        if token is None and Credential.BODY in self.accepts and body is not None:
            value = body.get(TOKEN_KEY)
            token = value if isinstance(value, str) else None
        if token is None and header and Credential.BARE in self.accepts:
            token = header  # an unreadable header is a bad token, not a missing one
        if token is not None and not _TOKEN.fullmatch(token):
            token = _NO_TOKEN  # fails like any unknown token, without a lookup
        return token

    def authenticate(self, token: str | None, request_id: str | None) -> Actor:
        """The actor `token` stands for, or Unauthenticated; for faces that run a whole call in
        one worker thread (it reads the database)."""
        if token is None:
            raise Unauthenticated(ErrorCode.UNAUTHENTICATED, self.missing)
        return credentials.authenticate(self.ctx, token, face=self.face, request_id=request_id)


def _from_header(header: str | None, *, bare: bool) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or of a bare one where `bare`."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if value and scheme.lower() == "bearer":
        return value.strip() or None
    if bare and not value:
        return scheme
    return None


async def signed_in(ctx: ServiceContext, request: Request) -> SignedIn | None:
    """The live session behind the request's session cookie, at whatever stage of signing in,
    or None."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie or len(cookie) > _MAX_SESSION_COOKIE:
        return None
    return await run_in_threadpool(auth.authenticate_session, ctx, cookie)
