"""Daily call quotas: how many calls an account's credentials may make to an API in a UTC day.

The count lives in the database (one atomic upsert per call), so the quota holds however many
server processes or hosts share the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from tenantry.domain.accounts import Account
from tenantry.domain.errors import DomainError, ErrorCode, Forbidden, Throttled
from tenantry.domain.roles import Need
from tenantry.services import metrics
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.policy import require
from tenantry.services.ports import UnitOfWork

MEMBER_BATCH_CALLS = "member-batch-calls"


@dataclass(frozen=True, slots=True)
class Quota:
    """Where an account stands against its daily quota, after the call being made."""

    account_id: str
    limit: int
    used: int
    resets_at: datetime

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def reset_epoch(self) -> int:
        return int(self.resets_at.timestamp())


def quota_of(error: DomainError) -> Quota | None:
    """The quota an error raised by `admit_batch_call` carries, if any."""
    quota = error.details.get("quota")
    return quota if isinstance(quota, Quota) else None


def admit_batch_call(ctx: ServiceContext, actor: Actor) -> Quota:
    """Admit one call that changes members in a batch for the actor's own account (the one its
    credentials belong to, which the call acts on), and count it, in a unit of work of its own:
    the count stays whatever the call then does.

    Only the account's admins (who manage users and admins) and its API accounts may use that
    API; anyone else is Forbidden and uses none of the quota. Every admitted call counts, the
    ones that then fail included (but for a page read in the count's own unit, whose count a
    failed read undoes: `counted_reads`); once `settings.member_batch_calls_per_day` calls
    were made in the current UTC day, further calls are Throttled until 00:00 UTC, and not
    counted. Both errors carry the `Quota` in `details["quota"]` (see `quota_of`).
    """
    with ctx.uow() as uow:
        quota, _ = count_batch_call(ctx, uow, actor)
    return quota


def count_batch_call(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor
) -> tuple[Quota, Sequence[Account]]:
    """`admit_batch_call` within the caller's unit of work (which must be one that writes), for
    a read served in the same unit: the quota, and the chain of the account the actor was
    checked in, which the read's own check may take (`policy.require(chain=...)`). The count
    is then undone with the unit if the read fails."""
    limit = ctx.settings.member_batch_calls_per_day
    now = ctx.now().astimezone(UTC)
    resets_at = datetime.combine(now.date() + timedelta(days=1), time(), UTC)
    window = now.date().isoformat()
    account_id = actor.home_account_id
    if account_id is None:
        # Credentials that belong to no account (people, the operator) have no such quota.
        raise Forbidden(ErrorCode.FORBIDDEN)
    key = f"{MEMBER_BATCH_CALLS}:{account_id}"
    chain = uow.accounts.chain(account_id)
    try:
        require(ctx, uow, actor, account_id, Need.MANAGE_USERS, Need.MANAGE_ADMINS, chain=chain)
    except Forbidden as error:
        quota = Quota(account_id, limit, uow.counters.get(key, window), resets_at)
        # Its own code (a deactivated account says so), with the quota for the headers.
        raise Forbidden(error.code, error.message, field=error.field, quota=quota) from None
    # Kept a day past the window, so yesterday's figure can still be looked at.
    used = uow.counters.increment(key, window, resets_at + timedelta(days=1))
    quota = Quota(account_id, limit, used, resets_at)
    if used > limit:
        metrics.QUOTA_REFUSALS.inc()
        # Raised within the unit, so that the refused call is not counted.
        raise Throttled(
            ErrorCode.QUOTA_EXCEEDED,
            f"Exceeded the limit of {limit} API calls a day for this account (Get users, Add "
            "users, Delete users and Get roles together). The limit resets at 00:00 UTC.",
            quota=quota,
        )
    return quota, chain
