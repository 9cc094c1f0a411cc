"""`tenantry webhooks`: an account's endpoints, their signing secrets (shown once), and their
delivery logs, with a delivery sent again on demand."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from tenantry.domain.webhooks import WebhookDelivery, WebhookEndpoint
from tenantry.entrypoints.cli.options import AccountOption, JsonOption
from tenantry.entrypoints.cli.output import counted, plain, print_json, when
from tenantry.entrypoints.cli.runtime import Runtime, runtime
from tenantry.services import webhooks
from tenantry.services.webhooks import EndpointChanges

app = typer.Typer(
    help="Webhook endpoints: where an account's changes are posted, signed.",
    no_args_is_help=True,
)

EndpointId = Annotated[str, typer.Argument(help="Endpoint id (ep_...).", show_default=False)]
EventsOption = Annotated[
    str | None,
    typer.Option(
        "--events",
        help="Event types, comma-separated (user.created,membership.deleted,...); all if left out.",
        show_default=False,
    ),
]


@app.command()
def add(
    ctx: typer.Context,
    account: AccountOption,
    url: Annotated[str, typer.Option("--url", help="The receiver's URL.", show_default=False)],
    events: EventsOption = None,
    include_children: Annotated[
        bool,
        typer.Option("--include-children", help="Also the child accounts' events (a partner)."),
    ] = False,
    description: Annotated[str, typer.Option(help="What it is for.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Add an endpoint; its signing secret is shown once."""
    state = runtime(ctx)
    endpoint, secret = webhooks.create_endpoint(
        state.services,
        state.actor,
        account,
        url,
        event_types=_types(events),
        include_children=include_children,
        description=description,
    )
    _show_secret(state, endpoint, secret, as_json, title="Webhook endpoint added")


@app.command("list")
def list_(ctx: typer.Context, account: AccountOption, as_json: JsonOption = False) -> None:
    """An account's endpoints (never their secrets)."""
    state = runtime(ctx)
    found = webhooks.list_endpoints(state.services, state.actor, account)
    if as_json:
        print_json({"endpoints": [_endpoint_json(e) for e in found]})
        return
    table = Table(
        "id", "url", "events", "on", "children", "created", title=counted(len(found), "endpoint")
    )
    for endpoint in found:
        table.add_row(
            plain(endpoint.id),
            plain(endpoint.url),
            plain(", ".join(endpoint.event_types), empty="all"),
            "yes" if endpoint.enabled else "no",
            "yes" if endpoint.include_children else "no",
            when(endpoint.created_at),
        )
    state.out.print(table)


@app.command()
def update(
    ctx: typer.Context,
    endpoint_id: EndpointId,
    url: Annotated[str | None, typer.Option(help="A new URL.", show_default=False)] = None,
    events: EventsOption = None,
    enabled: Annotated[
        bool | None,
        typer.Option("--enable/--disable", help="Switch it on or off.", show_default=False),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Change an endpoint's URL or event types (`--events all`: every event), or switch it on
    or off."""
    state = runtime(ctx)
    changes = EndpointChanges(
        url=url,
        event_types=None if events is None else [] if events == "all" else _types(events),
        enabled=enabled,
    )
    endpoint = webhooks.update_endpoint(state.services, state.actor, endpoint_id, changes)
    if as_json:
        print_json(_endpoint_json(endpoint))
        return
    state.out.print(Text.assemble("Updated webhook endpoint ", (endpoint.id, "bold"), "."))


@app.command()
def remove(ctx: typer.Context, endpoint_id: EndpointId) -> None:
    """Remove an endpoint with its delivery log; nothing more is sent to it."""
    state = runtime(ctx)
    webhooks.delete_endpoint(state.services, state.actor, endpoint_id)
    state.out.print(Text.assemble("Removed webhook endpoint ", (endpoint_id, "bold"), "."))


@app.command("rotate-secret")
def rotate_secret(ctx: typer.Context, endpoint_id: EndpointId, as_json: JsonOption = False) -> None:
    """A new signing secret, shown once; the old one stops at once."""
    state = runtime(ctx)
    endpoint, secret = webhooks.rotate_secret(state.services, state.actor, endpoint_id)
    _show_secret(state, endpoint, secret, as_json, title="Signing secret rotated")


@app.command()
def deliveries(
    ctx: typer.Context,
    endpoint_id: EndpointId,
    limit: Annotated[
        int, typer.Option(min=1, max=webhooks.MAX_DELIVERY_PAGE, help="At most this many.")
    ] = 50,
    as_json: JsonOption = False,
) -> None:
    """An endpoint's delivery log, newest first."""
    state = runtime(ctx)
    found = webhooks.list_deliveries(state.services, state.actor, endpoint_id, limit=limit)
    if as_json:
        print_json({"deliveries": [_delivery_json(d) for d in found]})
        return
    table = Table(
        "id",
        "event",
        "account",
        "status",
        "tries",
        "answer",
        "created",
        "last error",
        title=counted(len(found), "delivery", "deliveries"),
    )
    for delivery in found:
        table.add_row(
            str(delivery.id),
            plain(delivery.event_type),
            plain(delivery.account_id),
            delivery.status.value,
            str(delivery.attempts),
            plain(delivery.last_status_code),
            when(delivery.created_at),
            plain(delivery.last_error),
        )
    state.out.print(table)


@app.command()
def resend(
    ctx: typer.Context,
    delivery_id: Annotated[int, typer.Argument(help="Delivery id (from `webhooks deliveries`).")],
    as_json: JsonOption = False,
) -> None:
    """Send a delivery's event again (same webhook-id), after what waits for its endpoint."""
    state = runtime(ctx)
    delivery = webhooks.resend_delivery(state.services, state.actor, delivery_id)
    if as_json:
        print_json(_delivery_json(delivery))
        return
    state.out.print(
        Text.assemble(
            "Queued ", (delivery.event_type, "bold"), f" again as delivery {delivery.id}."
        )
    )


def _types(events: str | None) -> list[str]:
    return [] if events is None else [name.strip() for name in events.split(",") if name.strip()]


def _show_secret(
    state: Runtime, endpoint: WebhookEndpoint, secret: str, as_json: bool, *, title: str
) -> None:
    if as_json:
        print_json({**_endpoint_json(endpoint), "secret": secret})
        return
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("Endpoint id", plain(endpoint.id))
    grid.add_row("Account id", plain(endpoint.account_id))
    grid.add_row("URL", plain(endpoint.url))
    grid.add_row("Events", plain(", ".join(endpoint.event_types), empty="all"))
    grid.add_row("Signing secret", plain(secret))
    note = Text(
        "The secret is shown once, now: receivers verify the webhook-signature header with it.",
        style="yellow",
    )
    state.out.print(Panel.fit(Group(grid, "", note), title=title, border_style="green"))


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _endpoint_json(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "account_id": endpoint.account_id,
        "url": endpoint.url,
        "event_types": [t.value for t in endpoint.event_types],
        "enabled": endpoint.enabled,
        "include_children": endpoint.include_children,
        "description": endpoint.description,
        "created_at": _moment(endpoint.created_at),
        "secret_set_at": _moment(endpoint.secret_set_at),
    }


def _delivery_json(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "endpoint_id": delivery.endpoint_id,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "account_id": delivery.account_id,
        "status": delivery.status.value,
        "attempts": delivery.attempts,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "created_at": _moment(delivery.created_at),
        "next_attempt_at": _moment(delivery.next_attempt_at),
        "sent_at": _moment(delivery.sent_at),
        "failed_at": _moment(delivery.failed_at),
    }
