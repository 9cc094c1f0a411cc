"""`tenantry serve`: migrate, then serve the HTTP faces with uvicorn."""

from __future__ import annotations

import importlib.util
import os
from typing import Annotated, Any

import typer
import uvicorn

from tenantry.entrypoints.cli.runtime import runtime

# Several workers are separate processes that each build the app, so uvicorn needs the app as
# an import string; a string keeps this module free of an import of `tenantry.app`.
APP_FACTORY = "tenantry.app:create_app"
DATABASE_URL_ENV = "TENANTRY_DATABASE_URL"


def _fastest(module: str, fallback: str) -> str:
    return module if importlib.util.find_spec(module) is not None else fallback


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Apply the database migrations, then serve the HTTP faces."""
    state = runtime(ctx)
    composition = state.composition
    composition.upgrade_database()
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "loop": _fastest("uvloop", "asyncio"),
        "http": _fastest("httptools", "h11"),
        # The app logs every request as one JSON line itself.
        "access_log": False,
    }
    if workers == 1:
        uvicorn.run(composition.asgi_app(), **options)
        return
    # The workers read their settings from the environment, so an overriding
    # --database-url must travel there.
    os.environ[DATABASE_URL_ENV] = state.settings.database_url
    uvicorn.run(APP_FACTORY, factory=True, workers=workers, **options)


def register(cli: typer.Typer) -> None:
    cli.command()(serve)
