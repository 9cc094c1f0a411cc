"""Recording invitations that expired: an expiry is a change nobody makes, so tenantry itself
records it in the audit trail (`invitation.expire`), and so it becomes an
`invitation.expired` webhook event like every audited change.

Each server does this every minute (`record_expired_invitations`); a row is marked in the
same transaction, and rows another process is recording are skipped, so several processes
record each expiry once. Expiries older than the look-back (every server down for longer) are
not recorded.
"""

from __future__ import annotations

from datetime import timedelta

from tenantry.services.context import Actor, ServiceContext, record

LOOK_BACK = timedelta(days=7)
BATCH = 500
EXPIRY = Actor.system(face="system", label="invitation expiry")


def record_expired_invitations(ctx: ServiceContext) -> int:
    """Record the invitations that expired since they were last looked at; how many."""
    now = ctx.now()
    with ctx.uow() as uow:
        expired = uow.invitations.expired_unrecorded(now - LOOK_BACK, now, limit=BATCH)
        for invitation in expired:
            state = {"id": invitation.id, "expires_at": invitation.expires_at.isoformat()}
            record(
                ctx,
                uow,
                EXPIRY,
                "invitation.expire",
                target_type="user",
                target_id=invitation.user_id,
                account_id=invitation.account_id,
                before={"invitation": {**state, "status": "pending"}},
                after={"invitation": {**state, "status": "expired"}, "email": invitation.email},
            )
        uow.invitations.record_expiry([i.id for i in expired if i.id is not None], now)
        return len(expired)
