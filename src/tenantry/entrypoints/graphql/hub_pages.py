"""Paging `Tenant.users`: the arguments checked, and a page read through the request's
loaders, so `users(first:, after:)` and `usersConnection` of the same page cost one query."""

from __future__ import annotations

from tenantry.domain.errors import ErrorCode, InvalidInput
from tenantry.domain.users import User
from tenantry.entrypoints.graphql.hub_loaders import USERS_CAP, HubLoaders
from tenantry.entrypoints.member_cursors import decode_cursor, encode_cursor
from tenantry.services.member_query import UserFacts
from tenantry.services.members import MemberPage

DEFAULT_FIRST = 100


def users_page(
    loaders: HubLoaders, account_id: str, first: int | None, after: str | None
) -> MemberPage:
    if first is None:
        first = DEFAULT_FIRST
    if not 1 <= first <= USERS_CAP:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT, f"`first` must be between 1 and {USERS_CAP:,}.", field="first"
        )
    cursor = None
    if after is not None:
        cursor = decode_cursor(after)
        if cursor is None:
            raise InvalidInput(
                ErrorCode.INVALID_INPUT, "`after` is not a cursor this API returned.", field="after"
            )
    return loaders.member_page(account_id, first, cursor)


def tenant_users(
    loaders: HubLoaders, account_id: str, first: int | None, after: str | None
) -> list[User | UserFacts]:
    """Without paging arguments every member, up to the cap (today's answer, read with their
    roles in one go); with them, a page."""
    if first is None and after is None:
        return list(loaders.users_of(account_id))
    return [m.user for m in users_page(loaders, account_id, first, after).items]


def page_info(page: MemberPage) -> dict[str, object]:
    cursor = page.next_cursor
    return {
        "hasNextPage": cursor is not None,
        "endCursor": encode_cursor(cursor) if cursor is not None else None,
    }
