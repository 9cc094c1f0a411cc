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

from tenantry.domain.errors import DomainError
from tenantry.domain.invitations import InvitationStatus
from tenantry.domain.roles import Need
from tenantry.entrypoints.http.errors import http_status
from tenantry.entrypoints.web.console.base import (
    AccountView,
    Console,
    ConsolePages,
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
    pages = InvitationPages(console)
    base = "/hub/accounts/{account_id}/invitations"
    router.get(base)(console.page(pages.invitations_page))
    router.post(base + "/resend")(console.action(pages.resend))
    router.post(base + "/revoke")(console.action(pages.revoke))


class InvitationPages(ConsolePages):
    section = "invitations"

    async def invitations_page(self, request: Request, viewer: Viewer) -> Response:
        here = await self.account(request, viewer)
        return await self._page(request, viewer, here)

    async def resend(self, request: Request, viewer: Viewer, form: dict[str, str]) -> Response:
        here = await self.account(request, viewer, Need.MANAGE_USERS)
        email = form.get("email", "").strip()
        try:
            token = await self.console.call(
                invitations.renew_invitation, self.ctx, viewer.actor, here.account.id, email
            )
        except DomainError as error:
            return await self._page(
                request, viewer, here, refused=error.message, status=http_status(error)
            )
        return invitation_made(self.console, request, viewer, here, token, email.lower())

    async def revoke(self, request: Request, viewer: Viewer, form: dict[str, str]) -> Response:
        here = await self.account(request, viewer, Need.MANAGE_USERS)
        email = form.get("email", "").strip()
        back = account_url(here.account.id, "invitations")
        if not confirmed(form):
            return self.confirm(
                request,
                viewer,
                here,
                form,
                title="Revoke invitation",
                message=(
                    f"Revoke the invitation to {email}? Its link stops working; they stay a "
                    "pending user until you resend it or remove them."
                ),
                button="Revoke",
                cancel_url=back,
            )
        try:
            count = await self.console.call(
                invitations.revoke_invitation, self.ctx, viewer.actor, here.account.id, email
            )
        except DomainError as error:
            return await self._page(
                request, viewer, here, refused=error.message, status=http_status(error)
            )
        text = (
            f"The invitation to {email} was revoked."
            if count
            else f"{email} had no open invitation to revoke."
        )
        return self.console.done(request, back, text)

    async def _page(
        self,
        request: Request,
        viewer: Viewer,
        here: AccountView,
        *,
        refused: str | None = None,
        status: int = 200,
    ) -> Response:
        found = await self.console.call(
            invitations.list_invitations, self.ctx, viewer.actor, here.account.id, limit=LIMIT
        )
        roles = await self.console.call(
            member_browsing.account_roles, self.ctx, viewer.actor, here.account.id
        )
        names = {role.key: role.display_name for role in roles}
        return self.console.render(
            request,
            viewer,
            "console/invitations.html",
            account=here,
            section=self.section,
            status=status,
            rows=invitation_rows(found, names),
            limit=LIMIT,
            refused=refused,
        )
