"""One member's page: who they are, their role, scope and state in the account, and (for those
who manage users) changing their role, deactivating or reactivating them, removing them; for the
account's owner, handing ownership to them. Its Access page lists what they may do in the
account and what grants each right, as the core's policy explains it.

Also how a member reads in a list (the users table shows the same words).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tenantry.domain.errors import DomainError
from tenantry.domain.roles import Need, Role
from tenantry.domain.users import User
from tenantry.entrypoints.bulk_members import apps_text, list_text, username
from tenantry.entrypoints.http.errors import http_status
from tenantry.entrypoints.web.console.base import (
    AccountView,
    Console,
    ConsolePages,
    FormState,
    Viewer,
    account_url,
    confirmed,
)
from tenantry.services import access, accounts, member_browsing, members
from tenantry.services.member_browsing import member_state
from tenantry.services.members import Member
from tenantry.services.policy import may_grant
from tenantry.services.ports import MemberState

STATE_LABELS = {
    MemberState.ACTIVE: "Active",
    MemberState.PENDING: "Pending",
    MemberState.DEACTIVATED: "Deactivated",
}

# The user page's forms, each showing its own refusal.
ROLE_FORM, ACTIVE_FORM, REMOVE_FORM, OWNER_FORM = "role", "active", "remove", "owner"


@dataclass(frozen=True, slots=True)
class MemberRow:
    """A member as the console shows them."""

    user: User
    name: str
    role_key: str
    role_name: str
    state: MemberState
    state_label: str
    apps: str
    media_sources: str
    geos: str
    joined: datetime | None

    @property
    def network_managed(self) -> bool:
        return self.user.is_network_managed


def member_row(member: Member) -> MemberRow:
    state = member_state(member.user, member.membership)
    scope = member.membership.scope
    return MemberRow(
        user=member.user,
        name=username(member.user),
        role_key=member.membership.role_key,
        role_name=member.role.display_name,
        state=state,
        state_label=STATE_LABELS[state],
        apps=apps_text(scope),
        media_sources=list_text(scope.media_sources),
        geos=list_text(scope.geos),
        joined=member.membership.created_at,
    )


def grantable(roles: list[Role], here: AccountView) -> list[Role]:
    """The roles the viewer may give: any for an admin, else none beyond their own (the core
    refuses the others; offering them would only lead to a refusal)."""
    mine = here.role
    return [] if mine is None else [role for role in roles if may_grant(mine, role)]


def add_member_pages(router: APIRouter, console: Console) -> None:
    pages = MemberPages(console)
    # User ids are UUIDs: the `uuid` convertor leaves /users/bulk to the bulk page.
    base = "/hub/accounts/{account_id}/users/{user_id:uuid}"
    router.get(base)(console.page(pages.user_page))
    router.get(base + "/access")(console.page(pages.access_page))
    router.post(base + "/role")(console.action(pages.change_role))
    router.post(base + "/active")(console.action(pages.set_active))
    router.post(base + "/remove")(console.action(pages.remove))
    router.post(base + "/owner")(console.action(pages.make_owner))


class MemberPages(ConsolePages):
    section = "users"

    async def user_page(self, request: Request, viewer: Viewer) -> Response:
        here = await self.account(request, viewer)
        return await self._page(request, viewer, here, _user_id(request))

    async def access_page(self, request: Request, viewer: Viewer) -> Response:
        here = await self.account(request, viewer)
        user_id = _user_id(request)
        explanation = await self.console.call(
            access.explain_access, self.ctx, viewer.actor, here.account.id, user_id=user_id
        )
        return self.console.render(
            request,
            viewer,
            "console/user_access.html",
            account=here,
            section=self.section,
            explanation=explanation,
            user_url=account_url(here.account.id, "users", user_id),
        )

    async def change_role(self, request: Request, viewer: Viewer, form: dict[str, str]) -> Response:
        here = await self.account(request, viewer, Need.MANAGE_USERS)
        user_id = _user_id(request)
        try:
            changed = await self.console.call(
                members.change_role,
                self.ctx,
                viewer.actor,
                here.account.id,
                user_id,
                form.get("role", ""),
            )
        except DomainError as error:
            return await self._refused(
                request, viewer, here, user_id, ROLE_FORM, form, error, fields=(ROLE_FORM,)
            )
        return self.console.done(
            request,
            account_url(here.account.id, "users", user_id),
            f"{changed.user.email} now has the role {changed.role.display_name}.",
        )

    async def set_active(self, request: Request, viewer: Viewer, form: dict[str, str]) -> Response:
        here = await self.account(request, viewer, Need.MANAGE_USERS)
        user_id = _user_id(request)
        active = form.get("active") == "1"
        back = account_url(here.account.id, "users", user_id)
        if not active and not confirmed(form):
            member = await self._member(viewer, here, user_id)
            return self.confirm(
                request,
                viewer,
                here,
                form,
                title="Deactivate user",
                message=(
                    f"Deactivate {member.user.email}? They can't sign in or act in any "
                    "account until someone reactivates them."
                ),
                button="Deactivate",
                cancel_url=back,
            )
        try:
            user = await self.console.call(
                members.set_user_active, self.ctx, viewer.actor, here.account.id, user_id, active
            )
        except DomainError as error:
            return await self._refused(request, viewer, here, user_id, ACTIVE_FORM, form, error)
        done = "reactivated" if active else "deactivated"
        return self.console.done(request, back, f"{user.email} was {done}.")

    async def remove(self, request: Request, viewer: Viewer, form: dict[str, str]) -> Response:
        here = await self.account(request, viewer, Need.MANAGE_USERS)
        user_id = _user_id(request)
        email = (await self._member(viewer, here, user_id)).user.email
        if not confirmed(form):
            return self.confirm(
                request,
                viewer,
                here,
                form,
                title="Remove user",
                message=(
                    f"Remove {email} from {here.account.name}? Their open invitations here "
                    "are withdrawn; their other accounts keep them."
                ),
                button="Remove",
                cancel_url=account_url(here.account.id, "users", user_id),
            )
        try:
            await self.console.call(
                members.remove_member, self.ctx, viewer.actor, here.account.id, user_id
            )
        except DomainError as error:
            return await self._refused(request, viewer, here, user_id, REMOVE_FORM, form, error)
        return self.console.done(
            request,
            account_url(here.account.id, "users"),
            f"{email} was removed from {here.account.name}.",
        )

    async def make_owner(self, request: Request, viewer: Viewer, form: dict[str, str]) -> Response:
        here = await self.account(request, viewer)
        user_id = _user_id(request)
        back = account_url(here.account.id, "users", user_id)
        email = (await self._member(viewer, here, user_id)).user.email
        if not confirmed(form):
            return self.confirm(
                request,
                viewer,
                here,
                form,
                title="Make owner",
                message=(
                    f"Make {email} the owner of {here.account.name}? Only they can hand "
                    "ownership on after this; you stay an admin, and can then be demoted or "
                    "removed like any other admin."
                ),
                button="Make owner",
                cancel_url=back,
            )
        try:
            changed, _ = await self.console.call(
                accounts.transfer_ownership, self.ctx, viewer.actor, here.account.id, user_id
            )
        except DomainError as error:
            return await self._refused(request, viewer, here, user_id, OWNER_FORM, form, error)
        return self.console.done(request, back, f"{email} now owns {changed.name}.")

    async def _member(self, viewer: Viewer, here: AccountView, user_id: str) -> Member:
        return await self.console.call(
            members.get_member, self.ctx, viewer.actor, here.account.id, user_id
        )

    async def _refused(
        self,
        request: Request,
        viewer: Viewer,
        here: AccountView,
        user_id: str,
        which: str,
        form: dict[str, str],
        error: DomainError,
        *,
        fields: tuple[str, ...] = (),
    ) -> Response:
        """The user page again, `error` shown on the form `which` (next to one of its `fields`
        when it names one)."""
        failed = {which: FormState.failed(form, error, fields)}
        return await self._page(
            request, viewer, here, user_id, failed=failed, status=http_status(error)
        )

    async def _page(
        self,
        request: Request,
        viewer: Viewer,
        here: AccountView,
        user_id: str,
        *,
        failed: dict[str, FormState] | None = None,
        status: int = 200,
    ) -> Response:
        member = await self._member(viewer, here, user_id)
        roles = await self.console.call(
            member_browsing.account_roles, self.ctx, viewer.actor, here.account.id
        )
        row = member_row(member)
        is_self = user_id == viewer.user_id
        # What the page offers; the core decides again when the form is sent.
        may_make_owner = (
            here.account.owner_user_id == viewer.user_id
            and not is_self
            and row.state is MemberState.ACTIVE
            and member.role.is_admin_like
        )
        return self.console.render(
            request,
            viewer,
            "console/user.html",
            account=here,
            section=self.section,
            status=status,
            member=row,
            is_self=is_self,
            is_owner=here.account.owner_user_id == user_id,
            may_make_owner=may_make_owner,
            role_options=[(r.key, r.display_name) for r in grantable(roles, here)],
            failed=failed or {},
            empty=FormState(),
            user_url=account_url(here.account.id, "users", user_id),
        )


def _user_id(request: Request) -> str:
    return str(request.path_params["user_id"])
