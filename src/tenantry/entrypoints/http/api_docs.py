"""The API documentation pages (Swagger UI for the REST faces' OpenAPI documents, GraphiQL for
the GraphQL faces), served by tenantry itself: their scripts and styles come from this server,
never from another host, so the pages work on a deployment without Internet access.

The files are those of two PyPI packages, installed as dependencies at the versions
`pyproject.toml` pins (no third-party JavaScript is kept in this repository):
`fastapi-offline` (Swagger UI) and `graphene-django-graphiql-static` (GraphiQL with React; only
its static files are read, nothing of it is imported). They are served under
`/static/api-docs/<package>-<version>/<file>`, cached for a year (a new version is a new URL),
and each page names them with their Subresource Integrity hash.

Each page's Content-Security-Policy runs only the scripts carrying that answer's nonce (those
files and the page's own inline script) and lets them talk to this server only, so neither a
file with other bytes nor a script injected beside them could run code on this origin, where
the console's session cookie lives.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import metadata, resources
from importlib.resources.abc import Traversable

from fastapi import APIRouter
from starlette.responses import Response

PREFIX = "/static/api-docs"


@dataclass(frozen=True, slots=True)
class Asset:
    distribution: str
    package: str
    path: str
    media_type: str

    @property
    def url(self) -> str:
        return _url(self)

    @property
    def file(self) -> Traversable:
        return resources.files(self.package).joinpath(self.path)


_JS = "text/javascript; charset=utf-8"
_CSS = "text/css; charset=utf-8"
_SWAGGER = ("fastapi-offline", "fastapi_offline")
_GRAPHIQL = ("graphene-django-graphiql-static", "graphene_django_graphiql_static")
_GRAPHIQL_STATIC = "static/graphene_django_graphiql_static/"

SWAGGER_CSS = Asset(*_SWAGGER, "static/swagger-ui.css", _CSS)
SWAGGER_JS = Asset(*_SWAGGER, "static/swagger-ui-bundle.js", _JS)
GRAPHIQL_CSS = Asset(*_GRAPHIQL, _GRAPHIQL_STATIC + "graphiql.min.css", _CSS)
REACT = Asset(*_GRAPHIQL, _GRAPHIQL_STATIC + "react.production.min.js", _JS)
REACT_DOM = Asset(*_GRAPHIQL, _GRAPHIQL_STATIC + "react-dom.production.min.js", _JS)
GRAPHIQL_JS = Asset(*_GRAPHIQL, _GRAPHIQL_STATIC + "graphiql.min.js", _JS)
ASSETS = (SWAGGER_CSS, SWAGGER_JS, GRAPHIQL_CSS, REACT, REACT_DOM, GRAPHIQL_JS)

# Each page's own script: what it shows comes from the page's data attributes, so the script
# is the same on every page of its kind.
GRAPHIQL_START = """
  const root = document.getElementById("explorer");
  const fetcher = GraphiQL.createFetcher({ url: root.dataset.endpoint });
  ReactDOM.render(React.createElement(GraphiQL, {
    fetcher,
    defaultHeaders: '{"Authorization": "Bearer <token from POST /clients/token>"}',
    isHeadersEditorEnabled: true,
  }), root);
"""
SWAGGER_START = """
  const root = document.getElementById("swagger-ui");
  SwaggerUIBundle({
    url: root.dataset.openapi,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    layout: "BaseLayout",
    deepLinking: true,
    validatorUrl: null,
  });
"""


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def page_headers(nonce: str) -> dict[str, str]:
    """A documentation page's security headers, for the scripts carrying `nonce`."""
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; script-src 'nonce-{nonce}'; "
            # The editors and Swagger UI set style attributes of their own.
            "style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; "
            "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",  # a nonce is good for one answer
    }


def graphiql_page(title: str, endpoint: str, nonce: str) -> str:
    """GraphiQL on `endpoint`, with a headers tab for `{"Authorization": "Bearer <token>"}`."""
    body = f"""<noscript>This explorer needs JavaScript. POST GraphQL requests to
{html.escape(endpoint)} with <code>Authorization: Bearer &lt;token&gt;</code>.</noscript>
<div id="explorer" data-endpoint="{html.escape(endpoint)}"></div>"""
    return _page(
        title, nonce, [GRAPHIQL_CSS], [REACT, REACT_DOM, GRAPHIQL_JS], body, GRAPHIQL_START
    )


def swagger_page(title: str, openapi_url: str, nonce: str) -> str:
    """Swagger UI on the OpenAPI document at `openapi_url`."""
    body = f"""<noscript>This page needs JavaScript; the OpenAPI document itself is
<a href="{html.escape(openapi_url)}">{html.escape(openapi_url)}</a>.</noscript>
<div id="swagger-ui" data-openapi="{html.escape(openapi_url)}"></div>"""
    return _page(title, nonce, [SWAGGER_CSS], [SWAGGER_JS], body, SWAGGER_START)


def _page(
    title: str, nonce: str, styles: list[Asset], scripts: list[Asset], body: str, start: str
) -> str:
    links = "\n".join(
        f'<link rel="stylesheet" href="{a.url}" integrity="{integrity(a)}">' for a in styles
    )
    tags = "\n".join(
        f'<script nonce="{nonce}" src="{a.url}" integrity="{integrity(a)}"></script>'
        for a in scripts
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · tenantry</title>
{links}
<style>body {{ margin: 0; }} #explorer {{ height: 100vh; }}</style>
</head>
<body>
{body}
{tags}
<script nonce="{nonce}">{start}</script>
</body>
</html>"""


@functools.cache
def _url(asset: Asset) -> str:
    """The file's URL, naming the installed version of its package (read once)."""
    version = metadata.version(asset.distribution)
    return f"{PREFIX}/{asset.distribution}-{version}/{asset.path.rsplit('/', 1)[-1]}"


@functools.cache
def integrity(asset: Asset) -> str:
    """The file's Subresource Integrity value (SHA-384), computed once per process."""
    digest = hashlib.sha384(asset.file.read_bytes()).digest()
    return "sha384-" + base64.b64encode(digest).decode()


def assets_router() -> APIRouter:
    """The files the pages name, each at its versioned URL; nothing else under the prefix."""
    router = APIRouter(include_in_schema=False)
    for asset in ASSETS:
        router.add_api_route(asset.url, _serve(asset), methods=["GET"])
    return router


def _serve(asset: Asset) -> Callable[[], Awaitable[Response]]:
    async def serve() -> Response:
        return Response(
            _content(asset),
            media_type=asset.media_type,
            headers={
                "Cache-Control": "public, max-age=31536000, immutable",
                "X-Content-Type-Options": "nosniff",
            },
        )

    return serve


@functools.cache
def _content(asset: Asset) -> bytes:
    """Read once, on first demand: a few megabytes for the six files together."""
    return asset.file.read_bytes()
