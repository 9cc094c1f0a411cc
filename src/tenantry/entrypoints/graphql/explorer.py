"""The GraphiQL explorer served on GET, for people trying the API in a browser.

Its scripts come from a CDN, pinned to exact versions with Subresource Integrity hashes, and
the page's Content-Security-Policy allows those files, its own inline script (by hash) and
requests to this server only: a CDN that served other bytes could not run code on this
origin, where the console's session cookie lives.
"""

from __future__ import annotations

import base64
import hashlib
import html

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
# The same for every face: the endpoint comes from the page's data attribute, so the script's
# hash (in the policy below) never changes.
START_SCRIPT = """
  const root = document.getElementById("explorer");
  const fetcher = GraphiQL.createFetcher({ url: root.dataset.endpoint });
  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, {
    fetcher,
    defaultHeaders: '{"Authorization": "Bearer <token from POST /clients/token>"}',
    isHeadersEditorEnabled: true,
  }));
"""
_START_SCRIPT_HASH = base64.b64encode(hashlib.sha256(START_SCRIPT.encode()).digest()).decode()

HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; script-src {CDN}/ 'sha256-{_START_SCRIPT_HASH}'; "
        # GraphiQL's editors add style elements of their own.
        f"style-src {CDN}/ 'unsafe-inline'; font-src data:; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def explorer_page(title: str, endpoint: str) -> str:
    """GraphiQL, with a headers tab for `{"Authorization": "Bearer <token>"}`."""
    css_path, css_hash = STYLESHEET
    scripts = "\n".join(
        f'<script src="{CDN}/{path}" integrity="{digest}" crossorigin="anonymous"></script>'
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
<script>{START_SCRIPT}</script>
</body>
</html>"""
