"""Users: an account's members, searched, filtered, sorted and paged, and the form that invites
someone (or adds a person who already has a user). Each member's own page is in `user_page`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tenantry.domain.errors import DomainError
from tenantry.domain.roles import Need
from tenantry.entrypoints.http.errors import http_status
from tenantry.entrypoints.web.console.base import (
    AccountView,
    Console,
    ConsolePages,
    FormState,
    Viewer,
    account_url,
    with_query,
)
from tenantry.entrypoints.web.console.invitations import invitation_made
from tenantry.entrypoints.web.console.user_page import (
    STATE_LABELS,
    add_member_pages,
    grantable,
    member_row,
)
from tenantry.services import member_browsing, members
from tenantry.services.members import NewMember
from tenantry.services.ports import MemberSort, MemberState

PAGE_SIZE = 50
INVITE_FIELDS = ("email", "role", "first_name", "last_name", "department")
SORTS = {
    MemberSort.JOINED: "Date joined",
    MemberSort.EMAIL: "E-mail",
    MemberSort.NAME: "Name",
    MemberSort.LAST_LOGIN: "Last login",
    MemberSort.ROLE: "Role",
}
DIRECTIONS = {"asc": "Ascending", "desc": "Descending"}


@dataclass(frozen=True, slots=True)
class Listing:
    """The list's filters, order and page, as the query string carries them. A value that
    means nothing (an old bookmark, a typo) falls back to the default: a list still shows."""

    q: str = ""
    role: str = ""
    status: MemberState | None = None
    sort: MemberSort = MemberSort.JOINED
    descending: bool = False
    page: int = 1

    @classmethod
    def of(cls, params: Mapping[str, str]) -> Listing:
        status = params.get("status", "")
        sort = params.get("sort", "")
        page = params.get("page", "")
        return cls(
            q=members.search_text(params.get("q")) or "",  # as the search reads it
            role=params.get("role", "").strip(),
            status=MemberState(status) if status in set(MemberState) else None,
            sort=MemberSort(sort) if sort in set(MemberSort) else MemberSort.JOINED,
            descending=params.get("dir") == "desc",
            page=max(1, int(page)) if page.isdigit() and len(page) < 7 else 1,
        )

    def url(self, account_id: str, **changes: object) -> str:
        """This listing's URL, with `changes`; defaults are left out of the query."""
        listing = replace(self, **changes)  # type: ignore[arg-type]
        return with_query(
            account_url(account_id, "users"),
            q=listing.q,
            role=listing.role,
            status=listing.status.value if listing.status else None,
            sort=listing.sort.value if listing.sort is not MemberSort.JOINED else None,
            dir="desc" if listing.descending else None,
            page=listing.page if listing.page > 1 else None,
        )

    def sorted_by(self, account_id: str, sort: MemberSort) -> str:
        """The URL of a column heading: sort by it, or reverse when it is the sort already."""
        descending = not self.descending if self.sort is sort else False
        return self.url(account_id, sort=sort, descending=descending, page=1)


def add_user_pages(router: APIRouter, console: Console) -> None:
    pages = UserPages(console)
    base = "/hub/accounts/{account_id}/users"
    router.get(base)(console.page(pages.users_page))
    router.post(base + "/invite")(console.action(pages.invite_user))
    add_member_pages(router, console)


class UserPages(ConsolePages):
    section = "users"

    async def users_page(self, request: Request, viewer: Viewer) -> Response:
        here = await self.account(request, viewer)
        return await self._page(request, viewer, here)

    async def invite_user(self, request: Request, viewer: Viewer, form: dict[str, str]) -> Response:
        here = await self.account(request, viewer, Need.MANAGE_USERS)
        spec = NewMember(
            email=form.get("email", ""),
            role_key=form.get("role", ""),
            first_name=_optional(form, "first_name"),
            last_name=_optional(form, "last_name"),
            department=_optional(form, "department"),
        )
        try:
            added = await self.console.call(
                members.add_member, self.ctx, viewer.actor, here.account.id, spec
            )
        except DomainError as error:
            failed = FormState.failed(form, error, INVITE_FIELDS)
            return await self._page(request, viewer, here, invite=failed, status=http_status(error))
        email = added.user.email
        if added.invitation_token is None:
            return self.console.done(
                request, account_url(here.account.id, "users", added.user.id), f"{email} was added."
            )
        return invitation_made(self.console, request, viewer, here, added.invitation_token, email)

    async def _page(
        self,
        request: Request,
        viewer: Viewer,
        here: AccountView,
        *,
        invite: FormState | None = None,
        status: int = 200,
    ) -> Response:
        listing = Listing.of(request.query_params)
        found = await self.console.call(
            member_browsing.browse_members,
            self.ctx,
            viewer.actor,
            here.account.id,
            search=listing.q or None,
            role_key=listing.role or None,
            state=listing.status,
            sort=listing.sort,
            descending=listing.descending,
            page=listing.page,
            page_size=PAGE_SIZE,
        )
        account_id = here.account.id
        first = (found.page - 1) * found.page_size + 1
        return self.console.render(
            request,
            viewer,
            "console/users.html",
            account=here,
            section=self.section,
            status=status,
            listing=listing,
            rows=[member_row(m) for m in found.items],
            total=found.total,
            pages=found.pages,
            first=first,
            last=first + len(found.items) - 1,
            role_options=[(r.key, r.display_name) for r in found.roles],
            grant_options=[(r.key, r.display_name) for r in grantable(found.roles, here)],
            status_options=list(STATE_LABELS.items()),
            sort_options=[(s.value, text) for s, text in SORTS.items()],
            direction_options=list(DIRECTIONS.items()),
            sort_urls={s.value: listing.sorted_by(account_id, s) for s in SORTS},
            next_url=listing.url(account_id, page=found.page + 1)
            if found.page < found.pages
            else None,
            previous_url=listing.url(account_id, page=min(found.page - 1, found.pages))
            if found.page > 1
            else None,
            invite=invite or FormState(),
        )


def _optional(form: Mapping[str, str], name: str) -> str | None:
    return form.get(name, "").strip() or None
