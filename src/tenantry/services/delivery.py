"""The links mails carry. Mail itself goes through the outbox (`services.outbox`).

An invitation mail carries a link of its own, with a second token made when the mail is sent
and that nobody but the mailbox ever sees (the first one may have been shown to the inviter,
as the CAPIG control plane returns it): accepting with it proves the address
(`identities.prove_address`).
"""

from __future__ import annotations

from urllib.parse import urlencode

from tenantry.services.context import ServiceContext


def invitation_link(ctx: ServiceContext, token: str, email: str) -> str:
    """The link CAPIG documents: `<base>/auth/verify/?token=…&et=inv&email=…`."""
    query = urlencode({"token": token, "et": "inv", "email": email}, safe="@")
    return f"{ctx.settings.base_url.rstrip('/')}/auth/verify/?{query}"


def password_reset_link(ctx: ServiceContext, token: str) -> str:
    """`<base>/auth/reset/<token>`, the page that sets the new password."""
    return f"{ctx.settings.base_url.rstrip('/')}/auth/reset/{token}"
