"""The bulk API's reads of an account's members, counted against its daily quota: a page in
the unit of work that reads it, every member after a count in a unit of its own.

Admitting a call in a unit of its own (`quotas.admit_batch_call`) and then reading took two
units and two checks of the caller's rights in the account, each reading the account's chain:
for a page of 50 members, a quarter of the request's time on SQLite and more on PostgreSQL.
Here the count, the check and the read share one unit (one that writes, for the count), and
the read's check takes the chain the count's check read. A read that fails undoes its count
with the unit.

The unit holds what the count wrote until the page is read: on PostgreSQL the counter's row,
which a quota of calls a day per account makes no contention; on SQLite the database's one
writer, so other writes wait for the read. A page is at most `MAX_PAGE` members (a few
milliseconds); every member of an account, up to `LIST_CAP` and read in tens of
milliseconds, is read after a count in its own unit (`admit_batch_call`), as before, in a
read-only unit that checks its right on the chain as it reads.
"""

from __future__ import annotations

from tenantry.services import quotas
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.members import ListedMember, MemberPage, list_all_members, members_page_in
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
    ctx: ServiceContext, actor: Actor, *, at_most: int
) -> tuple[Quota, list[ListedMember]]:
    """The call counted in a unit of its own, then every member of the actor's own account,
    at most one beyond `at_most` (`list_all_members`)."""
    quota = quotas.admit_batch_call(ctx, actor)
    return quota, list_all_members(ctx, actor, quota.account_id, at_most=at_most)
