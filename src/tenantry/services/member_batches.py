"""Bulk changes: many users in one call and one transaction, with an error per item."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from tenantry.domain.audit import AuditEvent
from tenantry.domain.errors import DomainError, ErrorCode, InvalidInput, NotFound
from tenantry.domain.roles import Need
from tenantry.domain.users import User, normalize_email
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.members import AddedMember, NewMember, add_member_in
from tenantry.services.members import remove_member_in as _remove
from tenantry.services.outbox import enqueue_invitations
from tenantry.services.policy import active_admin_count, require
from tenantry.services.ports import AuditRepository, UserRepository


@dataclass(slots=True)
class ItemError:
    index: int
    email: str
    error: DomainError


@dataclass(slots=True)
class BatchAddResult:
    added: list[tuple[int, AddedMember]]
    errors: list[ItemError]


class BatchRejected(InvalidInput):
    """Nothing was changed because at least one item was refused; `items` says why each was."""

    def __init__(self, items: list[ItemError]) -> None:
        super().__init__(ErrorCode.INVALID_INPUT, "Some items were refused; nothing was changed.")
        self.items = items


def check_users_per_call(ctx: ServiceContext, count: int) -> None:
    """The limit of users one bulk add takes. `add_members_in_batch` checks it; a face may check it
    first too, before it parses each user, so that 21 malformed users get this error as well."""
    limit = ctx.settings.member_batch_max_items
    if count > limit:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            f"Exceeded the limit of adding {limit} users in a single API call.",
        )


def add_members_in_batch(
    ctx: ServiceContext, actor: Actor, account_id: str, items: Sequence[tuple[int, NewMember]]
) -> BatchAddResult:
    """Add each user that passes every rule; report the others. One transaction per call,
    one savepoint per user, so a refused user leaves no trace and a crash leaves nothing."""
    check_users_per_call(ctx, len(items))
    result = BatchAddResult([], [])
    with ctx.uow() as uow:
        account, actor_role = require(ctx, uow, actor, account_id, Need.MANAGE_USERS)
        apps = uow.apps.for_account(account_id)
        # For the rest of this transaction, e-mail lookups are answered from one prefetch and
        # audit events are held back, to be written together once every item was tried.
        audit = uow.audit
        uow.users = users = _PrefetchedUsers(uow.users, _valid_emails(items))
        uow.audit = events = _HeldEvents(audit)
        for index, spec in items:
            try:
                with uow.savepoint():
                    added = add_member_in(ctx, uow, actor, account, actor_role, spec, apps)
            except DomainError as error:
                events.drop()  # the savepoint took back the item's writes; its events go too
                result.errors.append(ItemError(index, str(spec.email), error))
            else:
                events.keep()
                users.remember(added.user)
                result.added.append((index, added))
        audit.add_many(events.kept)
        sent = [(a.invitation_token, a.user.email) for _, a in result.added if a.invitation_token]
        enqueue_invitations(ctx, uow, sent)
    return result


def remove_members_in_batch(
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
        admins = active_admin_count(ctx, uow, account)
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
                admins = active_admin_count(ctx, uow, account)
                removed.append(user.id)
            except NotFound:
                errors.append(
                    ItemError(index, raw, NotFound(ErrorCode.MEMBERSHIP_NOT_FOUND, field="email"))
                )
            except DomainError as error:
                errors.append(ItemError(index, raw, error))
        if errors:
            raise BatchRejected(errors)  # rolls the whole transaction back
    return removed


def _valid_emails(items: Sequence[tuple[int, NewMember]]) -> set[str]:
    """The call's e-mail addresses, normalized; the invalid ones are refused item by item."""
    emails = set()
    for _, spec in items:
        try:
            emails.add(normalize_email(spec.email))
        except DomainError:
            continue
    return emails


class _PrefetchedUsers:
    """`uow.users` for one bulk call: the users behind all of the call's e-mail addresses are
    read in one query up front; the ones the call creates are added as their items succeed."""

    def __init__(self, users: UserRepository, emails: Collection[str]) -> None:
        self._users = users
        self._emails = set(emails)
        self._found = users.find_by_emails(self._emails)

    def remember(self, user: User) -> None:
        self._found[user.email] = user

    def find_by_email(self, email: str) -> User | None:
        if email in self._emails:
            return self._found.get(email)
        return self._users.find_by_email(email)

    # The rest as the unit of work's own.

    def get(self, user_id: str) -> User:
        return self._users.get(user_id)

    def find(self, user_id: str) -> User | None:
        return self._users.find(user_id)

    def find_by_emails(self, emails: Collection[str]) -> dict[str, User]:
        return self._users.find_by_emails(emails)

    def find_many(self, user_ids: Collection[str]) -> dict[str, User]:
        return self._users.find_many(user_ids)

    def find_by_network_id(self, network_account_id: str, id_from_network: str) -> User | None:
        return self._users.find_by_network_id(network_account_id, id_from_network)

    def add(self, user: User) -> None:
        self._users.add(user)

    def add_many(self, users: Sequence[User]) -> None:
        self._users.add_many(users)

    def update(self, user: User) -> None:
        self._users.update(user)

    def delete(self, user_id: str) -> None:
        self._users.delete(user_id)


class _HeldEvents:
    """`uow.audit` for one bulk call: events are held while an item is tried, then kept or
    dropped with it, and the kept ones written by the caller in one statement."""

    def __init__(self, audit: AuditRepository) -> None:
        self._audit = audit
        self._pending: list[AuditEvent] = []
        self.kept: list[AuditEvent] = []

    def keep(self) -> None:
        self.kept += self._pending
        self._pending = []

    def drop(self) -> None:
        self._pending = []

    def add(self, event: AuditEvent) -> None:
        self._pending.append(event)

    def add_many(self, events: Sequence[AuditEvent]) -> None:
        self._pending += events

    def query(
        self,
        *,
        account_ids: Collection[str] | None,
        action: str | None = None,
        actor_id: str | None = None,
        target_id: str | None = None,
        face: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[AuditEvent]:
        return self._audit.query(
            account_ids=account_ids,
            action=action,
            actor_id=actor_id,
            target_id=target_id,
            face=face,
            since=since,
            until=until,
            limit=limit,
            before_id=before_id,
        )
