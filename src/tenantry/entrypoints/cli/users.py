"""`tenantry users`: bring people into an account in bulk."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress
from rich.table import Table
from rich.text import Text

from tenantry.entrypoints.cli.options import AccountOption, JsonOption
from tenantry.entrypoints.cli.output import fail, plain, print_json, when
from tenantry.entrypoints.cli.runtime import runtime
from tenantry.entrypoints.cli.user_csv import CsvProblem, Row, read_rows
from tenantry.services import auth_resets
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.delivery import invitation_link
from tenantry.services.membership_changes import apply_membership_changes

app = typer.Typer(help="Users and their roles in accounts.", no_args_is_help=True)

ROWS_PER_BATCH = 500
"""Rows added in one transaction: a file of any size goes in steps of bounded size."""


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
            help="CSV with a header row: email, role, username, department, app_ids, "
            "media_sources, geos, all_future_apps (see the README).",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    account: AccountOption,
    as_json: JsonOption = False,
) -> None:
    """Add the users of a CSV file to an account, each row on its own.

    A refused row does not stop the others (rows are added up to 500 per transaction); the
    exit status is 1 when any row was refused.
    New users are invited: by e-mail when SMTP is configured, otherwise their invitation
    links are printed, for you to pass on.
    """
    state = runtime(ctx)
    try:
        rows = read_rows(file, state.services.roles)
    except CsvProblem as problem:
        fail(state.err, str(problem))
    progress = Progress(
        *Progress.get_default_columns(),
        MofNCompleteColumn(),
        console=state.err,
        disable=not state.err.is_terminal,
        transient=True,
    )
    outcome = _Outcome()
    with progress:
        task = progress.add_task("Adding users", total=len(rows))
        for start in range(0, len(rows), ROWS_PER_BATCH):
            batch = rows[start : start + ROWS_PER_BATCH]
            _add_rows(state.services, state.actor, account, batch, outcome)
            progress.advance(task, len(batch))
    added, refused, links = outcome.added, outcome.refused, outcome.links
    refused.sort(key=lambda refusal: refusal.line)

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


@dataclass(slots=True)
class _Outcome:
    added: list[str] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    links: list[InvitationLink] = field(default_factory=list)


def _add_rows(
    ctx: ServiceContext, actor: Actor, account: str, rows: list[Row], outcome: _Outcome
) -> None:
    """Add the rows that can be read, in one call of the membership changes service."""
    outcome.refused += [
        Refusal(row.line, row.email, row.problem or "Invalid row.")
        for row in rows
        if row.member is None
    ]
    readable = [row for row in rows if row.member is not None]
    changes = [row.member for row in readable if row.member is not None]
    report = apply_membership_changes(ctx, actor, account, changes)
    outcome.refused += [
        Refusal(readable[e.index].line, e.email, e.error.message) for e in report.errors
    ]
    for index, result in report.applied:
        outcome.added.append(result.user.email)
        # Without SMTP, nothing mails the invitations: their links are shown instead.
        if ctx.mailer is None and result.invitation_token:
            link = invitation_link(ctx, result.invitation_token, readable[index].email)
            outcome.links.append(InvitationLink(result.user.email, link))


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
