"""The accounts a person can reach: `/hub/` (their own accounts, each with the first of its
child accounts, and a search over all they reach) and one account's page (its details and its
child accounts, searchable and paged)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tenantry.domain.accounts import Account
from tenantry.domain.errors import DomainError
from tenantry.domain.memberships import MembershipStatus
from tenantry.entrypoints.web.console.base import (
    Console,
    ConsolePages,
    Viewer,
    account_url,
    with_query,
)
from tenantry.services import accounts, auth_account

PAGE_SIZE = 50
CHILDREN_SHOWN = 10
MAX_SEARCH_CHARS = 100


def add_account_pages(router: APIRouter, console: Console) -> None:
    pages = AccountPages(console)
    router.get("/hub")(console.page(pages.to_home))
    router.get("/hub/")(console.page(pages.home))
    router.get("/hub/accounts/{account_id}")(console.page(pages.account_page))


class AccountPages(ConsolePages):
    section = "overview"

    async def to_home(self, request: Request, viewer: Viewer) -> Response:
        return self.web.redirect(request, "/hub/")

    async def home(self, request: Request, viewer: Viewer) -> Response:
        if request.query_params.get("q", "").strip():
            found, more, search = await self._page_of(viewer, request, None)
            return self.console.render(
                request,
                viewer,
                "console/home.html",
                search=search,
                results=found,
                next_url=more and with_query("/hub/", q=search, after=more),
                tops=[],
            )
        mine = await self.console.call(auth_account.my_memberships, self.ctx, viewer.signed_in)
        active = [m for m in mine if m.status is MembershipStatus.ACTIVE]
        children = await self.console.call(
            accounts.first_children,
            self.ctx,
            viewer.actor,
            [m.account_id for m in active],
            limit_each=CHILDREN_SHOWN,
        )
        tops = [(m, *children[m.account_id]) for m in active]
        return self.console.render(
            request,
            viewer,
            "console/home.html",
            search="",
            results=None,
            next_url=None,
            tops=tops,
        )

    async def account_page(self, request: Request, viewer: Viewer) -> Response:
        here = await self.account(request, viewer)
        parent = None
        if here.account.parent_id is not None:
            try:
                parent = await self.console.call(
                    accounts.get_account, self.ctx, viewer.actor, here.account.parent_id
                )
            except DomainError:
                parent = None  # above what the viewer reaches: no link up
        children, more, search = await self._page_of(viewer, request, here.account.id)
        return self.console.render(
            request,
            viewer,
            "console/account.html",
            account=here,
            section=self.section,
            parent=parent,
            children=children,
            search=search,
            next_url=more and with_query(account_url(here.account.id), q=search, after=more),
        )

    async def _page_of(
        self, viewer: Viewer, request: Request, parent_id: str | None
    ) -> tuple[list[Account], str | None, str]:
        """One page of accounts (children of `parent_id`, or all the viewer reaches when
        searching), and the cursor of the next page."""
        search = request.query_params.get("q", "").strip()[:MAX_SEARCH_CHARS]
        after = request.query_params.get("after") or None
        found = await self.console.call(
            accounts.list_accounts,
            self.ctx,
            viewer.actor,
            parent_id=parent_id,
            search=search or None,
            limit=PAGE_SIZE + 1,
            after=after,
        )
        more = found[PAGE_SIZE - 1].id if len(found) > PAGE_SIZE else None
        return found[:PAGE_SIZE], more, search
