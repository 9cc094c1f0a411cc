"""The membership changes service: adds, role changes and removals in one account, one or many
at once, in one unit of work, with one result per change.

Every face that changes memberships comes through here (a console form, a CSV, an API call of
one user or of twenty, an identity provider's group, a network's list of its users), so the
rules of a membership are decided in one place, with the policy's checks (`services.policy`):
the role exists for the account and the actor may grant it; nobody acts on a member above
them; the owner keeps the account and their role; the last active admin stays, counted here
and kept counting across the changes of a batch; a person who has an identity already joins
pending, with an invitation (consent); the multi-account rules; the scope fits the role and
the account's apps.

Two ways to take refusals: item by item (a refused change leaves no trace, the others are
made), or `all_or_nothing` (any refusal raises `BatchRejected`, listing each, and nothing is
made). The statements sent do not grow with the size of the batch (`membership_batch`).
"""

from __future__ import annotations

from collections.abc import Sequence

from tenantry.domain.accounts import Account
from tenantry.domain.errors import DomainError, ErrorCode, InvalidInput
from tenantry.domain.roles import Need, Role
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.membership_batch import MembershipBatch
from tenantry.services.membership_commands import (
    AddedMember,
    BatchRejected,
    ChangeReport,
    ItemError,
    MembershipChange,
)
from tenantry.services.policy import require
from tenantry.services.ports import UnitOfWork


def apply_membership_changes(
    ctx: ServiceContext,
    actor: Actor,
    account_id: str,
    changes: Sequence[MembershipChange],
    *,
    all_or_nothing: bool = False,
    max_items: int | None = None,
) -> ChangeReport:
    """Make the changes in the account, in their order, in one transaction: each that passes
    every rule (or, `all_or_nothing`, all of them or none). More than `max_items` changes are
    refused whole."""
    if max_items is not None:
        check_users_per_call(len(changes), max_items)
    with ctx.uow() as uow:
        account, actor_role = require(ctx, uow, actor, account_id, Need.MANAGE_USERS)
        return change_members_in(
            ctx, uow, actor, account, actor_role, changes, all_or_nothing=all_or_nothing
        )


def change_members_in(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    account: Account,
    actor_role: Role,
    changes: Sequence[MembershipChange],
    *,
    all_or_nothing: bool = False,
    audited: bool = True,
) -> ChangeReport:
    """`apply_membership_changes` inside the caller's transaction, for an actor already known
    to manage the account's users with `actor_role`. A caller that records one audit event
    for the whole call, with every member before and after, passes `audited=False`; each
    change then records none of its own."""
    report = ChangeReport()
    with uow.defer_audit():
        batch = MembershipBatch.load(ctx, uow, actor, account, actor_role, changes, audited=audited)
        for index, change in enumerate(changes):
            try:
                made = batch.apply(change)
            except DomainError as error:
                report.errors.append(ItemError(index, batch.address_of(change), error))
            else:
                report.applied.append((index, made))
        if report.errors and all_or_nothing:
            raise BatchRejected(report.errors)
        batch.write()
    return report


def change_member_in(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    account: Account,
    actor_role: Role,
    change: MembershipChange,
) -> AddedMember:
    """One change inside the caller's transaction: what it made, or its refusal raised."""
    return change_members_in(ctx, uow, actor, account, actor_role, [change]).one()


def check_users_per_call(count: int, limit: int) -> None:
    """The limit of users one call adds; a face may check it before it reads each user, so
    that too many malformed users get this error as well."""
    if count > limit:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            f"Exceeded the limit of adding {limit} users in a single API call.",
        )
