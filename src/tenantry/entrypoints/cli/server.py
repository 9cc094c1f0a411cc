"""`tenantry serve`: migrate, then serve the HTTP faces with uvicorn."""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from typing import Annotated, Any

import typer
import uvicorn

from tenantry.entrypoints.cli.runtime import runtime

# Several workers are separate processes that each build the app, so uvicorn needs the app as
# an import string; a string keeps this module free of an import of `tenantry.app`.
APP_FACTORY = "tenantry.app:create_app"
DATABASE_URL_ENV = "TENANTRY_DATABASE_URL"
# prometheus_client's: where each process writes its counts, for /metrics to add them up.
METRICS_FOLDER_ENV = "PROMETHEUS_MULTIPROC_DIR"


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
    settings = state.settings
    shared_metrics = (
        settings.metrics or settings.metrics_token is not None
    ) and not os.environ.get(METRICS_FOLDER_ENV)
    if shared_metrics:
        # A fresh folder, so that no earlier run's counts are added in.
        os.environ[METRICS_FOLDER_ENV] = tempfile.mkdtemp(prefix="tenantry-metrics-")
    try:
        uvicorn.run(APP_FACTORY, factory=True, workers=workers, **options)
    finally:
        if shared_metrics:
            shutil.rmtree(os.environ.pop(METRICS_FOLDER_ENV), ignore_errors=True)


def register(cli: typer.Typer) -> None:
    cli.command()(serve)
