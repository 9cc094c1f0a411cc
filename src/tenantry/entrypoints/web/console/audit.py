"""The audit log: an account's events, newest first, filtered by action, face, actor and dates,
50 a page with an "Older" link; each event's before and after states in a disclosure. "Export"
downloads every event the filters keep, oldest first, as CSV or JSON Lines, streamed as it is
read (`entrypoints.audit_export`).

Only people who may read the account's audit log get the page; the service refuses the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from tenantry.domain.audit import AuditEvent
from tenantry.entrypoints.audit_export import (
    FORMATS,
    MEDIA_TYPES,
    Format,
    export_lines,
    file_name,
)
from tenantry.entrypoints.web.console.base import (
    Console,
    ConsolePages,
    FormState,
    Viewer,
    account_url,
    with_query,
)
from tenantry.services import audit

SECTION = "audit"
PAGE_SIZE = 50
MAX_FILTER_CHARS = 100

# What each action code means, in words. The code is shown next to the words, so an action
# missing here still reads (as its code).
ACTIONS = {
    "account.create": "Account created",
    "account.update": "Account changed",
    "account.delete": "Account deleted",
    "account.transfer_ownership": "Account ownership handed over",
    "account.policy_update": "Security policy changed",
    "api_account.create": "API account created",
    "api_account.revoke": "API account revoked",
    "api_token.create": "API token created",
    "api_token.revoke": "API token revoked",
    "app.add": "App added",
    "app.remove": "App removed",
    "domain_filter.update": "Domain filter changed",
    "event_filter.update": "Event filter changed",
    "ingress_domain.create": "Ingress domain set",
    "ingress_domain.update": "Ingress domain changed",
    "invitation.accept": "Invitation accepted",
    "invitation.renew": "Invitation sent again",
    "invitation.revoke": "Invitation revoked",
    "membership.create": "User added to the account",
    "membership.change_role": "User's role changed",
    "membership.delete": "User removed from the account",
    "network.advertiser.create": "Advertiser created by the network",
    "network.advertiser.update": "Advertiser changed by the network",
    "network.advertiser.delete": "Advertiser deleted by the network",
    "network.advertiser_user.upsert": "Advertiser user set by the network",
    "network.advertiser_user.delete": "Advertiser user removed by the network",
    "network.users.replace": "Network users replaced",
    "pixel.create": "Pixel added",
    "pixel.update": "Pixel changed",
    "pixel.delete": "Pixel removed",
    "role.create": "Custom role created",
    "role.update": "Custom role changed",
    "role.delete": "Custom role deleted",
    "system.init": "Deployment set up",
    "traffic.report": "Traffic reported",
    "user.create": "User created",
    "user.update": "User changed",
    "user.activate": "User reactivated",
    "user.deactivate": "User deactivated",
    "user.external_id": "User's external id set",
    "user.address_proved": "User's address proved",
    "invitation.expire": "Invitation expired",
    "webhook_endpoint.create": "Webhook endpoint added",
    "webhook_endpoint.update": "Webhook endpoint changed",
    "webhook_endpoint.rotate_secret": "Webhook signing secret renewed",
    "webhook_endpoint.delete": "Webhook endpoint removed",
}

# The faces a change can come through, as the audit trail names them.
FACES = {
    "console": "Console",
    "graphql": "GraphQL API",
    "bulk_rest": "User management REST API",
    "network_rest": "Network REST API",
    "network": "Network REST API (entries before webhooks)",
    "scim": "SCIM",
    "traffic": "Gateway traffic reports",
    "cli": "Command line",
    "system": "tenantry itself (expiries)",
    "api": "API",
}

ACTOR_KINDS = {"api_account": "API account", "api_token": "API token", "system": "system"}
# How a credential is named where the audit log says who made it.
MINTED = {"api_account": "API account", "api_token": "token"}

FILTERS = ("action", "face", "actor", "since", "until")


@dataclass(frozen=True, slots=True)
class Filters:
    """The filters as the service takes them."""

    action: str | None
    face: str | None
    actor: str | None
    since: datetime | None
    until: datetime | None


@dataclass(frozen=True, slots=True)
class Row:
    event: AuditEvent
    action_label: str
    face_label: str
    actor_kind: str
    minted: str | None
    """Who created the credential the change was made with ("via token minted by X")."""
    acting_as: str | None
    """The person a credential acted as (an API token's user)..."""
    acting_as_url: str | None
    """...and their page in the account."""
    before: str | None
    after: str | None


def read_filters(query: Mapping[str, str]) -> tuple[Filters, FormState]:
    """The filters of the query string, and the form showing them; a date that is not one gets
    its message next to its field (and the page lists nothing until it is fixed)."""
    values = {name: query.get(name, "").strip()[:MAX_FILTER_CHARS] for name in FILTERS}
    state = FormState(values)
    since = _day(values["since"], "since", state)
    until = _day(values["until"], "until", state)
    if since is not None and until is not None and until < since:
        state.errors["until"] = "The end date is before the start date."
    return (
        Filters(
            action=values["action"] or None,
            face=values["face"] or None,
            actor=values["actor"] or None,
            since=None if since is None else datetime.combine(since, datetime.min.time(), UTC),
            # The end date counts whole: events before the next day's midnight.
            until=None
            if until is None
            else datetime.combine(until, datetime.min.time(), UTC) + timedelta(days=1),
        ),
        state,
    )


def _day(value: str, name: str, state: FormState) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        day = None
    if day is None or not 1900 <= day.year <= 9998:
        state.errors[name] = "Enter a date as YYYY-MM-DD, for example 2024-05-31."
        return None
    return day


def readable_json(state: dict[str, Any] | None) -> str | None:
    if state is None:
        return None
    return orjson.dumps(state, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()


def row_of(event: AuditEvent) -> Row:
    minted = None
    if event.actor_minted_by:
        credential = MINTED.get(event.actor_kind, "credential")
        minted = f"via {credential} minted by {event.actor_minted_by}"
    acting_as = acting_as_url = None
    if event.actor_user_id:
        # An API token's actor is labelled with its user's address; any other credential
        # acting as someone is shown by the user's id.
        acting_as = event.actor_label if event.actor_kind == "api_token" else event.actor_user_id
        if event.account_id:
            acting_as_url = account_url(event.account_id, "users", event.actor_user_id)
    return Row(
        event=event,
        action_label=ACTIONS.get(event.action, event.action.replace("_", " ").replace(".", ": ")),
        face_label=FACES.get(event.face, event.face),
        actor_kind=ACTOR_KINDS.get(event.actor_kind, ""),
        minted=minted,
        acting_as=acting_as,
        acting_as_url=acting_as_url,
        before=readable_json(event.before),
        after=readable_json(event.after),
    )


def options(known: Mapping[str, str], chosen: str, any_label: str) -> list[tuple[str, str]]:
    """A select's choices: any, then the known values (the chosen one kept when unknown)."""
    # Labels only: the codes show in the list itself, not in every page's filter form.
    choices = [("", any_label), *known.items()]
    if chosen and chosen not in known:
        choices.append((chosen, chosen))
    return choices


def add_audit_pages(router: APIRouter, console: Console) -> None:
    pages = AuditPages(console)
    router.get("/hub/accounts/{account_id}/audit")(console.page(pages.audit_page))
    router.get("/hub/accounts/{account_id}/audit/export")(console.page(pages.export))


class AuditPages(ConsolePages):
    section = SECTION

    async def audit_page(self, request: Request, viewer: Viewer) -> Response:
        here = await self.account(request, viewer)
        filters, form = read_filters(request.query_params)
        before = request.query_params.get("before", "")
        before_id = int(before) if before.isdigit() and len(before) < 19 else None
        base = account_url(here.account.id, "audit")
        rows: list[Row] = []
        older_url = None
        if not form.errors:
            events = await self.console.call(
                audit.list_audit_events,
                self.ctx,
                viewer.actor,
                here.account.id,
                action=filters.action,
                actor_id=filters.actor,
                face=filters.face,
                since=filters.since,
                until=filters.until,
                limit=PAGE_SIZE + 1,
                before_id=before_id,
            )
            rows = [row_of(e) for e in events[:PAGE_SIZE]]
            if len(events) > PAGE_SIZE:
                older_url = with_query(base, **form.values, before=events[PAGE_SIZE - 1].id)
        return self.console.render(
            request,
            viewer,
            "console/audit.html",
            account=here,
            section=self.section,
            status=400 if form.errors else 200,
            form=form,
            rows=rows,
            filtered=any(form.values.values()),
            action_options=options(ACTIONS, form.value("action"), "Any action"),
            face_options=options(FACES, form.value("face"), "Any face"),
            older_url=older_url,
            newest_url=with_query(base, **form.values) if before_id is not None else None,
            base_url=base,
            actor_url=lambda actor_id: with_query(base, **{**form.values, "actor": actor_id}),
            export_urls={
                label: with_query(f"{base}/export", **form.values, format=format)
                for format, label in (("csv", "CSV"), ("jsonl", "JSON Lines"))
            },
        )

    async def export(self, request: Request, viewer: Viewer) -> Response:
        """Every event the filters keep, oldest first, as a download; dates that are not
        dates get the page, with their messages."""
        here = await self.account(request, viewer)
        filters, form = read_filters(request.query_params)
        format = request.query_params.get("format", "csv")
        if form.errors or format not in FORMATS:
            return await self.audit_page(request, viewer)
        chosen: Format = "jsonl" if format == "jsonl" else "csv"
        events = await self.console.call(
            audit.export_audit_events,
            self.ctx,
            viewer.actor,
            here.account.id,
            audit.AuditFilters(
                action=filters.action,
                actor_id=filters.actor,
                face=filters.face,
                since=filters.since,
                until=filters.until,
            ),
        )
        name = file_name(here.account.id, chosen)
        return StreamingResponse(
            export_lines(events, chosen),
            media_type=MEDIA_TYPES[chosen],
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            },
        )
