"""`tenantry api-accounts`: client credentials that scripts exchange for access tokens."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from tenantry.entrypoints.cli.options import AccountOption, JsonOption, RoleOption
from tenantry.entrypoints.cli.output import counted, plain, print_json, when
from tenantry.entrypoints.cli.runtime import runtime
from tenantry.services import credentials

app = typer.Typer(help="API accounts (client id and secret).", no_args_is_help=True)

ClientId = Annotated[str, typer.Argument(help="Client id: letters and digits, at most 20.")]


@app.command()
def create(
    ctx: typer.Context,
    account: AccountOption,
    client_id: ClientId,
    role: RoleOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API account acting with a role (admin by default); its secret is shown once."""
    state = runtime(ctx)
    api_account, secret = credentials.create_api_account(
        state.services, state.actor, account, client_id, role_key=role
    )
    if as_json:
        print_json(
            {
                "account_id": api_account.account_id,
                "client_id": api_account.client_id,
                "role": api_account.role_key,
                "client_secret": secret,
            }
        )
        return
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("Account id", plain(api_account.account_id))
    grid.add_row("Client id", plain(api_account.client_id))
    grid.add_row("Role", plain(api_account.role_key))
    grid.add_row("Client secret", plain(secret))
    note = Text("The secret is shown once, now: store it safely.", style="yellow")
    state.out.print(
        Panel.fit(Group(grid, "", note), title="API account created", border_style="green")
    )


@app.command("list")
def list_(ctx: typer.Context, account: AccountOption) -> None:
    """List an account's API accounts (never their secrets)."""
    state = runtime(ctx)
    found = credentials.list_api_accounts(state.services, state.actor, account)
    table = Table(
        "client id",
        "role",
        "created",
        "created by",
        "last used",
        "revoked",
        title=counted(len(found), "API account"),
    )
    for api_account in found:
        table.add_row(
            plain(api_account.client_id),
            plain(api_account.role_key),
            when(api_account.created_at),
            plain(api_account.created_by),
            when(api_account.last_used_at),
            when(api_account.revoked_at, empty="no"),
        )
    state.out.print(table)


@app.command()
def revoke(ctx: typer.Context, account: AccountOption, client_id: ClientId) -> None:
    """Revoke an API account; its access tokens stop working at once."""
    state = runtime(ctx)
    credentials.revoke_api_account(state.services, state.actor, account, client_id)
    state.out.print(
        Text.assemble("Revoked API account ", (client_id, "bold"), "; its tokens no longer work.")
    )
