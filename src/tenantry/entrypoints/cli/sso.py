"""`tenantry sso`: an account's identity provider for single sign-on (OpenID Connect)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tenantry.entrypoints.cli.options import JsonOption
from tenantry.entrypoints.cli.output import fail, plain, print_json
from tenantry.entrypoints.cli.runtime import runtime
from tenantry.services import sso_config
from tenantry.services.sso_config import ProviderSettings, ProviderView

app = typer.Typer(
    help="Single sign-on: an account's OpenID Connect identity provider.", no_args_is_help=True
)

AccountId = Annotated[str, typer.Argument(help="Account id.", show_default=False)]


@app.command("set")
def set_(
    ctx: typer.Context,
    account: AccountId,
    issuer: Annotated[
        str, typer.Option(help="The provider's issuer URL (discovery).", show_default=False)
    ],
    client_id: Annotated[str, typer.Option(help="The client id.", show_default=False)],
    client_secret: Annotated[
        str,
        typer.Option(
            help="The client secret (stored encrypted, never shown).",
            envvar="TENANTRY_SSO_CLIENT_SECRET",
            show_default=False,
            show_envvar=True,
        ),
    ],
    domains: Annotated[
        str, typer.Option(help="E-mail domains it serves, comma-separated.", show_default=False)
    ],
    jit_role: Annotated[
        str | None,
        typer.Option(help="Role given to people who arrive for the first time (none: refused)."),
    ] = None,
    scopes: Annotated[
        str | None, typer.Option(help="Scopes, comma-separated (openid and email always).")
    ] = None,
    require_verified_email: Annotated[
        bool,
        typer.Option(
            "--require-verified-email/--no-require-verified-email",
            help="Refuse addresses the provider has not verified (email_verified).",
        ),
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Set (or replace) the account's identity provider."""
    state = runtime(ctx)
    view = sso_config.set_identity_provider(
        state.services,
        state.actor,
        account,
        ProviderSettings(
            issuer=issuer,
            client_id=client_id,
            client_secret=client_secret,
            domains=domains.split(","),
            scopes=scopes.split(",") if scopes is not None else None,
            jit_role_key=jit_role,
            require_verified_email=require_verified_email,
        ),
    )
    if as_json:
        print_json(view.as_dict())
        return
    state.out.print(
        Text.assemble("Single sign-on of ", plain(account), " goes to ", plain(view.issuer), ".")
    )
    _print(state.out, view)


@app.command()
def show(ctx: typer.Context, account: AccountId, as_json: JsonOption = False) -> None:
    """Show the account's identity provider (never its secret)."""
    state = runtime(ctx)
    view = sso_config.identity_provider(state.services, state.actor, account)
    if view is None:
        if as_json:
            print_json({"account_id": account, "provider": None})
            return
        fail(state.err, sso_config.NO_PROVIDER)
    if as_json:
        print_json(view.as_dict())
        return
    _print(state.out, view)


@app.command()
def remove(ctx: typer.Context, account: AccountId, as_json: JsonOption = False) -> None:
    """Remove the account's identity provider: its domains sign in with passwords again."""
    state = runtime(ctx)
    sso_config.remove_identity_provider(state.services, state.actor, account)
    if as_json:
        print_json({"account_id": account, "removed": True})
        return
    state.out.print(Text.assemble("Removed the identity provider of ", plain(account), "."))


def _print(out: Console, view: ProviderView) -> None:
    table = Table("setting", "value", show_header=False)
    table.add_row("issuer", plain(view.issuer))
    table.add_row("client id", plain(view.client_id))
    table.add_row("client secret", "(kept encrypted)")
    table.add_row("scopes", plain(" ".join(view.scopes)))
    table.add_row("domains", plain(", ".join(view.domains)))
    table.add_row("role for newcomers", plain(view.jit_role_key, "none: refused"))
    table.add_row("verified e-mail required", "yes" if view.require_verified_email else "no")
    out.print(table)
