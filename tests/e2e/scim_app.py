"""The server's ASGI app with the SCIM face, for `uvicorn --factory` in the live tests, whether
or not the server wires the face in already. Settings come from the environment."""

from __future__ import annotations

from fastapi import FastAPI

from tenantry.app import Composition
from tenantry.entrypoints.scim import PREFIX, scim_router


def create() -> FastAPI:
    composition = Composition()
    app = composition.asgi_app()
    if not any(getattr(route, "path", "").startswith(PREFIX) for route in app.routes):
        app.include_router(scim_router(composition.context))
    return app
