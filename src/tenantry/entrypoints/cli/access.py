"""`tenantry access`: what a person may do in an account, and what grants each right."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from tenantry.entrypoints.cli.options import AccountOption, JsonOption
from tenantry.entrypoints.cli.output import counted, plain, print_json
from tenantry.entrypoints.cli.runtime import runtime
from tenantry.services import access

app = typer.Typer(help="Who may do what, and why.", no_args_is_help=True)


def explanation_json(explanation: access.Explanation) -> dict[str, Any]:
    grant = explanation.grant
    return {
        "account_id": explanation.account.id,
        "user_id": explanation.user.id,
        "email": explanation.user.email,
        "role": grant.role.key if grant is not None else None,
        "source": grant.source.value if grant is not None else None,
        "permissions": [
            {
                "action": p.action,
                "capability": p.capability,
                "level": p.level.label,
                "granted_by": p.granted_by,
            }
            for p in explanation.permissions
        ],
        "notes": list(explanation.notes),
    }


@app.command()
def explain(
    ctx: typer.Context,
    account: AccountOption,
    user: Annotated[str, typer.Option(help="The person's e-mail address.", show_default=False)],
    as_json: JsonOption = False,
) -> None:
    """List what a person may do in an account, each right with the membership or
    inheritance that grants it, and what else bears on it (pending, owner, deactivated...)."""
    state = runtime(ctx)
    explanation = access.explain_access(state.services, state.actor, account, email=user)
    if as_json:
        print_json(explanation_json(explanation))
        return
    grant = explanation.grant
    role = (
        Text.assemble("role ", plain(grant.role.display_name), " (", plain(grant.role.key), ")")
        if grant is not None
        else Text("no role")
    )
    state.out.print(
        Text.assemble(
            plain(explanation.user.email),
            " in ",
            plain(explanation.account.name),
            " [",
            plain(explanation.account.id),
            "]: ",
            role,
        )
    )
    if explanation.permissions:
        table = Table(
            "action",
            "level",
            "granted by",
            title=counted(len(explanation.permissions), "permission"),
        )
        for permission in explanation.permissions:
            table.add_row(
                plain(permission.action),
                plain(permission.level.label),
                plain(permission.granted_by),
            )
        state.out.print(table)
    else:
        state.out.print(Text("Nothing is granted.", style="yellow"))
    for note in explanation.notes:
        state.out.print(Text.assemble("• ", plain(note)))
