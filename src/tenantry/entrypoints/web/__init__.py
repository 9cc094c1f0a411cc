"""The browser face: server-rendered pages (Jinja2) over the same services as every face.

`pages.Web` is the base every page builds on (layout, CSRF, session cookie, flash messages);
the `/auth/` pages are built on it now, the console under `/hub/` later.
"""

from tenantry.entrypoints.web.router import web_router

__all__ = ["web_router"]
