"""`tenantry users`: bring people into an account in bulk."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress
from rich.table import Table
from rich.text import Text

from tenantry.domain.errors import DomainError, ErrorCode
from tenantry.entrypoints.cli.options import AccountOption, JsonOption
from tenantry.entrypoints.cli.output import fail, plain, print_json, when
from tenantry.entrypoints.cli.runtime import runtime
from tenantry.entrypoints.cli.user_csv import CsvProblem, read_rows
from tenantry.services import auth_resets, members
from tenantry.services.delivery import invitation_link

app = typer.Typer(help="Users and their roles in accounts.", no_args_is_help=True)


@dataclass(slots=True, frozen=True)
class Refusal:
    line: int
    email: str
    message: str


@dataclass(slots=True, frozen=True)
class InvitationLink:
    email: str
    link: str


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV with a header row: email, username, role, department, app_ids, "
            "media_sources, geos, all_future_apps.",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    account: AccountOption,
    as_json: JsonOption = False,
) -> None:
    """Add the users of a CSV file to an account, each row on its own.

    A refused row does not stop the others; the exit status is 1 when any row was refused.
    New users are invited: by e-mail when SMTP is configured, otherwise their invitation
    links are printed, for you to pass on.
    """
    state = runtime(ctx)
    try:
        rows = read_rows(file, state.services.roles)
    except CsvProblem as problem:
        fail(state.err, str(problem))
    added: list[str] = []
    refused: list[Refusal] = []
    links: list[InvitationLink] = []
    show_links = state.services.mailer is None
    progress = Progress(
        *Progress.get_default_columns(),
        MofNCompleteColumn(),
        console=state.err,
        disable=not state.err.is_terminal,
        transient=True,
    )
    with progress:
        task = progress.add_task("Adding users", total=len(rows))
        for row in rows:
            if row.member is None:
                refused.append(Refusal(row.line, row.email, row.problem or "Invalid row."))
            else:
                try:
                    result = members.add_member(state.services, state.actor, account, row.member)
                except DomainError as error:
                    if error.code is ErrorCode.ACCOUNT_NOT_FOUND:
                        raise  # no row can succeed: one message, not one per row
                    refused.append(Refusal(row.line, row.email, error.message))
                else:
                    added.append(result.user.email)
                    if show_links and result.invitation_token:
                        link = invitation_link(state.services, result.invitation_token, row.email)
                        links.append(InvitationLink(result.user.email, link))
            progress.advance(task)

    if as_json:
        print_json(
            {
                "added": added,
                "refused": [asdict(r) for r in refused],
                "invitation_links": [asdict(i) for i in links],
            }
        )
    else:
        _report(state.out, added, refused, links)
    if refused:
        raise typer.Exit(1)


def _report(
    out: Console, added: list[str], refused: list[Refusal], links: list[InvitationLink]
) -> None:
    if refused:
        table = Table("line", "email", "message", title="Refused rows", title_style="bold red")
        for refusal in refused:
            table.add_row(plain(refusal.line), plain(refusal.email), plain(refusal.message))
        out.print(table)
    out.print(
        Text.assemble(
            (f"{len(added)} added", "green"),
            ", ",
            (f"{len(refused)} refused", "red" if refused else ""),
        )
    )
    if links:
        # One line each and never wrapped, so that a link can be copied whole.
        out.print("Invitation links (no SMTP server is configured: pass them on yourself):")
        for invited in links:
            out.print(Text(f"  {invited.email} {invited.link}"), soft_wrap=True)


@app.command("reset-link")
def reset_link(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The user's e-mail address.")],
    as_json: JsonOption = False,
) -> None:
    """Print a link that sets a new password for the user, valid for an hour.

    For a lost password where no SMTP server is configured (for example the first admin's):
    hand the link to its owner. Earlier reset links of the user stop working.
    """
    state = runtime(ctx)
    mail = auth_resets.issue_password_reset(state.services, state.actor, email)
    if as_json:
        expires = mail.expires_at.isoformat()
        print_json({"email": mail.to, "link": mail.link, "expires_at": expires})
        return
    state.out.print(
        Text.assemble("Reset link for ", plain(mail.to), ", valid until ", when(mail.expires_at))
    )
    state.out.print(Text(mail.link), soft_wrap=True)
