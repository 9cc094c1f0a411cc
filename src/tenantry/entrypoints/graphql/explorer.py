"""The GraphiQL explorer served on GET, for people trying the API in a browser: the shared
documentation page (`http.api_docs`), its scripts served by tenantry itself, pinned, under a
strict Content-Security-Policy."""

from __future__ import annotations

from tenantry.entrypoints.http.api_docs import graphiql_page, new_nonce, page_headers

__all__ = ["explorer_headers", "explorer_page", "new_nonce"]


def explorer_headers(nonce: str) -> dict[str, str]:
    """The page's security headers, for the scripts carrying `nonce`."""
    return page_headers(nonce)


def explorer_page(title: str, endpoint: str, nonce: str) -> str:
    """GraphiQL, with a headers tab for `{"Authorization": "Bearer <token>"}`; its scripts carry
    `nonce`, the one `explorer_headers` allows."""
    return graphiql_page(title, endpoint, nonce)
