"""The four operations: authenticate, admit against the daily quota, parse, call one service,
render; `GET /users` is counted by the service call that reads (`services.counted_reads`).
Each runs whole in one worker thread (one thread hop per request); what they raise, the
face's handlers answer (`errors`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.datastructures import State

from tenantry.domain.errors import ErrorCode, InvalidInput
from tenantry.entrypoints import member_cursors
from tenantry.entrypoints.bulk_members import parse_new_users
from tenantry.entrypoints.bulk_rest import views
from tenantry.entrypoints.bulk_rest.errors import Answer, item_errors, none_added, quota_headers
from tenantry.services import counted_reads, quotas, roles
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.members import LIST_CAP, MAX_PAGE
from tenantry.services.membership_changes import apply_membership_changes
from tenantry.services.membership_commands import ItemError, RemoveMember
from tenantry.services.ports import MemberCursor

FACE = "bulk_rest"
BAD_PAGE_SIZE = f"page_size must be a whole number from 1 to {MAX_PAGE}."
BAD_CURSOR = "The cursor is not one this API returned."
TOO_MANY_USERS = (
    f"This account has more than {LIST_CAP:,} users: ask for them a page at a time,"
    f" with page_size (1 to {MAX_PAGE}) and the next_cursor of each answer."
)


def serve(
    ctx: ServiceContext,
    operation: Callable[[Actor, str], Answer],
    caller: Callable[[], Actor],
    state: State,
) -> Answer:
    """Authenticate, admit the call against the account's daily quota, then run `operation`
    with the actor and its account. The quota is kept on `state` (the request's), so that
    every answer after admission carries the quota headers, the error handlers' too."""
    actor = caller()
    quota = quotas.admit_batch_call(ctx, actor)
    state.quota = quota
    answer = operation(actor, quota.account_id)
    answer.headers.update(quota_headers(quota))
    return answer


# -- GET /users --------------------------------------------------------------------------------


def get_users(
    ctx: ServiceContext, query: Mapping[str, str], caller: Callable[[], Actor], state: State
) -> Answer:
    """Every member by default; a page of them with `page_size` and/or `cursor`. As `serve`,
    but the count comes with the read (`counted_reads`)."""
    actor = caller()
    page_size, cursor = query.get("page_size"), query.get("cursor")
    catalogue = ctx.roles
    if page_size is None and cursor is None:
        state.quota, everyone = counted_reads.counted_every_member(ctx, actor, at_most=LIST_CAP)
        if len(everyone) > LIST_CAP:
            raise InvalidInput(ErrorCode.INVALID_INPUT, TOO_MANY_USERS, field="page_size")
        answer = Answer(200, {"users": [views.user_view(catalogue, m) for m in everyone]})
    else:
        try:
            limit, after = _page_size(page_size), decode_cursor(cursor) if cursor else None
        except InvalidInput:
            state.quota = quotas.admit_batch_call(ctx, actor)  # a refused call counts too
            raise
        state.quota, page = counted_reads.counted_members_page(ctx, actor, limit=limit, after=after)
        next_cursor = page.next_cursor
        answer = Answer(
            200,
            {
                "users": [views.user_view(catalogue, m) for m in page.items],
                "next_cursor": member_cursors.encode_cursor(next_cursor) if next_cursor else None,
            },
        )
    answer.headers.update(quota_headers(state.quota))
    return answer


def _page_size(text: str | None) -> int:
    if text is None:
        return MAX_PAGE
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        raise InvalidInput(ErrorCode.INVALID_INPUT, BAD_PAGE_SIZE, field="page_size")
    return int(text)


def decode_cursor(text: str) -> MemberCursor:
    cursor = member_cursors.decode_cursor(text)
    if cursor is None:
        raise InvalidInput(ErrorCode.INVALID_INPUT, BAD_CURSOR, field="cursor")
    return cursor


# -- POST /users -------------------------------------------------------------------------------


def add_users(ctx: ServiceContext, actor: Actor, account_id: str, body: bytes) -> Answer:
    """Add the users that pass every rule; 200 when one was added at least, else 422."""
    items, refused = parse_new_users(ctx, body)
    added: list[dict[str, object]] = []
    if items:
        limit = ctx.settings.member_batch_max_items
        report = apply_membership_changes(
            ctx, actor, account_id, [member for _, member in items], max_items=limit
        )
        # The report counts the users it was given; the answer, those of the request.
        added = [views.added_view(ctx.roles, a) for _, a in report.applied]
        refused += [ItemError(items[e.index][0], e.email, e.error) for e in report.errors]
    if not added:
        return none_added(refused)
    return Answer(200, {"data": added, "errors": item_errors(refused)})


# -- DELETE /users/{emails} --------------------------------------------------------------------


def delete_users(ctx: ServiceContext, actor: Actor, account_id: str, emails: str) -> Answer:
    """All or nothing: 204, or 422 with an error for each e-mail refused."""
    listed = [email.strip() for email in emails.split(",") if email.strip()]
    if not listed:
        raise InvalidInput(ErrorCode.INVALID_INPUT, "Invalid input")
    changes = [RemoveMember(email=email) for email in listed]
    apply_membership_changes(ctx, actor, account_id, changes, all_or_nothing=True)
    return Answer(204)


# -- GET /roles --------------------------------------------------------------------------------


def get_roles(ctx: ServiceContext, actor: Actor, account_id: str) -> Answer:
    held = roles.list_roles(ctx, actor, account_id)
    return Answer(200, {"roles": [views.role_view(ctx.roles, r) for r in held]})
