"""The GraphiQL explorer served on GET, for people trying the API in a browser: the shared
documentation page (`http.api_docs`), its scripts served by tenantry itself, pinned, under a
strict Content-Security-Policy; `explorer_headers` allows the scripts carrying the nonce that
`explorer_page` gives them."""

from __future__ import annotations

from tenantry.entrypoints.http.api_docs import graphiql_page as explorer_page
from tenantry.entrypoints.http.api_docs import new_nonce
from tenantry.entrypoints.http.api_docs import page_headers as explorer_headers

__all__ = ["explorer_headers", "explorer_page", "new_nonce"]
