"""The bulk API's reads of an account's members, counted against its daily quota in the unit
of work that reads them.

Admitting a call in a unit of its own (`quotas.admit_batch_call`) and then reading took two
units and two checks of the caller's rights in the account, each reading the account's chain:
for a page of 50 members, a quarter of the request's time on SQLite and more on PostgreSQL.
Here the count, the check and the read share one unit (one that writes, for the count), and
the read's check takes the chain the count's check read. A read that fails undoes its count
with the unit; the counter's row stays locked until the read is done, which a quota of calls
a day per account makes no contention.
"""

from __future__ import annotations

from tenantry.services import quotas
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.members import (
    MAX_PAGE,
    ListedMember,
    MemberPage,
    every_member_in,
    members_page_in,
)
from tenantry.services.ports import MemberCursor
from tenantry.services.quotas import Quota


def counted_members_page(
    ctx: ServiceContext, actor: Actor, *, limit: int, after: MemberCursor | None = None
) -> tuple[Quota, MemberPage]:
    """The call counted, then a page of the actor's own account's members (`list_members`)."""
    with ctx.uow() as uow:
        quota, chain = quotas.count_batch_call(ctx, uow, actor)
        page = members_page_in(
            ctx, uow, actor, quota.account_id, limit=limit, after=after, chain=chain
        )
    return quota, page


def counted_every_member(
    ctx: ServiceContext, actor: Actor, *, at_most: int, page_size: int = MAX_PAGE
) -> tuple[Quota, list[ListedMember]]:
    """The call counted, then every member of the actor's own account, with at most one
    beyond `at_most` (`list_all_members`)."""
    with ctx.uow() as uow:
        quota, chain = quotas.count_batch_call(ctx, uow, actor)
        everyone = every_member_in(
            ctx, uow, actor, quota.account_id, page_size=page_size, at_most=at_most, chain=chain
        )
    return quota, everyone
