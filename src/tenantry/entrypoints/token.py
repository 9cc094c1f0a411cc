"""`POST /clients/token`: the client-credentials grant CAPIG documents.

Form or JSON bodies, and HTTP Basic client authentication (RFC 6749 §2.3.1), are accepted.
The answer carries both `token` (the documents) and `access_token` (Meta's own sample script);
its errors are OAuth errors (RFC 6749 §5.2), refusals and outages included.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote

import orjson
from fastapi import APIRouter, FastAPI, Request
from starlette.responses import Response

from tenantry.domain.errors import DomainError, Throttled, Unauthenticated
from tenantry.entrypoints.http import control_characters
from tenantry.entrypoints.http.faces import face_app
from tenantry.entrypoints.http.refusals import UNAVAILABLE
from tenantry.entrypoints.http.responses import json_response
from tenantry.entrypoints.http.threads import CHANGES
from tenantry.services import credentials
from tenantry.services.context import ServiceContext

GRANT_TYPE = "client_credentials"
PATH = "/clients/token"


def token_app(ctx: ServiceContext) -> FastAPI:
    """The endpoint, its errors answered as OAuth errors."""
    window = ctx.settings.token_failure_window_seconds

    def domain_error(_: Request, error: DomainError) -> Response:
        if isinstance(error, Throttled):
            return _oauth_error(429, "slow_down", error.message, {"Retry-After": str(window)})
        if isinstance(error, Unauthenticated):
            return _oauth_error(401, "invalid_client", error.message, {"WWW-Authenticate": "Basic"})
        return _oauth_error(400, "invalid_request", error.message)

    return face_app(
        token_router(ctx),
        limit=ctx.settings.max_body_bytes,
        refusal=refusal,
        domain_error=domain_error,
    )


def token_router(ctx: ServiceContext) -> APIRouter:
    router = APIRouter()

    @router.post(PATH, tags=["auth"], summary="Exchange client credentials")
    async def issue_token(request: Request) -> Response:
        try:
            fields = await _read_fields(request)
            basic = _basic_credentials(request.headers.get("authorization"))
        except ValueError as error:
            return _oauth_error(400, "invalid_request", str(error))
        client_id = fields.get("client_id") or (basic[0] if basic else None)
        client_secret = fields.get("client_secret") or (basic[1] if basic else None)
        grant_type = fields.get("grant_type") or GRANT_TYPE
        if grant_type != GRANT_TYPE:
            return _oauth_error(400, "unsupported_grant_type", "Use client_credentials.")
        if not isinstance(client_id, str) or not isinstance(client_secret, str):
            return _oauth_error(400, "invalid_request", "client_id and client_secret are required.")
        source = request.client.host if request.client else "unknown"
        issued = await CHANGES.run(
            ctx, credentials.issue_access_token, ctx, client_id, client_secret, source=source
        )
        return json_response(
            {
                "token": issued.token,
                "access_token": issued.token,
                "token_type": "Bearer",
                "expires_in": issued.expires_in,
            },
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    return router


async def _read_fields(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            data = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            raise ValueError("The body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise ValueError("The body must be a JSON object.")
        return data
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    if not await request.body():
        return {}
    raise ValueError("Send the fields as a form or as JSON.")


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    """The client id and secret of an HTTP Basic header, or None; a ValueError when they
    decode to a control character (base64 and percent escapes hide it from the server's
    check of the request, and the client id is looked up as it is)."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None
    client_id, secret = unquote(client_id), unquote(secret)
    found = control_characters.in_text(client_id + secret)
    if found is not None:
        raise ValueError(control_characters.describe(found))
    return client_id, secret


def _oauth_error(
    status: int, error: str, description: str, headers: dict[str, str] | None = None
) -> Response:
    return json_response(
        {"error": error, "error_description": description}, status_code=status, headers=headers
    )


def refusal(status: int, *, limit: int, request_id: str, detail: str) -> Response:
    """A refusal (`http.refusals.Refusal`), as an OAuth error."""
    if status == 400:
        return _oauth_error(400, "invalid_request", detail)
    if status == 413:
        return _oauth_error(413, "invalid_request", f"The request body is over {limit} bytes.")
    if status == 503:
        return _oauth_error(503, "temporarily_unavailable", UNAVAILABLE)
    return _oauth_error(status, "server_error", f"Internal server error (request {request_id}).")
