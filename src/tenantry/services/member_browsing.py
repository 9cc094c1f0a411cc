"""Browsing an account's members as people look through them: searched, filtered by role and
state, sorted by any column and paged by number (the console's users list).

`members.list_members` pages by cursor in joining order, which is what scripts want; a person
wants "page 3 of 12, sorted by last login", so this pages by offset and counts the matches.
"""

from __future__ import annotations

from dataclasses import dataclass

from tenantry.domain.memberships import Membership, MembershipStatus
from tenantry.domain.roles import Need, Role
from tenantry.domain.users import User, UserStatus
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.members import Member, search_text
from tenantry.services.policy import require
from tenantry.services.policy_roles import roles_of
from tenantry.services.ports import MemberQuery, MemberSort, MemberState, UnitOfWork

MAX_PAGE_SIZE = 200


@dataclass(slots=True)
class MemberBrowse:
    """One page of members, how many match in all, and the account's roles (to name, filter
    and grant them)."""

    items: list[Member]
    total: int
    page: int
    page_size: int
    roles: list[Role]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def member_state(user: User, membership: Membership) -> MemberState:
    """Deactivated (the person, everywhere) wins over pending (this membership)."""
    if user.status is UserStatus.DEACTIVATED:
        return MemberState.DEACTIVATED
    if membership.status is MembershipStatus.PENDING:
        return MemberState.PENDING
    return MemberState.ACTIVE


def browse_members(
    ctx: ServiceContext,
    actor: Actor,
    account_id: str,
    *,
    search: str | None = None,
    role_key: str | None = None,
    state: MemberState | None = None,
    sort: MemberSort = MemberSort.JOINED,
    descending: bool = False,
    page: int = 1,
    page_size: int = 50,
) -> MemberBrowse:
    """A page of an account's members (1 is the first), matching `search` (in e-mail address
    or name), `role_key` and `state`, in the order of `sort`; the user id breaks ties.

    Costs the same few statements for ten members or ten thousand: the page, and a count.
    """
    page = max(1, page)
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    search = search_text(search)
    with ctx.uow(readonly=True) as uow:
        roles = _account_roles(ctx, uow, actor, account_id)
        by_key = {role.key: role for role in roles}
        query = MemberQuery(
            search=search,
            role_key=role_key or None,
            state=state,
            sort=sort,
            descending=descending,
            role_order=tuple(by_key),
        )
        rows, total = uow.memberships.browse(
            account_id, query, limit=page_size, offset=(page - 1) * page_size
        )
    items = [Member(u, m, by_key.get(m.role_key, ctx.roles.admin)) for u, m in rows]
    return MemberBrowse(items, total, page, page_size, roles)


def account_roles(ctx: ServiceContext, actor: Actor, account_id: str) -> list[Role]:
    """Every role usable in the account (predefined for its kind, and its own), by name."""
    with ctx.uow(readonly=True) as uow:
        return _account_roles(ctx, uow, actor, account_id)


def _account_roles(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, account_id: str
) -> list[Role]:
    account, _ = require(ctx, uow, actor, account_id, Need.READ_ACCOUNT)
    return sorted(
        roles_of(ctx, uow, account).values(), key=lambda r: (r.display_name.lower(), r.key)
    )
