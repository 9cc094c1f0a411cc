"""`tenantry apps`: an account's app catalogue, which user scopes refer to."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from tenantry.entrypoints.cli.options import AccountOption
from tenantry.entrypoints.cli.output import counted, plain
from tenantry.entrypoints.cli.runtime import runtime
from tenantry.services import accounts

app = typer.Typer(help="The apps of an account.", no_args_is_help=True)

AppId = Annotated[str, typer.Argument(help="App id, e.g. com.example.app or id123456789.")]


@app.command()
def add(
    ctx: typer.Context,
    account: AccountOption,
    app_id: AppId,
    name: Annotated[str, typer.Option(help="Display name (the app id by default).")] = "",
) -> None:
    """Add an app to an account."""
    state = runtime(ctx)
    accounts.add_app(state.services, state.actor, account, app_id, name)
    state.out.print(Text.assemble("Added app ", (app_id, "bold"), " to account ", account, "."))


@app.command("list")
def list_(ctx: typer.Context, account: AccountOption) -> None:
    """List an account's apps."""
    state = runtime(ctx)
    found = accounts.list_apps(state.services, state.actor, account)
    table = Table("app id", "name", title=counted(len(found), "app"))
    for app_id, name in sorted(found.items()):
        table.add_row(plain(app_id), plain(name))
    state.out.print(table)


@app.command()
def remove(ctx: typer.Context, account: AccountOption, app_id: AppId) -> None:
    """Remove an app from an account."""
    state = runtime(ctx)
    accounts.remove_app(state.services, state.actor, account, app_id)
    state.out.print(Text.assemble("Removed app ", (app_id, "bold"), " from account ", account, "."))
