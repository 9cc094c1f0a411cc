"""The server's ASGI app (which serves the SCIM face), for `uvicorn --factory` in the live
tests. Settings come from the environment."""

from __future__ import annotations

from fastapi import FastAPI

from tenantry.app import Composition


def create() -> FastAPI:
    return Composition().asgi_app()
