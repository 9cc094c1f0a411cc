"""`tenantry outbox`: the mail and webhook deliveries waiting to go out, and a sender in a
process of its own."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from tenantry.domain.outbox import OutboxEntry, OutboxStatus
from tenantry.entrypoints.cli.options import JsonOption
from tenantry.entrypoints.cli.output import counted, plain, print_json, when
from tenantry.entrypoints.cli.runtime import runtime
from tenantry.services import outbox

app = typer.Typer(
    help="Mail and webhook deliveries waiting to go out (the outbox).", no_args_is_help=True
)

NO_MAILER = "No SMTP server is configured (TENANTRY_SMTP_HOST): no mail is sent."


@app.command()
def run(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Send what is due now, then exit.")] = False,
) -> None:
    """Send the outbox's mail and webhook deliveries until stopped (Ctrl-C), as the server does
    in the background."""
    state = runtime(ctx)
    services = state.services
    if services.mailer is None:
        state.err.print(Text(NO_MAILER + " Webhook deliveries are sent.", style="yellow"))
    if once:
        sent = failed = 0
        while True:
            report = outbox.send_pending(services)
            sent += report.sent
            failed += report.retrying + report.failed
            if not report.claimed:
                break
        state.out.print(f"Sent {counted(sent, 'message')}; {failed} not delivered this time.")
        return
    sender = outbox.OutboxSender(services, poll_seconds=state.settings.outbox_poll_seconds)
    state.out.print("Sending the outbox's mail and webhook deliveries; Ctrl-C stops.")
    try:
        sender.run()
    except KeyboardInterrupt:
        sender.stop()


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[OutboxStatus | None, typer.Option(help="Only entries in this state.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 100,
    as_json: JsonOption = False,
) -> None:
    """The newest outbox entries, with counts of pending, sent and failed ones."""
    state = runtime(ctx)
    services = state.services
    counts = outbox.outbox_counts(services, state.actor)
    entries = outbox.list_outbox(services, state.actor, status, limit=limit)
    if as_json:
        print_json(
            {
                "sending": services.mailer is not None,
                "counts": {s.value: n for s, n in counts.items()},
                "entries": [_entry_json(e) for e in entries],
            }
        )
        return
    if services.mailer is None:
        state.out.print(Text(NO_MAILER, style="yellow"))
    summary = ", ".join(f"{n} {s.value}" for s, n in counts.items())
    table = Table(
        "id", "kind", "status", "attempts", "created", "next try", "last error", title=summary
    )
    for entry in entries:
        pending = entry.status is OutboxStatus.PENDING
        table.add_row(
            str(entry.id),
            entry.kind.value,
            entry.status.value,
            str(entry.attempts),
            when(entry.created_at),
            when(entry.available_at) if pending else plain(None),
            plain(entry.last_error),
        )
    state.out.print(table)


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _entry_json(entry: OutboxEntry) -> dict[str, object]:
    return {
        "id": entry.id,
        "kind": entry.kind.value,
        "status": entry.status.value,
        "attempts": entry.attempts,
        "last_error": entry.last_error,
        "created_at": _moment(entry.created_at),
        "available_at": _moment(entry.available_at),
        "sent_at": _moment(entry.sent_at),
        "failed_at": _moment(entry.failed_at),
    }
