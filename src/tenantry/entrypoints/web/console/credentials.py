"""Console pages: credentials (being built)."""

from __future__ import annotations

from fastapi import APIRouter

from tenantry.entrypoints.web.console.base import Console


def add_credential_pages(router: APIRouter, console: Console) -> None:
    pass
