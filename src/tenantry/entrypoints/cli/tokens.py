"""`tenantry tokens`: long-lived API tokens that act as a member of an account."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from tenantry.domain.errors import InvalidInput
from tenantry.entrypoints.cli.options import AccountOption, JsonOption, RoleOption
from tenantry.entrypoints.cli.output import counted, plain, print_json, when
from tenantry.entrypoints.cli.runtime import runtime
from tenantry.services import credentials

app = typer.Typer(help="API tokens (act as a user in an account).", no_args_is_help=True)


@app.command()
def create(
    ctx: typer.Context,
    account: AccountOption,
    user: Annotated[
        str | None,
        typer.Option(help="E-mail of the member to act as (the account's first admin by default)."),
    ] = None,
    name: Annotated[str, typer.Option(help="A label to recognise the token by.")] = "",
    role: RoleOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API token acting with a role (the user's own by default, never above it);
    it is shown once."""
    state = runtime(ctx)
    try:
        api_token, token, token_user = credentials.create_api_token(
            state.services, state.actor, account, user_email=user, name=name, role_key=role
        )
    except InvalidInput as error:
        if error.field != "user":
            raise
        # Typically a new account whose admin has not accepted the invitation yet: say what
        # gets a token anyway rather than leave the operator at a dead end.
        state.err.print(Text(error.message, style="red"))
        state.err.print(_api_account_way(account, state.settings.base_url), soft_wrap=True)
        raise typer.Exit(1) from None
    if as_json:
        print_json(
            {
                "token": token,
                "account_id": api_token.account_id,
                "user_email": token_user.email,
                "role": api_token.role_key,
            }
        )
        return
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("Token", plain(token))
    grid.add_row("Key", plain(api_token.key))
    grid.add_row("Acts as", plain(token_user.email))
    grid.add_row("Role", plain(api_token.role_key))
    grid.add_row("In account", plain(api_token.account_id))
    note = Text("The token is shown once, now: store it safely.", style="yellow")
    state.out.print(
        Panel.fit(Group(grid, "", note), title="API token created", border_style="green")
    )


def _api_account_way(account: str, base_url: str) -> Text:
    return Text(
        "A token acts as a member who has accepted their invitation. To act in the account "
        "without one, create an API account:\n"
        f"  tenantry api-accounts create --account {account} NAME"
        "   # NAME: letters and digits, not taken\n"
        "then exchange the client secret it prints for a bearer token:\n"
        f"  curl {base_url.rstrip('/')}/clients/token -d grant_type=client_credentials"
        " -d client_id=NAME -d client_secret=SECRET"
    )


@app.command("list")
def list_(ctx: typer.Context, account: AccountOption) -> None:
    """List an account's API tokens by key (never the tokens themselves)."""
    state = runtime(ctx)
    found = credentials.list_api_tokens_with_users(state.services, state.actor, account)
    table = Table(
        "key",
        "user",
        "role",
        "name",
        "created",
        "last used",
        "revoked",
        title=counted(len(found), "API token"),
    )
    for listed in found:
        api_token = listed.token
        table.add_row(
            plain(api_token.key),
            plain(listed.user_email or f"{api_token.user_id} (deleted)"),
            plain(api_token.role_key),
            plain(api_token.name),
            when(api_token.created_at),
            when(api_token.last_used_at),
            when(api_token.revoked_at, empty="no"),
        )
    state.out.print(table)


@app.command()
def revoke(
    ctx: typer.Context,
    account: AccountOption,
    key: Annotated[str, typer.Argument(help="The token's key, as `tokens list` shows it.")],
) -> None:
    """Revoke an API token; it stops working at once."""
    state = runtime(ctx)
    credentials.revoke_api_token(state.services, state.actor, account, key)
    state.out.print(Text.assemble("Revoked API token ", (key, "bold"), "."))
