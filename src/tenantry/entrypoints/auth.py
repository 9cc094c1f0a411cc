"""Credentials as HTTP carries them, turned into an `Actor` by the credentials service."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from tenantry.services import credentials
from tenantry.services.context import Actor, ServiceContext


def bearer_token(authorization: str | None, *, bare_allowed: bool = False) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (or a bare token, where a face
    documents that form)."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if value and scheme.lower() == "bearer":
        return value.strip() or None
    if bare_allowed and not value:
        return scheme
    return None


async def authenticate(
    ctx: ServiceContext, token: str, *, face: str, request_id: str | None
) -> Actor:
    """Run the (synchronous, database-backed) check off the event loop."""
    return await run_in_threadpool(
        credentials.authenticate, ctx, token, face=face, request_id=request_id
    )
