"""`tenantry init`: the host account, its admin and an API account, made once."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from tenantry.entrypoints.cli.options import JsonOption
from tenantry.entrypoints.cli.output import plain, print_json
from tenantry.entrypoints.cli.runtime import runtime
from tenantry.services import setup
from tenantry.services.setup import InitResult


def init(
    ctx: typer.Context,
    account_name: Annotated[str, typer.Option(help="Name of the host account.")] = "Host",
    admin_email: Annotated[str, typer.Option(help="E-mail of the first admin.")] = (
        "admin@example.com"
    ),
    client_id: Annotated[str, typer.Option(help="Client id of the first API account.")] = (
        "tenantryadmin"
    ),
    as_json: JsonOption = False,
) -> None:
    """Apply the migrations, then create the host account, its admin and an API account.

    Safe to run again: a second run changes nothing and shows no secret.
    """
    state = runtime(ctx)
    state.composition.upgrade_database()
    result = setup.initialize(
        state.services, account_name=account_name, admin_email=admin_email, client_id=client_id
    )
    if as_json:
        print_json(
            {
                "created": result.created,
                "account_id": result.account_id,
                "admin_email": result.admin_email,
                "admin_password": result.admin_password,
                "client_id": result.client_id,
                "client_secret": result.client_secret,
            }
        )
        return
    state.out.print(_panel(result))


def _panel(result: InitResult) -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("Account id", plain(result.account_id))
    grid.add_row("Admin e-mail", plain(result.admin_email))
    if result.created:
        grid.add_row("Admin password", plain(result.admin_password))
    grid.add_row("API client id", plain(result.client_id))
    if not result.created:
        note = Text(
            "Already initialized: nothing changed. Secrets are shown only on the first run."
        )
        return Panel.fit(Group(grid, "", note), title="tenantry", border_style="blue")
    grid.add_row("API client secret", plain(result.client_secret))
    note = Text(
        "The password and the client secret are shown once, now: store them safely.",
        style="yellow",
    )
    return Panel.fit(Group(grid, "", note), title="tenantry initialized", border_style="green")


def register(cli: typer.Typer) -> None:
    cli.command()(init)
