"""`tenantry backup` and `tenantry restore`: the whole database to a file and back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from tenantry.entrypoints.cli.output import fail, plain
from tenantry.entrypoints.cli.runtime import runtime
from tenantry.services.ports import BackupError


def backup(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="Where to write the backup (replaced if it exists).")
    ],
) -> None:
    """Back up the whole database while it serves: SQLite through its online backup API,
    PostgreSQL with pg_dump (custom format)."""
    state = runtime(ctx)
    try:
        state.composition.backup(file)
    except BackupError as error:
        fail(state.err, str(error))
    state.out.print(Text.assemble("Backed up to ", plain(str(file)), "."))


def restore(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A backup written by `tenantry backup`.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Replace the database without asking.")
    ] = False,
) -> None:
    """Replace everything in the database with a backup. Stop the servers first; run
    `tenantry db upgrade` afterwards when the backup is older than this release."""
    state = runtime(ctx)
    if not yes and not typer.confirm("Replace every row of the database with the backup?"):
        fail(state.err, "Nothing was restored.")
    try:
        state.composition.restore(file)
    except BackupError as error:
        fail(state.err, str(error))
    current, head = state.composition.database_revisions()
    state.out.print(Text.assemble("Restored from ", plain(str(file)), "."))
    if current != head:
        state.out.print(Text("Run `tenantry db upgrade` to migrate it.", style="yellow"))


def register(cli: typer.Typer) -> None:
    cli.command()(backup)
    cli.command()(restore)
