"""`tenantry audit`: an account's trail written out whole, and the events past the retention
deleted."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Annotated, TextIO

import typer

from tenantry.entrypoints.audit_export import FORMATS, Format, export_lines, parse_moment
from tenantry.entrypoints.cli.options import AccountOption, JsonOption
from tenantry.entrypoints.cli.output import counted, fail, print_json
from tenantry.entrypoints.cli.runtime import Runtime, runtime
from tenantry.services import audit

app = typer.Typer(help="The audit trail: export it, prune it.", no_args_is_help=True)

MOMENT_HELP = "A date (2024-05-31) or an ISO 8601 date and time; UTC unless it says otherwise."


@app.command()
def export(
    ctx: typer.Context,
    account: AccountOption,
    since: Annotated[
        str | None, typer.Option(help=f"Events at or after this. {MOMENT_HELP}")
    ] = None,
    until: Annotated[str | None, typer.Option(help=f"Events before this. {MOMENT_HELP}")] = None,
    format: Annotated[
        str, typer.Option("--format", help="csv or jsonl (a JSON object per line).")
    ] = "csv",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file rather than to stdout."),
    ] = None,
) -> None:
    """Write the account's audit events, oldest first, as they are read: a page at a time,
    so a trail of millions of events takes no more memory than a short one."""
    state = runtime(ctx)
    if format not in FORMATS:
        fail(state.err, f"--format is csv or jsonl, not {format!r}.")
    filters = audit.AuditFilters(
        since=_moment(state, "--since", since), until=_moment(state, "--until", until)
    )
    events = audit.export_audit_events(state.services, state.actor, account, filters)
    lines = export_lines(events, _format(format))
    if output is None:
        _write(lines, sys.stdout)
        return
    with output.open("w", encoding="utf-8", newline="") as file:
        _write(lines, file)


@app.command()
def prune(
    ctx: typer.Context,
    older_than_days: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Keep this many days; TENANTRY_AUDIT_RETENTION_DAYS when not given.",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Delete the audit events older than the retention (servers do it every few minutes
    while TENANTRY_AUDIT_RETENTION_DAYS is set; this is for when none runs, or for once)."""
    state = runtime(ctx)
    deleted = audit.prune_audit_events(state.services, state.actor, older_than_days=older_than_days)
    if as_json:
        print_json({"deleted": deleted})
    else:
        state.out.print(f"Deleted {counted(deleted, 'audit event')}.")


def _moment(state: Runtime, option: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_moment(text)
    except ValueError:
        fail(state.err, f"{option}: {MOMENT_HELP}")


def _format(text: str) -> Format:
    return "jsonl" if text == "jsonl" else "csv"


def _write(lines: Iterable[str], out: TextIO) -> None:
    for line in lines:
        out.write(line)
    out.flush()
