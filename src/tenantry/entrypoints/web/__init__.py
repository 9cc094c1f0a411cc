"""The browser face: server-rendered pages (Jinja2) over the same services as every face.

`pages.Web` is the base every page builds on (layout, CSRF, session cookie, flash messages);
the `/auth/` pages and the console under `/hub/` are built on it.
"""

from tenantry.entrypoints.web.router import PATHS, web_app

__all__ = ["PATHS", "web_app"]
