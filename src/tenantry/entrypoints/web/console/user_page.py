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

from tenantry.domain.errors import DomainError, ErrorCode, Forbidden
from tenantry.domain.roles import Role
from tenantry.domain.users import User
from tenantry.entrypoints.bulk_members import apps_text, list_text, username
from tenantry.entrypoints.http.errors import http_status
from tenantry.entrypoints.web.console.base import (
    AccountView,
    Console,
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
    ctx = console.ctx

    async def page(
        request: Request,
        viewer: Viewer,
        here: AccountView,
        user_id: str,
        *,
        failed: dict[str, FormState] | None = None,
        status: int = 200,
    ) -> Response:
        member = await console.call(members.get_member, ctx, viewer.actor, here.account.id, user_id)
        roles = await console.call(
            member_browsing.account_roles, ctx, viewer.actor, here.account.id
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
        return console.render(
            request,
            viewer,
            "console/user.html",
            account=here,
            section="users",
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

    async def user_page(request: Request, viewer: Viewer) -> Response:
        here = await console.account(viewer, request.path_params["account_id"])
        return await page(request, viewer, here, str(request.path_params["user_id"]))

    async def managing(request: Request, viewer: Viewer) -> tuple[AccountView, str]:
        here = await console.account(viewer, request.path_params["account_id"])
        if not here.may_manage_users:
            raise Forbidden(ErrorCode.FORBIDDEN)
        return here, str(request.path_params["user_id"])

    async def change_role(request: Request, viewer: Viewer, form: dict[str, str]) -> Response:
        here, user_id = await managing(request, viewer)
        try:
            changed = await console.call(
                members.change_role,
                ctx,
                viewer.actor,
                here.account.id,
                user_id,
                form.get("role", ""),
            )
        except DomainError as error:
            state = FormState.failed(form, error, (ROLE_FORM,))
            return await page(
                request, viewer, here, user_id, failed={ROLE_FORM: state}, status=http_status(error)
            )
        return console.done(
            request,
            account_url(here.account.id, "users", user_id),
            f"{changed.user.email} now has the role {changed.role.display_name}.",
        )

    async def set_active(request: Request, viewer: Viewer, form: dict[str, str]) -> Response:
        here, user_id = await managing(request, viewer)
        active = form.get("active") == "1"
        back = account_url(here.account.id, "users", user_id)
        if not active and not confirmed(form):
            member = await console.call(
                members.get_member, ctx, viewer.actor, here.account.id, user_id
            )
            return console.confirm(
                request,
                viewer,
                account=here,
                section="users",
                title="Deactivate user",
                message=(
                    f"Deactivate {member.user.email}? They can't sign in or act in any "
                    "account until someone reactivates them."
                ),
                button="Deactivate",
                fields=form,
                cancel_url=back,
            )
        try:
            user = await console.call(
                members.set_user_active, ctx, viewer.actor, here.account.id, user_id, active
            )
        except DomainError as error:
            state = FormState.failed(form, error, ())
            return await page(
                request,
                viewer,
                here,
                user_id,
                failed={ACTIVE_FORM: state},
                status=http_status(error),
            )
        done = "reactivated" if active else "deactivated"
        return console.done(request, back, f"{user.email} was {done}.")

    async def remove(request: Request, viewer: Viewer, form: dict[str, str]) -> Response:
        here, user_id = await managing(request, viewer)
        member = await console.call(members.get_member, ctx, viewer.actor, here.account.id, user_id)
        email = member.user.email
        if not confirmed(form):
            return console.confirm(
                request,
                viewer,
                account=here,
                section="users",
                title="Remove user",
                message=(
                    f"Remove {email} from {here.account.name}? Their open invitations here "
                    "are withdrawn; their other accounts keep them."
                ),
                button="Remove",
                fields=form,
                cancel_url=account_url(here.account.id, "users", user_id),
            )
        try:
            await console.call(members.remove_member, ctx, viewer.actor, here.account.id, user_id)
        except DomainError as error:
            state = FormState.failed(form, error, ())
            return await page(
                request,
                viewer,
                here,
                user_id,
                failed={REMOVE_FORM: state},
                status=http_status(error),
            )
        return console.done(
            request,
            account_url(here.account.id, "users"),
            f"{email} was removed from {here.account.name}.",
        )

    async def make_owner(request: Request, viewer: Viewer, form: dict[str, str]) -> Response:
        here = await console.account(viewer, request.path_params["account_id"])
        user_id = str(request.path_params["user_id"])
        back = account_url(here.account.id, "users", user_id)
        member = await console.call(members.get_member, ctx, viewer.actor, here.account.id, user_id)
        email = member.user.email
        if not confirmed(form):
            return console.confirm(
                request,
                viewer,
                account=here,
                section="users",
                title="Make owner",
                message=(
                    f"Make {email} the owner of {here.account.name}? Only they can hand "
                    "ownership on after this; you stay an admin, and can then be demoted or "
                    "removed like any other admin."
                ),
                button="Make owner",
                fields=form,
                cancel_url=back,
            )
        try:
            changed, _ = await console.call(
                accounts.transfer_ownership, ctx, viewer.actor, here.account.id, user_id
            )
        except DomainError as error:
            state = FormState.failed(form, error, ())
            return await page(
                request,
                viewer,
                here,
                user_id,
                failed={OWNER_FORM: state},
                status=http_status(error),
            )
        return console.done(request, back, f"{email} now owns {changed.name}.")

    async def access_page(request: Request, viewer: Viewer) -> Response:
        here = await console.account(viewer, request.path_params["account_id"])
        user_id = str(request.path_params["user_id"])
        explanation = await console.call(
            access.explain_access, ctx, viewer.actor, here.account.id, user_id=user_id
        )
        return console.render(
            request,
            viewer,
            "console/user_access.html",
            account=here,
            section="users",
            explanation=explanation,
            user_url=account_url(here.account.id, "users", user_id),
        )

    # User ids are UUIDs: the `uuid` convertor leaves /users/bulk to the bulk page.
    base = "/hub/accounts/{account_id}/users/{user_id:uuid}"
    router.get(base)(console.page(user_page))
    router.get(base + "/access")(console.page(access_page))
    router.post(base + "/role")(console.action(change_role))
    router.post(base + "/active")(console.action(set_active))
    router.post(base + "/remove")(console.action(remove))
    router.post(base + "/owner")(console.action(make_owner))
