"""The GraphiQL explorer served on GET, for people trying the API in a browser.

Its scripts come from a CDN, pinned to exact versions with Subresource Integrity hashes, and
the page's Content-Security-Policy runs only the scripts that carry this answer's nonce (those
files and its own inline script) and lets them talk to this server only: neither a CDN that
served other bytes nor a script injected beside them could run code on this origin, where the
console's session cookie lives.
"""

from __future__ import annotations

import html
import secrets

CDN = "https://cdn.jsdelivr.net/npm"
# (path under the CDN, its SHA-384 as npm publishes the file)
STYLESHEET = (
    "graphiql@3.8.3/graphiql.min.css",
    "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
)
SCRIPTS = (
    (
        "react@18.3.1/umd/react.production.min.js",
        "sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z",
    ),
    (
        "react-dom@18.3.1/umd/react-dom.production.min.js",
        "sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1",
    ),
    (
        "graphiql@3.8.3/graphiql.min.js",
        "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
    ),
)
# The endpoint comes from the page's data attribute, so one script serves every face.
START_SCRIPT = """
  const root = document.getElementById("explorer");
  const fetcher = GraphiQL.createFetcher({ url: root.dataset.endpoint });
  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, {
    fetcher,
    defaultHeaders: '{"Authorization": "Bearer <token from POST /clients/token>"}',
    isHeadersEditorEnabled: true,
  }));
"""


def explorer_headers(nonce: str) -> dict[str, str]:
    """The page's security headers, for the scripts carrying `nonce`."""
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; script-src 'nonce-{nonce}'; "
            # GraphiQL's editors add style elements of their own.
            f"style-src {CDN}/ 'unsafe-inline'; font-src data:; img-src 'self' data:; "
            "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",  # a nonce is good for one answer
    }


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def explorer_page(title: str, endpoint: str, nonce: str) -> str:
    """GraphiQL, with a headers tab for `{"Authorization": "Bearer <token>"}`; its scripts carry
    `nonce`, the one `explorer_headers` allows."""
    css_path, css_hash = STYLESHEET
    scripts = "\n".join(
        f'<script nonce="{nonce}" src="{CDN}/{path}" integrity="{digest}" '
        'crossorigin="anonymous"></script>'
        for path, digest in SCRIPTS
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · tenantry</title>
<link rel="stylesheet" href="{CDN}/{css_path}" integrity="{css_hash}" crossorigin="anonymous">
<style>body {{ margin: 0; height: 100vh; }} #explorer {{ height: 100vh; }}</style>
</head>
<body>
<noscript>This explorer needs JavaScript. POST GraphQL requests to {html.escape(endpoint)}
with <code>Authorization: Bearer &lt;token&gt;</code>.</noscript>
<div id="explorer" data-endpoint="{html.escape(endpoint)}"></div>
{scripts}
<script nonce="{nonce}">{START_SCRIPT}</script>
</body>
</html>"""
