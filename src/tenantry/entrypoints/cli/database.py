"""`tenantry db`: apply the migrations, show where the database stands, and delete what it
keeps only for a while."""

from __future__ import annotations

import typer
from rich.text import Text

from tenantry.entrypoints.cli.output import counted, plain
from tenantry.entrypoints.cli.runtime import runtime
from tenantry.services import idempotency

app = typer.Typer(help="The database schema (Alembic migrations).", no_args_is_help=True)


@app.command()
def upgrade(ctx: typer.Context) -> None:
    """Apply every migration up to the newest one."""
    state = runtime(ctx)
    state.composition.upgrade_database()
    current, _ = state.composition.database_revisions()
    state.out.print(Text.assemble("The database is at revision ", plain(current), " (newest)."))


@app.command()
def current(ctx: typer.Context) -> None:
    """Show the database's revision and the newest one this release ships."""
    state = runtime(ctx)
    current, head = state.composition.database_revisions()
    state.out.print(Text.assemble("current: ", plain(current, empty="none (empty database)")))
    state.out.print(Text.assemble("head:    ", plain(head)))
    if current != head:
        state.out.print(Text("Run `tenantry db upgrade` to migrate.", style="yellow"))


@app.command()
def prune(ctx: typer.Context) -> None:
    """Delete the idempotency keys older than a day, and the answers kept with them (servers
    do this every few minutes; this is for when none runs)."""
    state = runtime(ctx)
    deleted = idempotency.prune_idempotency_keys(state.services)
    state.out.print(f"Deleted {counted(deleted, 'idempotency key')} older than a day.")
