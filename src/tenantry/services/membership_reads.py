"""What a batch of membership changes reads about the people it names, before it decides
any change: the users (by address through the unit of work's `prefetch_users`, by id in one
query), their memberships in every account, and, for those who join while still pending
elsewhere, their open invitations (which the multi-account rules weigh). A constant number of
statements, whatever the size of the batch."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from tenantry.domain.accounts import Account
from tenantry.domain.errors import DomainError
from tenantry.domain.invitations import Invitation
from tenantry.domain.memberships import Membership, MembershipStatus
from tenantry.domain.users import User, UserStatus, normalize_email
from tenantry.services.membership_commands import ChangeRole, MembershipChange, NewMember
from tenantry.services.ports import UnitOfWork


@dataclass(slots=True)
class PeopleRead:
    """What a batch read ahead about the people its changes name."""

    by_email: dict[str, User]
    by_id: dict[str, User]
    here: dict[str, Membership]  # their memberships in the account, as the batch leaves them
    elsewhere: dict[str, list[tuple[Membership, Account]]]
    invitations: dict[str, list[Invitation]]


def read_people(
    uow: UnitOfWork, account: Account, changes: Sequence[MembershipChange]
) -> PeopleRead:
    """The people the changes name, their memberships everywhere and, for those who join and
    are still pending elsewhere, their open invitations."""
    joining: set[str] = set()
    named: set[str] = set()
    ids: set[str] = set()
    for change in changes:
        address = change.email if not isinstance(change, ChangeRole) else None
        if address is None:
            ids.add(user_id_of(change))
            continue
        try:
            email = normalize_email(address)
        except DomainError:
            continue  # refused with the change itself
        named.add(email)
        if isinstance(change, NewMember):
            joining.add(email)
    by_email = uow.prefetch_users(named) if named else {}
    by_id = {user.id: user for user in by_email.values()}
    missing = ids - by_id.keys()
    if missing:
        by_id.update(uow.users.find_many(missing))
    here: dict[str, Membership] = {}
    elsewhere: dict[str, list[tuple[Membership, Account]]] = defaultdict(list)
    for user_id, held in (uow.memberships.everywhere(by_id) if by_id else {}).items():
        for membership, where in held:
            if where.id == account.id:
                here[user_id] = membership
            else:
                elsewhere[user_id].append((membership, where))
    gated = [
        user.id
        for email, user in by_email.items()
        if email in joining
        and user.status is UserStatus.PENDING
        and any(m.status is MembershipStatus.PENDING for m, _ in elsewhere.get(user.id, []))
    ]
    invitations = uow.invitations.open_for_users(gated) if gated else {}
    return PeopleRead(by_email, by_id, here, dict(elsewhere), dict(invitations))


def user_id_of(change: MembershipChange) -> str:
    """The user id a change names ("" for an add, which names an address)."""
    return "" if isinstance(change, NewMember) else change.user_id or ""
