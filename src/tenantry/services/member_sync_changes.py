"""The membership changes of a network's call, handed to the membership changes service.

`member_sync` checks the whole list first, so that a call learns about every problem at once
with its place in the input, and writes the users' own rows (their profiles, the addresses
they give up). The joins, role changes and removals then go to the one service that makes
membership changes (`membership_changes.change_members_in`), in the caller's transaction,
all or nothing: it decides each of them again with the same rules, and writes them.

The service counts the account's admins across its batch, so the batch is ordered for that
count to be judged on the final set, as `check_keeps_an_admin` judged it: the joins and the
changes to an admin role first, then the other role changes, then the removals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tenantry.domain.accounts import Account
from tenantry.domain.errors import DomainError, Forbidden
from tenantry.domain.managed import InvalidNetworkInput, ManagedUserSpec, Path, Problem
from tenantry.domain.memberships import Membership
from tenantry.domain.roles import Role
from tenantry.domain.users import User
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.membership_changes import change_members_in
from tenantry.services.membership_commands import (
    AddedMember,
    BatchRejected,
    ChangeRole,
    MembershipChange,
    NewMember,
    RemoveMember,
)
from tenantry.services.ports import UnitOfWork

Join = tuple[ManagedUserSpec, User | None, Role]
"""A listed user who joins the account: the user as they will be (None: a new one)."""

RoleChange = tuple[ManagedUserSpec, Membership, Role]
"""A listed member whose role changes: the membership with its new role, and that role."""


@dataclass(slots=True)
class MembershipPlan:
    """The membership changes of a call, as `member_sync` planned them."""

    joins: list[Join] = field(default_factory=list)
    role_changes: list[RoleChange] = field(default_factory=list)
    removals: list[str] = field(default_factory=list)  # user ids


@dataclass(slots=True)
class _Batch:
    changes: list[MembershipChange] = field(default_factory=list)
    specs: list[ManagedUserSpec | None] = field(default_factory=list)  # None: a removal

    def add(self, change: MembershipChange, spec: ManagedUserSpec | None) -> None:
        self.changes.append(change)
        self.specs.append(spec)


def change_memberships(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    account: Account,
    actor_role: Role,
    plan: MembershipPlan,
    base: Path,
) -> list[tuple[ManagedUserSpec | None, AddedMember]]:
    """Make the planned changes through the membership changes service: each made change
    with the listed user it is about (None for a removal), joins first in listing order.
    The call's own audit event says what changed, so the service records none per change.
    Should the service refuse a change that the checks let through, the call is refused
    as the checks would have refused it."""
    batch = _batch(plan)
    if not batch.changes:
        return []
    try:
        report = change_members_in(
            ctx,
            uow,
            actor,
            account,
            actor_role,
            batch.changes,
            all_or_nothing=True,
            audited=False,
        )
    except BatchRejected as refused:
        raise _refusal(refused, batch, base) from None
    return [(batch.specs[index], made) for index, made in report.applied]


def _batch(plan: MembershipPlan) -> _Batch:
    batch = _Batch()
    for spec, user, role in plan.joins:
        batch.add(_new_member(spec, user, role), spec)
    # Changes to an admin role before the others: a demotion is judged once every new
    # admin counts.
    ordered = sorted(plan.role_changes, key=lambda change: not change[2].is_admin_like)
    for spec, membership, role in ordered:
        batch.add(ChangeRole(membership.user_id, role.key), spec)
    for user_id in plan.removals:
        batch.add(RemoveMember(user_id=user_id), None)
    return batch


def _new_member(spec: ManagedUserSpec, user: User | None, role: Role) -> NewMember:
    """A user of the network joining: one who exists, by the address they will have (their
    row is written before the service reads it), or a new network-managed user as listed,
    active at once inside the network."""
    if user is not None:
        return NewMember(user.email, role.key)
    return NewMember(
        email=spec.email,
        role_key=role.key,
        first_name=spec.first_name,
        last_name=spec.last_name,
        contact_country_code=spec.contact_country_code,
        contact_phone_number=spec.contact_phone_number,
        network_managed=True,
        id_from_network=spec.id_from_network,
        notifications=dict(spec.notifications),
        notification_emails=list(spec.emails),
        oauth_refresh_token=spec.oauth_refresh_token,
    )


def _refusal(refused: BatchRejected, batch: _Batch, base: Path) -> DomainError:
    """What a refusal by the service reads as on the network's face: a forbidden change
    as it is, every other refusal as a problem at its place in the input."""
    for item in refused.items:
        if isinstance(item.error, Forbidden):
            return item.error
    problems = [
        Problem(
            _where(batch.changes[item.index], batch.specs[item.index], item.error, base),
            item.error.message,
            item.error.code,
        )
        for item in refused.items
    ]
    return InvalidNetworkInput(problems)


def _where(
    change: MembershipChange, spec: ManagedUserSpec | None, error: DomainError, base: Path
) -> Path:
    if spec is None:
        return base
    if isinstance(change, ChangeRole) or error.field == "role":
        return (*spec.path, "role")
    if error.field == "email" and spec.email_paths:
        return spec.email_paths[0]
    named = error.field or ""
    if named in ("first_name", "last_name", "id_from_network"):
        return (*spec.path, named)
    return spec.path
