"""Cookies and CSRF protection for the browser face.

Every form carries a CSRF token:
- with a session, the session's own synchronizer token (kept in its row);
- before there is one (sign-in, invitation, password reset), a signed double-submit token: a
  random nonce in an HttpOnly cookie, and in the form the nonce's HMAC under the server's key,
  so a cookie planted by a neighbouring site cannot be paired with a matching form value.
Cross-site form posts are refused outright where the browser says so (`Sec-Fetch-Site`,
`Origin`), before the token is looked at.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from tenantry.entrypoints.http.caller import SESSION_COOKIE
from tenantry.services.auth import IssuedSession, SignedIn

CSRF_COOKIE = "tenantry_csrf"
CSRF_FIELD = "csrf_token"
_CSRF_COOKIE_MAX_AGE = 4 * 3600


class Signer:
    """HMAC-SHA256 under one key, each use with its own purpose so values never cross over."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the signing key needs at least 32 bytes")
        self._key = key

    def sign(self, purpose: str, value: str) -> str:
        message = f"{purpose}\x00{value}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def verify(self, purpose: str, value: str, signature: str) -> bool:
        return hmac.compare_digest(self.sign(purpose, value), signature)


class Cookies:
    """How this deployment sets its cookies: Secure when the request came over TLS or the
    public base URL is https (TLS ended at a proxy)."""

    def __init__(self, base_url: str, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._https_base = base_url.lower().startswith("https://")
        base = urlsplit(base_url)
        self.base_origin = f"{base.scheme}://{base.netloc}".lower()

    def secure(self, request: Request) -> bool:
        return self._https_base or request.url.scheme == "https"

    def set_session(self, response: Response, request: Request, issued: IssuedSession) -> None:
        remaining = int((issued.expires_at - self._clock()).total_seconds())
        response.set_cookie(
            SESSION_COOKIE,
            issued.cookie,
            max_age=max(remaining, 60),
            path="/",
            secure=self.secure(request),
            httponly=True,
            samesite="lax",
        )

    def clear_session(self, response: Response, request: Request) -> None:
        response.delete_cookie(
            SESSION_COOKIE, path="/", secure=self.secure(request), httponly=True, samesite="lax"
        )

    def set_csrf_nonce(self, response: Response, request: Request, nonce: str) -> None:
        response.set_cookie(
            CSRF_COOKIE,
            nonce,
            max_age=_CSRF_COOKIE_MAX_AGE,
            path="/auth",
            secure=self.secure(request),
            httponly=True,
            samesite="strict",
        )


class Csrf:
    def __init__(self, signer: Signer, cookies: Cookies) -> None:
        self._signer = signer
        self._cookies = cookies

    def pre_session_token(self, request: Request) -> tuple[str, str | None]:
        """(the form token, a new nonce to set as the cookie, or None when it is set)."""
        nonce = request.cookies.get(CSRF_COOKIE, "")
        fresh = None
        if not 32 <= len(nonce) <= 64:
            nonce = fresh = secrets.token_urlsafe(32)
        return self._signer.sign("csrf", nonce), fresh

    def pre_session_valid(self, request: Request, form: dict[str, str]) -> bool:
        nonce = request.cookies.get(CSRF_COOKIE, "")
        token = form.get(CSRF_FIELD, "")
        return (
            self.same_origin(request)
            and 32 <= len(nonce) <= 64
            and bool(token)
            and self._signer.verify("csrf", nonce, token)
        )

    def session_valid(self, request: Request, form: dict[str, str], signed_in: SignedIn) -> bool:
        token = form.get(CSRF_FIELD, "")
        return (
            self.same_origin(request)
            and bool(token)
            and hmac.compare_digest(token.encode(), signed_in.csrf_token.encode())
        )

    def same_origin(self, request: Request) -> bool:
        """False when the browser tells that the form came from another site."""
        if request.headers.get("sec-fetch-site", "same-origin") == "cross-site":
            return False
        origin = request.headers.get("origin")
        if origin is None:
            return True  # not a browser, or an old one: the token decides alone
        if origin == "null":
            # A browser hides the origin when a page's referrer policy says so; it still
            # tells whether the form came from this site.
            return request.headers.get("sec-fetch-site") == "same-origin"
        own = f"{request.url.scheme}://{request.url.netloc}".lower()
        return origin.lower() in (own, self._cookies.base_origin)
