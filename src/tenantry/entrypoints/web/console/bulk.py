"""Bulk add: many users at once from a CSV (pasted, or uploaded as a file), added by the same
service as the bulk REST API's `POST /users`, with the same rules, limit and messages."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from tenantry.domain.errors import DomainError, ErrorCode, Forbidden, InvalidInput
from tenantry.domain.memberships import MembershipStatus
from tenantry.entrypoints.http.errors import http_status
from tenantry.entrypoints.web.console import csv_rows
from tenantry.entrypoints.web.console.base import (
    AccountView,
    Console,
    FormState,
    Viewer,
)
from tenantry.services.membership_changes import apply_membership_changes, check_users_per_call
from tenantry.services.membership_commands import ChangeReport, ItemError, NewMember

FIELDS = ("csv", "csv_file")
NOTHING_SENT = "Paste a CSV, or choose a CSV file."
NONE_ADDED_STATUS = 422  # as the bulk API answers when it added no one


@dataclass(frozen=True, slots=True)
class RowResult:
    """What became of one CSV row."""

    row: int  # from 1: the first line after the header
    email: str
    result: str
    added: bool
    user_id: str | None = None


def add_bulk_pages(router: APIRouter, console: Console) -> None:
    ctx = console.ctx

    def page(
        request: Request,
        viewer: Viewer,
        here: AccountView,
        *,
        form: FormState | None = None,
        results: list[RowResult] | None = None,
        status: int = 200,
    ) -> Response:
        return console.render(
            request,
            viewer,
            "console/bulk.html",
            account=here,
            section="bulk",
            status=status,
            form=form or FormState(),
            results=results,
            added=sum(1 for r in results or () if r.added),
            refused=sum(1 for r in results or () if not r.added),
            columns=csv_rows.COLUMNS,
            limit=ctx.settings.member_batch_max_items,
        )

    async def bulk_page(request: Request, viewer: Viewer) -> Response:
        here = await console.account(viewer, request.path_params["account_id"])
        return page(request, viewer, here)

    async def bulk_add(request: Request, viewer: Viewer, form: dict[str, str]) -> Response:
        here = await console.account(viewer, request.path_params["account_id"])
        if not here.may_manage_users:
            raise Forbidden(ErrorCode.FORBIDDEN)
        kept = {"csv": form.get("csv", "")}
        try:
            text, field = await _csv_of(request, form)
            results = await _add_rows(console, viewer, here.account.id, text, field)
        except DomainError as error:
            failed = FormState.failed(kept, error, FIELDS)
            return page(request, viewer, here, form=failed, status=http_status(error))
        if any(r.added for r in results):
            return page(request, viewer, here, results=results)
        # Nothing was added: the CSV stays in the form, to be put right and sent again.
        return page(
            request, viewer, here, form=FormState(kept), results=results, status=NONE_ADDED_STATUS
        )

    path = "/hub/accounts/{account_id}/users/bulk"
    router.get(path)(console.page(bulk_page))
    router.post(path)(console.action(bulk_add))


async def _add_rows(
    console: Console, viewer: Viewer, account_id: str, text: str, field: str
) -> list[RowResult]:
    """Add the CSV's rows through the membership changes service: what became of each."""
    ctx = console.ctx
    limit = ctx.settings.member_batch_max_items
    rows = csv_rows.read_rows(text, field, ctx.roles)
    check_users_per_call(len(rows), limit)
    members, refused = csv_rows.new_members(rows)
    report = ChangeReport()
    if members:
        report = await console.call(
            apply_membership_changes,
            ctx,
            viewer.actor,
            account_id,
            [member for _, member in members],
            max_items=limit,
        )
    return _results(members, report, refused)


async def _csv_of(request: Request, form: dict[str, str]) -> tuple[str, str]:
    """The CSV sent, and the field it came in: a chosen file, else the pasted text."""
    sent = await request.form()  # parsed already (for the CSRF check): the files are here
    try:
        upload = sent.get("csv_file")
        if isinstance(upload, UploadFile) and upload.filename:
            raw = await upload.read(csv_rows.MAX_CSV_BYTES + 1)
            return csv_rows.decode_csv(raw, "csv_file"), "csv_file"
    finally:
        await sent.close()
    text = form.get("csv", "")
    if not text.strip():
        raise InvalidInput(ErrorCode.INVALID_INPUT, NOTHING_SENT, field="csv")
    return text, "csv"


def _results(
    members: list[tuple[int, NewMember]], report: ChangeReport, refused: list[ItemError]
) -> list[RowResult]:
    """Each row's result; the report numbers the members it was given, from 0."""
    rows = [
        RowResult(
            members[position][0] + 1,
            added.user.email,
            "Added" if added.membership.status is MembershipStatus.ACTIVE else "Invited",
            True,
            added.user.id,
        )
        for position, added in report.applied
    ]
    errors = [ItemError(members[e.index][0], e.email, e.error) for e in report.errors]
    rows += [RowResult(e.index + 1, e.email, e.error.message, False) for e in refused + errors]
    return sorted(rows, key=lambda r: r.row)
