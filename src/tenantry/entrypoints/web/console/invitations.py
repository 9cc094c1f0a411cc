"""Console pages: invitations (being built)."""

from __future__ import annotations

from fastapi import APIRouter

from tenantry.entrypoints.web.console.base import Console


def add_invitation_pages(router: APIRouter, console: Console) -> None:
    pass
