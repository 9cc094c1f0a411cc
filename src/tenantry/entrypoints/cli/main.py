"""The `tenantry` command: global options, the command groups, and domain errors → exit 1."""

from __future__ import annotations

from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from tenantry import __version__
from tenantry.domain.errors import DomainError
from tenantry.entrypoints.cli import (
    access,
    accounts,
    api_accounts,
    apps,
    audit,
    backups,
    database,
    outbox,
    server,
    setup,
    sso,
    tokens,
    users,
    webhooks,
)
from tenantry.entrypoints.cli.output import fail, make_console
from tenantry.entrypoints.cli.runtime import CompositionFactory, Runtime
from tenantry.services.ports import DatabaseUnavailable


class _DomainErrorsExit(TyperGroup):
    """Every command runs inside this group, so a refused operation, or a database that
    cannot be reached, is rendered here, once: a message in red on stderr and exit status 1,
    never a traceback."""

    # Typed loosely: typer's own Context base class is private to typer.
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except DomainError as error:
            _fail(ctx, error.message)
        except DatabaseUnavailable as error:
            _fail(ctx, f"Cannot reach the database: {error}")


def _fail(ctx: Any, message: str) -> NoReturn:
    found = ctx.find_object(Runtime)
    fail(found.err if found else make_console(stderr=True), message)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"tenantry {__version__}")
        raise typer.Exit()


def build_cli(make_composition: CompositionFactory) -> typer.Typer:
    """The command tree around a composition factory (the real one, or a test's)."""
    cli = typer.Typer(
        cls=_DomainErrorsExit,
        name="tenantry",
        help="Operate a tenantry control plane: database, server, accounts and credentials.",
        no_args_is_help=True,
        # Locals in a traceback can hold secrets and database passwords.
        pretty_exceptions_show_locals=False,
    )

    @cli.callback()
    def main(
        ctx: typer.Context,
        database_url: Annotated[
            str | None,
            typer.Option(
                "--database-url",
                help="Database URL; overrides TENANTRY_DATABASE_URL.",
                show_default=False,
            ),
        ] = None,
        version: Annotated[
            bool,
            typer.Option(
                "--version",
                callback=_show_version,
                is_eager=True,
                help="Show the version and exit.",
            ),
        ] = False,
    ) -> None:
        state = Runtime(make_composition, database_url)
        ctx.obj = state
        ctx.call_on_close(state.close)

    server.register(cli)
    setup.register(cli)
    backups.register(cli)
    cli.add_typer(database.app, name="db")
    cli.add_typer(accounts.app, name="accounts")
    cli.add_typer(apps.app, name="apps")
    cli.add_typer(api_accounts.app, name="api-accounts")
    cli.add_typer(tokens.app, name="tokens")
    cli.add_typer(access.app, name="access")
    cli.add_typer(users.app, name="users")
    cli.add_typer(outbox.app, name="outbox")
    cli.add_typer(webhooks.app, name="webhooks")
    cli.add_typer(sso.app, name="sso")
    cli.add_typer(audit.app, name="audit")
    return cli


def run(make_composition: CompositionFactory) -> None:
    """Entry point of the `tenantry` script (called by `tenantry.app.cli`)."""
    build_cli(make_composition)(prog_name="tenantry")
