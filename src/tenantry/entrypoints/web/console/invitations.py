"""Invitations: an account's invitations (who, for which role, in what state, mailed or not),
resent or revoked by those who manage users.

A new link is mailed when the deployment mails; when it does not, the page shows the link once,
to be passed on by hand (`invitation_made`, shared with the invite form).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tenantry.domain.errors import DomainError, ErrorCode, Forbidden
from tenantry.domain.invitations import InvitationStatus
from tenantry.entrypoints.http.errors import http_status
from tenantry.entrypoints.web.console.base import (
    AccountView,
    Console,
    Viewer,
    account_url,
    confirmed,
)
from tenantry.services import invitations, member_browsing
from tenantry.services.delivery import invitation_link
from tenantry.services.invitations import InvitationView

LIMIT = 200
STATUS_LABELS = {
    InvitationStatus.PENDING: "Pending",
    InvitationStatus.ACCEPTED: "Accepted",
    InvitationStatus.EXPIRED: "Expired",
    InvitationStatus.REVOKED: "Revoked",
}


@dataclass(frozen=True, slots=True)
class InvitationRow:
    email: str
    role_name: str
    status: InvitationStatus
    status_label: str
    invited_by: str
    expires_at: datetime
    delivered: str
    resendable: bool
    revocable: bool


def invitation_rows(found: list[InvitationView], role_names: dict[str, str]) -> list[InvitationRow]:
    """Newest first. Only each address's newest invitation can be resent (resending withdraws
    the older ones anyway), unless it was accepted; only pending ones can be revoked."""
    seen: set[str] = set()
    rows = []
    for view in found:
        invitation = view.invitation
        newest = invitation.email not in seen
        seen.add(invitation.email)
        role_key = invitation.role_key or ""
        rows.append(
            InvitationRow(
                email=invitation.email,
                role_name=role_names.get(role_key, role_key),
                status=view.status,
                status_label=STATUS_LABELS[view.status],
                invited_by=invitation.invited_by,
                expires_at=invitation.expires_at,
                delivered={True: "Yes", False: "Failed", None: "Not mailed"}[invitation.delivered],
                resendable=newest and view.status is not InvitationStatus.ACCEPTED,
                revocable=view.status is InvitationStatus.PENDING,
            )
        )
    return rows


def invitation_made(
    console: Console, request: Request, viewer: Viewer, here: AccountView, token: str, email: str
) -> Response:
    """After an invitation was made: it was mailed (back to the invitations, saying so), or
    there is no mail here, and the page shows the link to pass on."""
    if console.ctx.mailer is not None:
        return console.done(
            request, account_url(here.account.id, "invitations"), f"Invitation sent to {email}."
        )
    return console.render(
        request,
        viewer,
        "console/invited.html",
        account=here,
        section="invitations",
        email=email,
        link=invitation_link(console.ctx, token, email),
    )


def add_invitation_pages(router: APIRouter, console: Console) -> None:
    ctx = console.ctx

    async def page(
        request: Request,
        viewer: Viewer,
        here: AccountView,
        *,
        refused: str | None = None,
        status: int = 200,
    ) -> Response:
        found = await console.call(
            invitations.list_invitations, ctx, viewer.actor, here.account.id, limit=LIMIT
        )
        roles = await console.call(
            member_browsing.account_roles, ctx, viewer.actor, here.account.id
        )
        names = {role.key: role.display_name for role in roles}
        return console.render(
            request,
            viewer,
            "console/invitations.html",
            account=here,
            section="invitations",
            status=status,
            rows=invitation_rows(found, names),
            limit=LIMIT,
            refused=refused,
        )

    async def invitations_page(request: Request, viewer: Viewer) -> Response:
        here = await console.account(viewer, request.path_params["account_id"])
        return await page(request, viewer, here)

    async def managing(request: Request, viewer: Viewer) -> AccountView:
        here = await console.account(viewer, request.path_params["account_id"])
        if not here.may_manage_users:
            raise Forbidden(ErrorCode.FORBIDDEN)
        return here

    async def resend(request: Request, viewer: Viewer, form: dict[str, str]) -> Response:
        here = await managing(request, viewer)
        email = form.get("email", "").strip()
        try:
            token = await console.call(
                invitations.renew_invitation, ctx, viewer.actor, here.account.id, email
            )
        except DomainError as error:
            return await page(
                request, viewer, here, refused=error.message, status=http_status(error)
            )
        return invitation_made(console, request, viewer, here, token, email.lower())

    async def revoke(request: Request, viewer: Viewer, form: dict[str, str]) -> Response:
        here = await managing(request, viewer)
        email = form.get("email", "").strip()
        back = account_url(here.account.id, "invitations")
        if not confirmed(form):
            return console.confirm(
                request,
                viewer,
                account=here,
                section="invitations",
                title="Revoke invitation",
                message=(
                    f"Revoke the invitation to {email}? Its link stops working; they stay a "
                    "pending user until you resend it or remove them."
                ),
                button="Revoke",
                fields=form,
                cancel_url=back,
            )
        try:
            count = await console.call(
                invitations.revoke_invitation, ctx, viewer.actor, here.account.id, email
            )
        except DomainError as error:
            return await page(
                request, viewer, here, refused=error.message, status=http_status(error)
            )
        text = (
            f"The invitation to {email} was revoked."
            if count
            else f"{email} had no open invitation to revoke."
        )
        return console.done(request, back, text)

    base = "/hub/accounts/{account_id}/invitations"
    router.get(base)(console.page(invitations_page))
    router.post(base + "/resend")(console.action(resend))
    router.post(base + "/revoke")(console.action(revoke))
