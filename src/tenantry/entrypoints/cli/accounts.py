"""`tenantry accounts`: create and list accounts."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from tenantry.domain.accounts import Account, AccountKind
from tenantry.entrypoints.cli.options import JsonOption
from tenantry.entrypoints.cli.output import counted, plain, print_json
from tenantry.entrypoints.cli.runtime import runtime
from tenantry.services import accounts

app = typer.Typer(help="Partner, agency and advertiser accounts.", no_args_is_help=True)

AccountId = Annotated[str, typer.Argument(help="Account id.", show_default=False)]


def status_label(account: Account) -> str:
    return account.status.name.lower().replace("_", " ")


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="Account name.", show_default=False)],
    kind: Annotated[AccountKind, typer.Option(help="Kind of account.", show_default=False)],
    parent: Annotated[
        str | None, typer.Option(help="Parent account id (none for a top-level account).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create an account, at the top or under a parent."""
    state = runtime(ctx)
    account = accounts.create_account(
        state.services, state.actor, name=name, kind=kind, parent_id=parent
    )
    if as_json:
        print_json(
            {
                "id": account.id,
                "name": account.name,
                "kind": account.kind.value,
                "parent_id": account.parent_id,
                "status": int(account.status),
            }
        )
        return
    where = Text.assemble(" under ", plain(account.parent_id)) if account.parent_id else ""
    state.out.print(
        Text.assemble(
            f"Created {account.kind.value} account ",
            (account.name, "bold"),
            " with id ",
            (account.id, "bold"),
            where,
            ".",
        )
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    parent: Annotated[str | None, typer.Option(help="Only the children of this account.")] = None,
    search: Annotated[str | None, typer.Option(help="Only names containing this text.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=accounts.MAX_PAGE)] = 50,
    after: Annotated[
        str | None, typer.Option(help="Continue after this account id (the previous page's last).")
    ] = None,
) -> None:
    """List accounts, ordered by id, a page at a time."""
    state = runtime(ctx)
    found = accounts.list_accounts(
        state.services, state.actor, parent_id=parent, search=search, limit=limit, after=after
    )
    table = Table("id", "name", "kind", "parent", "status", title=counted(len(found), "account"))
    for account in found:
        table.add_row(
            plain(account.id),
            plain(account.name),
            plain(account.kind.value),
            plain(account.parent_id),
            plain(status_label(account)),
        )
    state.out.print(table)
    if len(found) == limit:
        state.out.print(Text(f"More may follow: --after {found[-1].id}", style="dim"))


@app.command("transfer-ownership")
def transfer_ownership(
    ctx: typer.Context,
    account: AccountId,
    to: Annotated[
        str,
        typer.Option("--to", help="E-mail of an active admin of the account.", show_default=False),
    ],
    as_json: JsonOption = False,
) -> None:
    """Make another active admin of the account its owner (the owner's protections move with
    it: the new owner can't be removed, deactivated or demoted; the former one can)."""
    state = runtime(ctx)
    changed, new_owner = accounts.transfer_ownership(
        state.services, state.actor, account, new_owner_email=to
    )
    if as_json:
        print_json(
            {"account_id": changed.id, "owner_user_id": new_owner.id, "email": new_owner.email}
        )
        return
    state.out.print(
        Text.assemble(
            plain(new_owner.email),
            " now owns ",
            (changed.name, "bold"),
            " [",
            plain(changed.id),
            "].",
        )
    )
