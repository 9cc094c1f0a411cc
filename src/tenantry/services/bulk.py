"""Bulk changes: many users in one call and one transaction, with an error per item."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tenantry.domain.errors import DomainError, ErrorCode, InvalidInput, NotFound
from tenantry.domain.roles import Need
from tenantry.domain.users import normalize_email
from tenantry.services.authz import require
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.delivery import deliver_invitations
from tenantry.services.members import AddedMember, NewMember, _active_admins, add_member_in
from tenantry.services.members import remove_member_in as _remove


@dataclass(slots=True)
class ItemError:
    index: int
    email: str
    error: DomainError


@dataclass(slots=True)
class BulkAddResult:
    added: list[tuple[int, AddedMember]]
    errors: list[ItemError]


class BulkRejected(InvalidInput):
    """Nothing was changed because at least one item was refused; `items` says why each was."""

    def __init__(self, items: list[ItemError]) -> None:
        super().__init__(ErrorCode.INVALID_INPUT, "Some items were refused; nothing was changed.")
        self.items = items


def bulk_add_members(
    ctx: ServiceContext, actor: Actor, account_id: str, items: Sequence[tuple[int, NewMember]]
) -> BulkAddResult:
    """Add each user that passes every rule; report the others. One transaction per call,
    one savepoint per user, so a refused user leaves no trace and a crash leaves nothing."""
    limit = ctx.settings.bulk_max_users_per_call
    if len(items) > limit:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            f"Exceeded the limit of adding {limit} users in a single API call.",
        )
    result = BulkAddResult([], [])
    with ctx.uow() as uow:
        account, actor_role = require(ctx, uow, actor, account_id, Need.MANAGE_USERS)
        apps = uow.apps.for_account(account_id)
        for index, spec in items:
            try:
                with uow.savepoint():
                    added = add_member_in(ctx, uow, actor, account, actor_role, spec, apps)
            except DomainError as error:
                result.errors.append(ItemError(index, str(spec.email), error))
            else:
                result.added.append((index, added))
    sent = [(a.invitation_token, a.user.email) for _, a in result.added if a.invitation_token]
    deliver_invitations(ctx, sent)
    return result


def bulk_remove_members(
    ctx: ServiceContext, actor: Actor, account_id: str, emails: Sequence[str]
) -> list[str]:
    """Remove users by e-mail, all or nothing: any refused e-mail refuses the whole call.

    Returns the ids of the removed users.
    """
    if not emails or all(not e.strip() for e in emails):
        raise InvalidInput(ErrorCode.INVALID_INPUT, "Invalid input")
    errors: list[ItemError] = []
    removed: list[str] = []
    with ctx.uow() as uow:
        account, actor_role = require(ctx, uow, actor, account_id, Need.MANAGE_USERS)
        admins = _active_admins(ctx, uow, account)
        normalized: list[tuple[int, str, str | None]] = []
        for index, raw in enumerate(emails):
            try:
                normalized.append((index, raw, normalize_email(raw)))
            except DomainError as error:
                errors.append(ItemError(index, raw, error))
        users = uow.users.find_by_emails([e for _, _, e in normalized if e])
        for index, raw, email in normalized:
            user = users.get(email or "")
            try:
                if user is None:
                    raise NotFound(ErrorCode.MEMBERSHIP_NOT_FOUND, field="email")
                with uow.savepoint():
                    _remove(ctx, uow, actor, account, actor_role, user.id, admins)
                admins = _active_admins(ctx, uow, account)
                removed.append(user.id)
            except NotFound:
                errors.append(
                    ItemError(index, raw, NotFound(ErrorCode.MEMBERSHIP_NOT_FOUND, field="email"))
                )
            except DomainError as error:
                errors.append(ItemError(index, raw, error))
        if errors:
            raise BulkRejected(errors)  # rolls the whole transaction back
    return removed
